#include "query/json_schema.h"

#include <cmath>

#include "document/compare.h"
#include "document/status.h"

namespace micromongo::query {
namespace {

using bson::DocView;
using bson::ElementView;
using bson::ValueView;

struct Schema {
  bool has_type = false;
  std::vector<BsonType> types;
  bool number = false;
  std::vector<std::string> required;
  std::vector<std::pair<std::string, std::unique_ptr<Schema>>> properties;
  std::optional<bool> additional_allowed;
  std::unique_ptr<Schema> additional_schema;
  std::vector<std::pair<std::unique_ptr<RegexMatch>, std::unique_ptr<Schema>>> pattern_properties;
  std::optional<ValueView> minimum, maximum;
  bool exclusive_min = false, exclusive_max = false;
  std::optional<int64_t> min_length, max_length, min_items, max_items, min_props, max_props;
  std::unique_ptr<RegexMatch> pattern;
  bool has_enum = false;
  std::vector<ValueView> enum_values;
  std::unique_ptr<Schema> items;
  std::vector<std::unique_ptr<Schema>> items_tuple;
  std::optional<bool> additional_items_allowed;
  std::unique_ptr<Schema> additional_items;
  bool unique_items = false;
  std::vector<std::unique_ptr<Schema>> all_of, any_of, one_of;
  std::unique_ptr<Schema> not_;

  bool Validate(const ValueView& v) const;
};

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool Schema::Validate(const ValueView& v) const {
  if (has_type) {
    bool ok = number && v.IsNumber();
    for (BsonType t : types) ok = ok || v.type == t;
    if (!ok) return false;
  }
  if (has_enum) {
    bool found = false;
    for (const ValueView& e : enum_values) found = found || bson::ValuesEqual(e, v);
    if (!found) return false;
  }
  if (v.IsNumber()) {
    if (minimum) {
      int c = bson::CompareValues(v, *minimum);
      if (exclusive_min ? c <= 0 : c < 0) return false;
    }
    if (maximum) {
      int c = bson::CompareValues(v, *maximum);
      if (exclusive_max ? c >= 0 : c > 0) return false;
    }
  }
  if (v.type == BsonType::kString) {
    size_t n = CodePointCount(v.String());
    if (min_length && static_cast<int64_t>(n) < *min_length) return false;
    if (max_length && static_cast<int64_t>(n) > *max_length) return false;
    if (pattern && !pattern->MatchesString(v.String())) return false;
  }
  if (v.type == BsonType::kDocument) {
    DocView d = v.Doc();
    for (const std::string& r : required) {
      ValueView unused;
      if (!d.Find(r, &unused)) return false;
    }
    int64_t count = 0;
    for (const ElementView& e : d) {
      ++count;
      bool matched = false;
      for (const auto& [name, schema] : properties) {
        if (e.key == name) {
          matched = true;
          if (!schema->Validate(e.value)) return false;
        }
      }
      for (const auto& [regex, schema] : pattern_properties) {
        if (regex->MatchesString(e.key)) {
          matched = true;
          if (!schema->Validate(e.value)) return false;
        }
      }
      if (!matched) {
        if (additional_allowed && !*additional_allowed) return false;
        if (additional_schema && !additional_schema->Validate(e.value)) return false;
      }
    }
    if (min_props && count < *min_props) return false;
    if (max_props && count > *max_props) return false;
  }
  if (v.type == BsonType::kArray) {
    std::vector<ValueView> elements;
    for (const ElementView& e : v.Doc()) elements.push_back(e.value);
    if (min_items && static_cast<int64_t>(elements.size()) < *min_items) return false;
    if (max_items && static_cast<int64_t>(elements.size()) > *max_items) return false;
    if (items) {
      for (const ValueView& e : elements) {
        if (!items->Validate(e)) return false;
      }
    }
    if (!items_tuple.empty()) {
      for (size_t i = 0; i < elements.size(); ++i) {
        if (i < items_tuple.size()) {
          if (!items_tuple[i]->Validate(elements[i])) return false;
        } else {
          if (additional_items_allowed && !*additional_items_allowed) return false;
          if (additional_items && !additional_items->Validate(elements[i])) return false;
        }
      }
    }
    if (unique_items) {
      for (size_t i = 0; i < elements.size(); ++i) {
        for (size_t j = i + 1; j < elements.size(); ++j) {
          if (bson::ValuesEqual(elements[i], elements[j])) return false;
        }
      }
    }
  }
  for (const auto& s : all_of) {
    if (!s->Validate(v)) return false;
  }
  if (!any_of.empty()) {
    bool any = false;
    for (const auto& s : any_of) any = any || s->Validate(v);
    if (!any) return false;
  }
  if (!one_of.empty()) {
    int n = 0;
    for (const auto& s : one_of) n += s->Validate(v);
    if (n != 1) return false;
  }
  if (not_ && not_->Validate(v)) return false;
  return true;
}

absl::Status Bad(std::string_view what) {
  return MongoError(kFailedToParse, StrCat("$jsonSchema ", what));
}

std::optional<int64_t> NonNegative(const ValueView& v) {
  if (!v.IsNumber()) return std::nullopt;
  double d = v.AsDouble();
  if (d < 0 || d != std::trunc(d)) return std::nullopt;
  return static_cast<int64_t>(d);
}

absl::StatusOr<std::unique_ptr<Schema>> ParseSchema(DocView spec, int depth);

absl::StatusOr<std::vector<std::unique_ptr<Schema>>> ParseSchemaArray(const ValueView& v,
                                                                       std::string_view keyword,
                                                                       int depth) {
  if (v.type != BsonType::kArray || v.Doc().empty()) {
    return Bad(StrCat("keyword '", keyword, "' must be a nonempty array of objects"));
  }
  std::vector<std::unique_ptr<Schema>> out;
  for (const ElementView& e : v.Doc()) {
    if (e.value.type != BsonType::kDocument) {
      return Bad(StrCat("keyword '", keyword, "' must be an array of objects"));
    }
    auto s = ParseSchema(e.value.Doc(), depth + 1);
    if (!s.ok()) return s.status();
    out.push_back(*std::move(s));
  }
  return out;
}

absl::Status AddType(Schema* s, const ValueView& v, bool bson_type) {
  if (v.type != BsonType::kString) return Bad("type names must be strings");
  std::string_view name = v.String();
  s->has_type = true;
  if (!bson_type) {
    if (name == "object") s->types.push_back(BsonType::kDocument);
    else if (name == "array") s->types.push_back(BsonType::kArray);
    else if (name == "number") s->number = true;
    else if (name == "boolean") s->types.push_back(BsonType::kBool);
    else if (name == "string") s->types.push_back(BsonType::kString);
    else if (name == "null") s->types.push_back(BsonType::kNull);
    else if (name == "integer") return MongoError(kBadValue, "$jsonSchema type 'integer' is not supported; use bsonType");
    else return Bad(StrCat("unknown type name '", name, "'"));
    return absl::OkStatus();
  }
  if (name == "number") {
    s->number = true;
    return absl::OkStatus();
  }
  for (int code : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0x7F, 0xFF}) {
    if (BsonTypeName(static_cast<BsonType>(code)) == name) {
      s->types.push_back(static_cast<BsonType>(code));
      return absl::OkStatus();
    }
  }
  return Bad(StrCat("unknown bsonType alias '", name, "'"));
}

absl::StatusOr<std::unique_ptr<Schema>> ParseSchema(DocView spec, int depth) {
  if (depth > 100) return Bad("nested too deeply");
  auto s = std::make_unique<Schema>();
  bool has_type = false, has_bson_type = false;
  for (const ElementView& e : spec) {
    std::string_view k = e.key;
    const ValueView& v = e.value;
    if (k == "bsonType" || k == "type") {
      bool bson_type = k == "bsonType";
      (bson_type ? has_bson_type : has_type) = true;
      if (v.type == BsonType::kArray) {
        if (v.Doc().empty()) return Bad(StrCat("'", k, "' must not be empty"));
        for (const ElementView& t : v.Doc()) {
          if (auto st = AddType(s.get(), t.value, bson_type); !st.ok()) return st;
        }
      } else if (auto st = AddType(s.get(), v, bson_type); !st.ok()) {
        return st;
      }
    } else if (k == "required") {
      if (v.type != BsonType::kArray || v.Doc().empty()) return Bad("'required' must be a nonempty array");
      for (const ElementView& r : v.Doc()) {
        if (r.value.type != BsonType::kString) return Bad("'required' must contain strings");
        s->required.emplace_back(r.value.String());
      }
    } else if (k == "properties") {
      if (v.type != BsonType::kDocument) return Bad("'properties' must be an object");
      for (const ElementView& p : v.Doc()) {
        if (p.value.type != BsonType::kDocument) return Bad("property schemas must be objects");
        auto child = ParseSchema(p.value.Doc(), depth + 1);
        if (!child.ok()) return child.status();
        s->properties.emplace_back(std::string(p.key), *std::move(child));
      }
    } else if (k == "patternProperties") {
      if (v.type != BsonType::kDocument) return Bad("'patternProperties' must be an object");
      for (const ElementView& p : v.Doc()) {
        if (p.value.type != BsonType::kDocument) return Bad("pattern property schemas must be objects");
        auto regex = RegexMatch::Make(FieldPath(), p.key, "");
        if (!regex.ok()) return regex.status();
        auto child = ParseSchema(p.value.Doc(), depth + 1);
        if (!child.ok()) return child.status();
        s->pattern_properties.emplace_back(*std::move(regex), *std::move(child));
      }
    } else if (k == "additionalProperties" || k == "additionalItems") {
      bool props = k == "additionalProperties";
      if (v.type == BsonType::kBool) {
        (props ? s->additional_allowed : s->additional_items_allowed) = v.Bool();
      } else if (v.type == BsonType::kDocument) {
        auto child = ParseSchema(v.Doc(), depth + 1);
        if (!child.ok()) return child.status();
        (props ? s->additional_schema : s->additional_items) = *std::move(child);
      } else {
        return Bad(StrCat("'", k, "' must be a boolean or an object"));
      }
    } else if (k == "minimum" || k == "maximum") {
      if (!v.IsNumber()) return Bad(StrCat("'", k, "' must be a number"));
      (k == "minimum" ? s->minimum : s->maximum) = v;
    } else if (k == "exclusiveMinimum" || k == "exclusiveMaximum") {
      if (v.type != BsonType::kBool) return Bad(StrCat("'", k, "' must be a boolean"));
      (k == "exclusiveMinimum" ? s->exclusive_min : s->exclusive_max) = v.Bool();
    } else if (k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems" ||
               k == "minProperties" || k == "maxProperties") {
      auto n = NonNegative(v);
      if (!n) return Bad(StrCat("'", k, "' must be a non-negative integer"));
      if (k == "minLength") s->min_length = n;
      else if (k == "maxLength") s->max_length = n;
      else if (k == "minItems") s->min_items = n;
      else if (k == "maxItems") s->max_items = n;
      else if (k == "minProperties") s->min_props = n;
      else s->max_props = n;
    } else if (k == "pattern") {
      if (v.type != BsonType::kString) return Bad("'pattern' must be a string");
      auto regex = RegexMatch::Make(FieldPath(), v.String(), "");
      if (!regex.ok()) return regex.status();
      s->pattern = *std::move(regex);
    } else if (k == "enum") {
      if (v.type != BsonType::kArray || v.Doc().empty()) return Bad("'enum' must be a nonempty array");
      s->has_enum = true;
      for (const ElementView& x : v.Doc()) s->enum_values.push_back(x.value);
    } else if (k == "items") {
      if (v.type == BsonType::kDocument) {
        auto child = ParseSchema(v.Doc(), depth + 1);
        if (!child.ok()) return child.status();
        s->items = *std::move(child);
      } else {
        auto list = ParseSchemaArray(v, k, depth);
        if (!list.ok()) return list.status();
        s->items_tuple = *std::move(list);
      }
    } else if (k == "uniqueItems") {
      if (v.type != BsonType::kBool) return Bad("'uniqueItems' must be a boolean");
      s->unique_items = v.Bool();
    } else if (k == "allOf" || k == "anyOf" || k == "oneOf") {
      auto list = ParseSchemaArray(v, k, depth);
      if (!list.ok()) return list.status();
      (k == "allOf" ? s->all_of : k == "anyOf" ? s->any_of : s->one_of) = *std::move(list);
    } else if (k == "not") {
      if (v.type != BsonType::kDocument) return Bad("'not' must be an object");
      auto child = ParseSchema(v.Doc(), depth + 1);
      if (!child.ok()) return child.status();
      s->not_ = *std::move(child);
    } else if (k == "title" || k == "description") {
      if (v.type != BsonType::kString) return Bad(StrCat("'", k, "' must be a string"));
    } else if (k == "$ref" || k == "$schema" || k == "default" || k == "definitions" ||
               k == "format" || k == "id" || k == "dependencies") {
      return MongoError(kBadValue, StrCat("$jsonSchema keyword '", k, "' is not currently supported"));
    } else {
      return Bad(StrCat("unknown keyword: ", k));
    }
  }
  if (has_type && has_bson_type) return Bad("cannot specify both 'type' and 'bsonType'");
  return s;
}

class JsonSchemaMatch : public MatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kJsonSchema; }
  explicit JsonSchemaMatch(std::unique_ptr<Schema> schema) : schema_(std::move(schema)) {}
  bool Matches(DocView doc) const override {
    return schema_->Validate(ValueView{BsonType::kDocument, doc.data(), doc.size()});
  }
  bool MatchesElement(const ValueView& v) const override { return schema_->Validate(v); }

 private:
  std::unique_ptr<Schema> schema_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MatchExpression>> ParseJsonSchema(DocView schema) {
  auto s = ParseSchema(schema, 0);
  if (!s.ok()) return s.status();
  return std::unique_ptr<MatchExpression>(std::make_unique<JsonSchemaMatch>(*std::move(s)));
}

}  // namespace micromongo::query
