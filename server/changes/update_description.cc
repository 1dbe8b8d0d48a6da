#include "changes/update_description.h"

#include <variant>
#include <vector>

#include "absl/container/inlined_vector.h"

#include "document/builder.h"
#include "document/compare.h"

namespace micromongo::changes {
namespace {

// One path component: a field name or an array index.
using Component = std::variant<std::string, int32_t>;
using Path = std::vector<Component>;

std::string Dotted(const Path& path) {
  std::string out;
  for (const Component& c : path) {
    if (!out.empty()) out.push_back('.');
    if (const auto* s = std::get_if<std::string>(&c)) out += *s;
    else out += std::to_string(std::get<int32_t>(c));
  }
  return out;
}

bool Identical(const bson::ValueView& a, const bson::ValueView& b) {
  return a.type == b.type && a.size == b.size && std::string_view(a.data, a.size) == std::string_view(b.data, b.size);
}

struct Diff {
  const std::vector<WholePath>* whole = nullptr;
  std::vector<std::pair<Path, bson::ValueView>> updated;
  std::vector<Path> removed;
  std::vector<std::pair<Path, int32_t>> truncated;

  // Sections in the order MongoDB's diffs list them (doc_diff): removed fields, changed
  // values, added fields, then the subdocuments and arrays compared inside. Fields are
  // matched in one pass while both documents keep the same order (an update keeps it),
  // searching only where they differ.
  void Object(Path& path, bson::DocView before, bson::DocView after) {
    absl::InlinedVector<bson::ElementView, 16> old_fields, new_fields;
    for (const bson::ElementView& e : before) old_fields.push_back(e);
    for (const bson::ElementView& e : after) new_fields.push_back(e);
    absl::InlinedVector<bool, 16> kept(old_fields.size(), false);
    absl::InlinedVector<const bson::ElementView*, 16> match;  // per field of `after`: its old field
    match.reserve(new_fields.size());
    size_t next = 0;
    for (const bson::ElementView& e : new_fields) {
      size_t j = next;
      if (j >= old_fields.size() || old_fields[j].key != e.key) {
        j = 0;
        while (j < old_fields.size() && (kept[j] || old_fields[j].key != e.key)) ++j;
      }
      if (j < old_fields.size()) {
        kept[j] = true;
        next = j + 1;
        match.push_back(&old_fields[j]);
      } else {
        match.push_back(nullptr);
      }
    }
    for (size_t j = 0; j < old_fields.size(); ++j) {
      if (kept[j]) continue;
      path.emplace_back(std::string(old_fields[j].key));
      removed.push_back(path);
      path.pop_back();
    }
    // Per changed field: whether an operator targets it, and how many elements its array
    // had when the operator only appended to it (logged element by element, below).
    std::vector<const WholePath*> target(new_fields.size(), nullptr);
    std::vector<size_t> appended_to(new_fields.size(), 0);
    for (size_t i = 0; i < new_fields.size(); ++i) {
      const bson::ElementView* old = match[i];
      if (old == nullptr || Identical(old->value, new_fields[i].value)) continue;
      path.emplace_back(std::string(new_fields[i].key));
      target[i] = Target(path);
      if (target[i] != nullptr && target[i]->appends) appended_to[i] = AppendedTo(old->value, new_fields[i].value);
      if (appended_to[i] == 0 && (target[i] != nullptr || !Nested(old->value, new_fields[i].value))) {
        updated.emplace_back(path, new_fields[i].value);
      }
      path.pop_back();
    }
    for (size_t i = 0; i < new_fields.size(); ++i) {
      if (match[i] != nullptr) continue;
      path.emplace_back(std::string(new_fields[i].key));
      updated.emplace_back(path, new_fields[i].value);
      path.pop_back();
    }
    for (size_t i = 0; i < new_fields.size(); ++i) {
      const bson::ElementView* old = match[i];
      if (old == nullptr || Identical(old->value, new_fields[i].value)) continue;
      path.emplace_back(std::string(new_fields[i].key));
      if (appended_to[i] > 0) {
        // As MongoDB logs an append to a non-empty array: each new element by its index.
        size_t j = 0;
        for (const bson::ElementView& e : new_fields[i].value.Doc()) {
          if (j >= appended_to[i]) {
            path.emplace_back(static_cast<int32_t>(j));
            updated.emplace_back(path, e.value);
            path.pop_back();
          }
          ++j;
        }
      } else if (target[i] == nullptr && Nested(old->value, new_fields[i].value)) {
        Inside(path, old->value, new_fields[i].value);
      }
      path.pop_back();
    }
  }

  // The operator target at `path`, if any.
  const WholePath* Target(const Path& path) const {
    if (whole == nullptr || whole->empty()) return nullptr;
    std::string dotted = Dotted(path);
    for (const WholePath& w : *whole) {
      if (w.path == dotted) return &w;
    }
    return nullptr;
  }

  // The size of the non-empty array `before` when `after` is it with elements added at
  // its end; else 0.
  static size_t AppendedTo(const bson::ValueView& before, const bson::ValueView& after) {
    if (before.type != BsonType::kArray || after.type != BsonType::kArray) return 0;
    auto b = before.Doc().begin(), be = before.Doc().end();
    auto a = after.Doc().begin(), ae = after.Doc().end();
    size_t n = 0;
    for (; b != be; ++b, ++a, ++n) {
      if (a == ae || !Identical((*b).value, (*a).value)) return 0;
    }
    return a != ae ? n : 0;
  }

  static bool Nested(const bson::ValueView& a, const bson::ValueView& b) {
    return (a.type == BsonType::kDocument && b.type == BsonType::kDocument) ||
           (a.type == BsonType::kArray && b.type == BsonType::kArray);
  }

  void Inside(Path& path, const bson::ValueView& before, const bson::ValueView& after) {
    if (before.type == BsonType::kDocument) Object(path, before.Doc(), after.Doc());
    else Array(path, before.Doc(), after.Doc());
  }

  void Array(Path& path, bson::DocView before, bson::DocView after) {
    std::vector<bson::ValueView> old, now;
    for (const bson::ElementView& e : before) old.push_back(e.value);
    for (const bson::ElementView& e : after) now.push_back(e.value);
    if (now.size() < old.size()) truncated.emplace_back(path, static_cast<int32_t>(now.size()));
    for (size_t i = 0; i < now.size(); ++i) {
      if (i < old.size() && Identical(old[i], now[i])) continue;
      path.emplace_back(static_cast<int32_t>(i));
      if (i < old.size() && Nested(old[i], now[i])) {
        Inside(path, old[i], now[i]);
      } else {
        updated.emplace_back(path, now[i]);
      }
      path.pop_back();
    }
  }
};

bool Ambiguous(const Path& path) {
  for (const Component& c : path) {
    if (std::holds_alternative<int32_t>(c)) return true;
    const std::string& s = std::get<std::string>(c);
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return true;
  }
  return false;
}

void AppendComponents(bson::Builder* b, std::string_view key, const Path& path) {
  size_t array = b->StartArray(key);
  char scratch[24];
  for (size_t i = 0; i < path.size(); ++i) {
    if (const auto* s = std::get_if<std::string>(&path[i])) b->AppendString(bson::ArrayKey(i, scratch), *s);
    else b->AppendInt32(bson::ArrayKey(i, scratch), std::get<int32_t>(path[i]));
  }
  b->End(array);
}

}  // namespace

std::string UpdateDescription(bson::DocView before, bson::DocView after, bool disambiguate,
                              const std::vector<WholePath>& whole) {
  Diff diff;
  diff.whole = &whole;
  Path path;
  diff.Object(path, before, after);
  bson::Builder b;
  size_t updated = b.StartDocument("updatedFields");
  for (const auto& [p, v] : diff.updated) b.AppendView(Dotted(p), v);
  b.End(updated);
  char scratch[24];
  size_t removed = b.StartArray("removedFields");
  for (size_t i = 0; i < diff.removed.size(); ++i) b.AppendString(bson::ArrayKey(i, scratch), Dotted(diff.removed[i]));
  b.End(removed);
  size_t truncated = b.StartArray("truncatedArrays");
  for (size_t i = 0; i < diff.truncated.size(); ++i) {
    size_t entry = b.StartDocument(bson::ArrayKey(i, scratch));
    b.AppendString("field", Dotted(diff.truncated[i].first));
    b.AppendInt32("newSize", diff.truncated[i].second);
    b.End(entry);
  }
  b.End(truncated);
  if (disambiguate) {
    size_t paths = b.StartDocument("disambiguatedPaths");
    for (const auto& [p, v] : diff.updated) {
      if (Ambiguous(p)) AppendComponents(&b, Dotted(p), p);
    }
    for (const Path& p : diff.removed) {
      if (Ambiguous(p)) AppendComponents(&b, Dotted(p), p);
    }
    b.End(paths);
  }
  return std::move(b).Finish();
}

}  // namespace micromongo::changes
