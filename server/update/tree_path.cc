#include "update/tree_path.h"

#include "document/status.h"

namespace micromongo::update {

void Slot::Assign(Value v) {
  if (value != nullptr) {
    *value = std::move(v);
  } else if (doc != nullptr) {
    doc->Append(key, std::move(v));
    value = doc->Find(key);
  } else if (array != nullptr) {
    while (array->size() < index) array->emplace_back(nullptr);
    array->push_back(std::move(v));
    value = &array->back();
  }
}

void Slot::Remove() {
  if (value == nullptr) return;
  if (doc != nullptr) {
    doc->Remove(key);
  } else if (array != nullptr) {
    *value = nullptr;
  }
  value = nullptr;
}

absl::StatusOr<Slot> Resolve(Document* root, const query::FieldPath& path, bool create) {
  Document* doc = root;
  Array* array = nullptr;
  for (size_t i = 0;; ++i) {
    std::string_view part = path.part(i);
    bool last = i + 1 == path.size();
    Value* next = nullptr;
    Slot slot;
    if (doc != nullptr) {
      next = doc->Find(part);
      slot.doc = doc;
      slot.key = std::string(part);
    } else {
      std::optional<size_t> index = path.index(i);
      if (!index) {
        if (!create) return Slot{};
        return MongoError(kPathNotViable,
                          StrCat("Cannot create field '", part, "' in element {",
                                 path.part(i - 1), ": [...]}"));
      }
      slot.array = array;
      slot.index = *index;
      if (*index < array->size()) next = &(*array)[*index];
    }
    slot.value = next;
    if (last) return slot;
    if (next == nullptr) {
      if (!create) return Slot{};
      slot.Assign(Document());
      next = slot.value;
    }
    if (auto* d = std::get_if<Document>(&next->variant())) {
      doc = d;
      array = nullptr;
    } else if (auto* a = std::get_if<Array>(&next->variant())) {
      array = a;
      doc = nullptr;
    } else {
      if (!create) return Slot{};
      return MongoError(kPathNotViable,
                        StrCat("Cannot create field '", path.part(i + 1), "' in element {",
                               part, ": ", next->ToJson(), "}"));
    }
  }
}

}  // namespace micromongo::update
