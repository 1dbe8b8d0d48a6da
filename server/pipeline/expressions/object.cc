// Object operators: $objectToArray $arrayToObject $getField $setField $unsetField.
// ($mergeObjects is an accumulator used as an expression: accumulator_expressions.cc.)

#include "document/builder.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

EvalResult ObjectToArrayFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() != BsonType::kDocument) {
    return Err(40390, StrCat("$objectToArray requires a document input, found: ", TypeName(a[0])));
  }
  Array out;
  for (const auto& [k, v] : a[0]->AsDocument()) out.push_back(Document{{"k", k}, {"v", v}});
  return SomeNested(Value(std::move(out)));
}

EvalResult ArrayToObjectFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() != BsonType::kArray) {
    return Err(40386, StrCat("$arrayToObject requires an array input, found: ", TypeName(a[0])));
  }
  const Array& arr = a[0]->AsArray();
  Document out;
  if (arr.empty()) return Some(std::move(out));
  bool pairs;
  if (arr[0].type() == BsonType::kArray) {
    pairs = true;
  } else if (arr[0].type() == BsonType::kDocument) {
    pairs = false;
  } else {
    return Err(40398, StrCat("Unrecognised input type format for $arrayToObject: ", TypeName(arr[0])));
  }
  for (const Value& e : arr) {
    if (pairs) {
      if (e.type() != BsonType::kArray) {
        return Err(40396, StrCat("$arrayToObject requires a consistent input format. Elements must"
                                 "all be arrays or all be objects. Array was detected, now found: ",
                                 TypeName(e)));
      }
      const Array& kv = e.AsArray();
      if (kv.size() != 2) {
        return Err(40397, StrCat("$arrayToObject requires an array of size 2 arrays,found array of size: ",
                                 kv.size()));
      }
      if (kv[0].type() != BsonType::kString) {
        return Err(40395, StrCat("$arrayToObject requires an array of key-value pairs, where the key must "
                                 "be of type string. Found key type: ", TypeName(kv[0])));
      }
      if (kv[0].AsString().find('\0') != std::string::npos) {
        return Err(4940400, "Key field cannot contain an embedded null byte");
      }
      out.Set(kv[0].AsString(), kv[1]);  // a repeated key: the last value, at the first position
    } else {
      if (e.type() != BsonType::kDocument) {
        return Err(40391, StrCat("$arrayToObject requires a consistent input format. Elements must"
                                 "all be arrays or all be objects. Object was detected, now found: ",
                                 TypeName(e)));
      }
      const Document& d = e.AsDocument();
      if (d.size() != 2) {
        return Err(40392, StrCat("$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect "
                                 "number of keys:", d.size()));
      }
      const Value* k = d.Find("k");
      const Value* v = d.Find("v");
      if (k == nullptr || v == nullptr) {
        return Err(40393, StrCat("$arrayToObject requires an object with keys 'k' and 'v'. Missing "
                                 "either or both keys from: ", e.ToJson()));
      }
      if (k->type() != BsonType::kString) {
        return Err(40394, StrCat("$arrayToObject requires an object with keys 'k' and 'v', where the "
                                 "value of 'k' must be of type string. Found type: ", TypeName(*k)));
      }
      if (k->AsString().find('\0') != std::string::npos) {
        return Err(4940401, "Key field cannot contain an embedded null byte");
      }
      out.Set(k->AsString(), *v);
    }
  }
  return Some(std::move(out));
}

// ---- $getField -----------------------------------------------------------------------------

struct GetFieldState {
  std::string field;
  ExprPtr input;    // null: $$CURRENT
  ExprPtr current;  // "$$CURRENT", for a rebound or tree $$CURRENT
};

EvalResult EvalGetField(const GetFieldState& s, const Variables& vars) {
  std::optional<Value> input;
  if (s.input) {
    MM_EVAL(v, s.input, vars);
    input = std::move(v);
  } else if (vars.root_bson != nullptr && vars.bound == nullptr) {
    // $$CURRENT as stored BSON: read the one field.
    bson::ValueView child;
    if (!vars.root_bson->Find(s.field, &child)) return Missing();
    return Some(bson::ToValue(child));
  } else {
    MM_EVAL(v, s.current, vars);
    input = std::move(v);
  }
  if (!input) return Missing();
  if (IsNullish(input)) return Null();
  if (input->type() != BsonType::kDocument) return Missing();
  const Value* v = input->AsDocument().Find(s.field);
  return v == nullptr ? Missing() : Some(*v);
}

// The 'field' argument must be a constant string; a field path is a common mistake.
absl::StatusOr<std::string> ConstantField(const Value& spec, const ExprPtr& parsed,
                                          std::string_view op, int path_code, int non_constant_code,
                                          int non_string_code) {
  if (spec.type() == BsonType::kString && !spec.AsString().empty() && spec.AsString()[0] == '$') {
    return Err(path_code, StrCat("'", spec.AsString(), "' is a field path reference which is not allowed "
                                 "in this context. Did you mean {$literal: '", spec.AsString(), "'}?"));
  }
  const std::optional<Value>* c = parsed->constant();
  if (c == nullptr) {
    return Err(non_constant_code, StrCat(op, " requires 'field' to evaluate to a constant, but got a "
                                         "non-constant argument"));
  }
  if (!*c || (*c)->type() != BsonType::kString) {
    return Err(non_string_code, StrCat(op, " requires 'field' to evaluate to type String, but got ",
                                       TypeName(*c)));
  }
  return (*c)->AsString();
}

absl::StatusOr<ExprPtr> ParseGetField(std::string_view, const Value& arg, const ParseContext& context) {
  GetFieldState s;
  const Value* field = &arg;
  const Value* input = nullptr;
  if (arg.type() == BsonType::kDocument && !arg.AsDocument().empty() &&
      !(arg.AsDocument().begin()->first.size() > 0 && arg.AsDocument().begin()->first[0] == '$')) {
    field = nullptr;
    for (const auto& [k, v] : arg.AsDocument()) {
      if (k == "field") {
        field = &v;
      } else if (k == "input") {
        input = &v;
      } else {
        return Err(3041701, StrCat("$getField found an unknown argument: ", k));
      }
    }
    if (field == nullptr) return Err(3041702, "$getField requires 'field' to be specified");
    if (input == nullptr) return Err(3041703, "$getField requires 'input' to be specified");
  }
  MM_ASSIGN(parsed_field, Parse(*field, context));
  MM_ASSIGN(name, ConstantField(*field, parsed_field, "$getField", 5654600, 5654601, 5654602));
  s.field = std::move(name);
  if (input == nullptr) {
    MM_ASSIGN(current, Parse(Value("$$CURRENT"), context));
    s.current = std::move(current);
    return ExprPtr(std::make_unique<CustomExpr<GetFieldState>>(std::move(s), &EvalGetField));
  }
  MM_ASSIGN(in, Parse(*input, context));
  s.input = std::move(in);
  std::vector<const ExprPtr*> parts{&s.input};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<GetFieldState>>(std::move(s), &EvalGetField), context);
}

// ---- $setField, $unsetField ----------------------------------------------------------------

struct SetFieldState {
  std::string field;
  ExprPtr input, value;  // value null: $unsetField
};

EvalResult EvalSetField(const SetFieldState& s, const Variables& vars) {
  MM_EVAL(input, s.input, vars);
  if (IsNullish(input)) return Null();
  if (input->type() != BsonType::kDocument) {
    return Err(4161105, "$setField requires 'input' to evaluate to type Object");
  }
  Document out = input->AsDocument();
  std::optional<Value> value;
  if (s.value) {
    MM_EVAL(v, s.value, vars);
    value = std::move(v);
  }
  if (value) {
    out.Set(s.field, *std::move(value));
  } else {
    out.Remove(s.field);  // $$REMOVE, or $unsetField
  }
  return SomeNested(Value(std::move(out)));
}

absl::StatusOr<ExprPtr> ParseSetField(std::string_view name, const Value& arg, const ParseContext& context) {
  bool unset = name == "$unsetField";
  if (arg.type() != BsonType::kDocument) {
    return Err(4161100, StrCat(name, " only supports an object as its argument"));
  }
  const Value* field = nullptr;
  const Value* input = nullptr;
  const Value* value = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "field") {
      field = &v;
    } else if (k == "input") {
      input = &v;
    } else if (!unset && k == "value") {
      value = &v;
    } else {
      return Err(4161101, StrCat(name, " found an unknown argument: ", k));
    }
  }
  if (field == nullptr) return Err(4161102, StrCat(name, " requires 'field' to be specified"));
  if (!unset && value == nullptr) return Err(4161103, StrCat(name, " requires 'value' to be specified"));
  if (input == nullptr) return Err(4161109, StrCat(name, " requires 'input' to be specified"));
  SetFieldState s;
  MM_ASSIGN(parsed_field, Parse(*field, context));
  MM_ASSIGN(fname, ConstantField(*field, parsed_field, name, 4161108, 4161106, 4161107));
  s.field = std::move(fname);
  MM_ASSIGN(in, Parse(*input, context));
  s.input = std::move(in);
  if (value != nullptr) {
    MM_ASSIGN(v, Parse(*value, context));
    s.value = std::move(v);
  }
  std::vector<const ExprPtr*> parts{&s.input, &s.value};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<SetFieldState>>(std::move(s), &EvalSetField), context);
}

}  // namespace

void RegisterObject(OperatorTable* t) {
  t->AddNary("$objectToArray", 1, 1, &ObjectToArrayFn);
  t->AddNary("$arrayToObject", 1, 1, &ArrayToObjectFn);
  t->Add("$getField", &ParseGetField);
  t->Add("$setField", &ParseSetField);
  t->Add("$unsetField", &ParseSetField);
}

}  // namespace micromongo::pipeline::internal
