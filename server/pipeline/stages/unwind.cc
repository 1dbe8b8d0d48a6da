// $unwind: one output document per element of an array field.

#include <cstring>

#include "document/builder.h"
#include "pipeline/stages/join_util.h"
#include "pipeline/stages/registry.h"

namespace micromongo::pipeline::stages {
namespace {

// The value at `parts` through documents only (as MongoDB's $unwind reads it).
std::optional<bson::ValueView> Lookup(bson::DocView doc, const std::vector<std::string>& parts) {
  bson::ValueView v;
  if (!doc.Find(parts[0], &v)) return std::nullopt;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (v.type != BsonType::kDocument) return std::nullopt;
    bson::ValueView child;
    if (!v.Doc().Find(parts[i], &child)) return std::nullopt;
    v = child;
  }
  return v;
}

// Sets (or with a null `value`, removes) the field at `parts`, creating documents along it.
void SetPath(Document* doc, const std::vector<std::string>& parts, size_t i, const Value* value) {
  if (i + 1 == parts.size()) {
    if (value == nullptr) {
      doc->Remove(parts[i]);
    } else {
      doc->Set(parts[i], *value);
    }
    return;
  }
  Value* child = doc->Find(parts[i]);
  if (child == nullptr || child->type() != BsonType::kDocument) {
    if (value == nullptr) return;
    doc->Set(parts[i], Document());
    child = doc->Find(parts[i]);
  }
  SetPath(&child->AsDocument(), parts, i + 1, value);
}

class UnwindSpec;

class UnwindStage final : public Stage {
 public:
  UnwindStage(StagePtr input, const UnwindSpec* spec) : input_(std::move(input)), spec_(spec) {}
  absl::StatusOr<bool> Next(Row* out) override;

 private:
  StagePtr input_;
  const UnwindSpec* spec_;
  Row current_;
  std::vector<bson::ValueView> elements_;
  size_t next_ = 0;
  // For a top-level path without includeArrayIndex: where the array's element lies in the
  // input, so that each output is the input with that element's bytes replaced.
  size_t element_begin_ = 0, element_end_ = 0;
};

class UnwindSpec final : public StageSpec {
 public:
  UnwindSpec(std::string path, std::optional<std::string> index_field, bool preserve)
      : parts_(SplitDotted(path)), index_parts_(index_field ? SplitDotted(*index_field) : std::vector<std::string>()),
        has_index_(index_field.has_value()), preserve_(preserve) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext*) const override {
    return StagePtr(std::make_unique<UnwindStage>(std::move(input), this));
  }

  // The output for `source` with the path replaced by `element` (null: the path removed when
  // `remove`, else left as it is) and the index (null: the index field set to null).
  std::string Emit(bson::DocView source, const bson::ValueView* element, bool remove,
                   std::optional<int64_t> index) const {
    if (parts_.size() == 1 && !has_index_) {
      // The common case, on bytes: copy every field, replacing the unwound one in place.
      bson::Builder b;
      b.Reserve(source.size());
      for (const bson::ElementView& e : source) {
        if (e.key == parts_[0]) {
          if (element != nullptr) {
            b.AppendView(e.key, *element);
          } else if (!remove) {
            b.AppendView(e.key, e.value);
          }
        } else {
          b.AppendView(e.key, e.value);
        }
      }
      return std::move(b).Finish();
    }
    Document doc = bson::Decode(source);
    if (element != nullptr) {
      Value v = bson::ToValue(*element);
      SetPath(&doc, parts_, 0, &v);
    } else if (remove) {
      SetPath(&doc, parts_, 0, nullptr);
    }
    if (has_index_) {
      Value i = index ? Value(*index) : Value(nullptr);
      SetPath(&doc, index_parts_, 0, &i);
    }
    return bson::Encode(doc);
  }

  const std::vector<std::string>& parts() const { return parts_; }
  bool top_level() const { return parts_.size() == 1 && !has_index_; }
  bool preserve() const { return preserve_; }

 private:
  std::vector<std::string> parts_;
  std::vector<std::string> index_parts_;
  bool has_index_;
  bool preserve_;
};

absl::StatusOr<bool> UnwindStage::Next(Row* out) {
  while (true) {
    if (next_ < elements_.size()) {
      size_t i = next_++;
      if (spec_->top_level()) {
        const bson::ValueView& e = elements_[i];
        const std::string& in = current_.doc;
        const std::string& key = spec_->parts()[0];
        std::string& doc = out->doc;
        doc.clear();
        doc.reserve(in.size() - (element_end_ - element_begin_) + key.size() + 2 + e.size);
        doc.append(in, 0, element_begin_);
        doc.push_back(static_cast<char>(e.type));
        doc.append(key);
        doc.push_back('\0');
        doc.append(e.data, e.size);
        doc.append(in, element_end_, std::string::npos);
        int32_t n = static_cast<int32_t>(doc.size());
        std::memcpy(doc.data(), &n, 4);
      } else {
        out->doc = spec_->Emit(current_.view(), &elements_[i], false, static_cast<int64_t>(i));
      }
      out->meta = current_.meta;
      return true;
    }
    auto more = input_->Next(&current_);
    if (!more.ok() || !*more) return more;
    elements_.clear();
    next_ = 0;
    std::optional<bson::ValueView> v = Lookup(current_.view(), spec_->parts());
    if (v && v->type == BsonType::kArray) {
      for (const bson::ElementView& e : v->Doc()) elements_.push_back(e.value);
      if (spec_->top_level()) {
        element_end_ = static_cast<size_t>(v->data - current_.doc.data()) + v->size;
        element_begin_ = static_cast<size_t>(v->data - current_.doc.data()) - spec_->parts()[0].size() - 2;
      }
      if (!elements_.empty()) continue;
      if (!spec_->preserve()) continue;
      // An empty array, kept: the field goes away.
      out->doc = spec_->Emit(current_.view(), nullptr, true, std::nullopt);
      out->meta = current_.meta;
      return true;
    }
    if (!v || v->type == BsonType::kNull || v->type == BsonType::kUndefined) {
      if (!spec_->preserve()) continue;
      out->doc = spec_->Emit(current_.view(), nullptr, false, std::nullopt);
      out->meta = current_.meta;
      return true;
    }
    // Any other value is a one-element array; its index is null.
    out->doc = spec_->Emit(current_.view(), nullptr, false, std::nullopt);
    out->meta = current_.meta;
    return true;
  }
}

absl::Status ValidatePath(std::string_view path) {
  if (path.empty()) return MongoError(40352, "FieldPath cannot be constructed with empty string");
  for (const std::string& part : SplitDotted(path)) {
    if (part.empty()) return MongoError(15998, "FieldPath field names may not be empty strings.");
    if (part[0] == '$') {
      return MongoError(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseUnwind(const Value& arg, const ParseOptions&, Specs* out) {
  std::string path;
  std::optional<std::string> index_field;
  bool preserve = false;
  if (arg.type() == BsonType::kString) {
    path = arg.AsString();
  } else if (arg.type() == BsonType::kDocument) {
    bool have_path = false;
    for (const auto& [k, v] : arg.AsDocument()) {
      if (k == "path") {
        if (v.type() != BsonType::kString) {
          return MongoError(28808, StrCat("expected a string as the path for $unwind stage, got ",
                                          BsonTypeName(v.type())));
        }
        path = v.AsString();
        have_path = true;
      } else if (k == "preserveNullAndEmptyArrays") {
        if (v.type() != BsonType::kBool) {
          return MongoError(28809, StrCat("expected a boolean for the preserveNullAndEmptyArrays option to "
                                          "$unwind stage, got ", BsonTypeName(v.type())));
        }
        preserve = v.AsBool();
      } else if (k == "includeArrayIndex") {
        if (v.type() != BsonType::kString || v.AsString().empty()) {
          return MongoError(28810, StrCat("expected a non-empty string for the includeArrayIndex option to "
                                          "$unwind stage, got ", BsonTypeName(v.type())));
        }
        if (v.AsString()[0] == '$') {
          return MongoError(28822, StrCat("includeArrayIndex option to $unwind stage should not be prefixed "
                                          "with a '$': ", v.AsString()));
        }
        if (auto s = ValidatePath(v.AsString()); !s.ok()) return s;
        index_field = v.AsString();
      } else {
        return MongoError(28811, StrCat("unrecognized option to $unwind stage: ", k));
      }
    }
    if (!have_path) return MongoError(28812, "no path specified to $unwind stage");
  } else {
    return MongoError(15981, StrCat("expected either a string or an object as specification for $unwind stage, "
                                    "got ", BsonTypeName(arg.type())));
  }
  if (path.empty() || path[0] != '$') {
    return MongoError(28818, StrCat("path option to $unwind stage should be prefixed with a '$': ", path));
  }
  if (auto s = ValidatePath(std::string_view(path).substr(1)); !s.ok()) return s;
  Emit(out, "$unwind", arg, std::make_shared<UnwindSpec>(path.substr(1), index_field, preserve));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
