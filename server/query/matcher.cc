#include "query/matcher.h"

#include "document/status.h"

namespace micromongo::query {
namespace {

using bson::DocView;
using bson::ElementView;
using bson::ValueView;
using ExprPtr = std::unique_ptr<MatchExpression>;

absl::StatusOr<ExprPtr> ParseDocument(DocView filter, int depth);

absl::Status BadValue(std::string_view message) { return MongoError(kBadValue, message); }

bool IsOperatorObject(const ValueView& v) {
  if (v.type != BsonType::kDocument) return false;
  DocView d = v.Doc();
  return !d.empty() && !(*d.begin()).key.empty() && (*d.begin()).key[0] == '$';
}

absl::StatusOr<ExprPtr> ParseOperators(const FieldPath& path, DocView ops, int depth);

// One `$op: operand` applied to `path`.
absl::StatusOr<ExprPtr> ParseOperator(const FieldPath& path, std::string_view op,
                                      const ValueView& operand, int depth) {
  auto comparison = [&](CompareOp c) -> absl::StatusOr<ExprPtr> {
    return ExprPtr(std::make_unique<ComparisonMatch>(path, c, operand));
  };
  if (op == "$eq") return comparison(CompareOp::kEq);
  if (op == "$lt") return comparison(CompareOp::kLt);
  if (op == "$lte") return comparison(CompareOp::kLte);
  if (op == "$gt") return comparison(CompareOp::kGt);
  if (op == "$gte") return comparison(CompareOp::kGte);
  if (op == "$ne") {
    return ExprPtr(std::make_unique<NotMatch>(
        std::make_unique<ComparisonMatch>(path, CompareOp::kEq, operand)));
  }
  if (op == "$in" || op == "$nin") {
    if (operand.type != BsonType::kArray) return BadValue(StrCat(op, " needs an array"));
    std::vector<ValueView> values;
    for (const ElementView& e : operand.Doc()) {
      if (IsOperatorObject(e.value)) {
        return BadValue(StrCat("cannot nest $ under ", op));
      }
      values.push_back(e.value);
    }
    ExprPtr in = std::make_unique<InMatch>(path, std::move(values));
    if (op == "$in") return in;
    return ExprPtr(std::make_unique<NotMatch>(std::move(in)));
  }
  if (op == "$exists") {
    bool want = true;
    switch (operand.type) {
      case BsonType::kBool: want = operand.Bool(); break;
      case BsonType::kInt32:
      case BsonType::kInt64:
      case BsonType::kDouble:
      case BsonType::kDecimal128: want = operand.AsDouble() != 0; break;
      case BsonType::kNull:
      case BsonType::kUndefined: want = false; break;
      default: want = true;
    }
    ExprPtr exists = std::make_unique<ExistsMatch>(path);
    if (want) return exists;
    return ExprPtr(std::make_unique<NotMatch>(std::move(exists)));
  }
  if (op == "$not") {
    if (operand.type != BsonType::kDocument) {
      return BadValue("$not needs a document of operators");
    }
    if (operand.Doc().empty()) return BadValue("$not cannot be empty");
    auto inner = ParseOperators(path, operand.Doc(), depth + 1);
    if (!inner.ok()) return inner.status();
    return ExprPtr(std::make_unique<NotMatch>(*std::move(inner)));
  }
  if (op == "$type" || op == "$regex" || op == "$options" || op == "$mod" || op == "$all" ||
      op == "$elemMatch" || op == "$size" || op == "$bitsAllSet" || op == "$bitsAllClear" ||
      op == "$bitsAnySet" || op == "$bitsAnyClear" || op == "$geoWithin" ||
      op == "$geoIntersects" || op == "$near" || op == "$nearSphere") {
    return MongoError(kNotImplemented,
                      StrCat("query operator ", op, " is not supported by this server yet"));
  }
  return BadValue(StrCat("unknown operator: ", op));
}

absl::StatusOr<ExprPtr> ParseOperators(const FieldPath& path, DocView ops, int depth) {
  std::vector<ExprPtr> children;
  for (const ElementView& e : ops) {
    if (e.key.empty() || e.key[0] != '$') {
      return BadValue(StrCat("unknown operator: ", e.key));
    }
    auto child = ParseOperator(path, e.key, e.value, depth);
    if (!child.ok()) return child.status();
    children.push_back(*std::move(child));
  }
  if (children.size() == 1) return std::move(children[0]);
  return ExprPtr(std::make_unique<AndMatch>(std::move(children)));
}

absl::StatusOr<ExprPtr> ParseLogical(std::string_view op, const ValueView& operand,
                                     int depth) {
  if (operand.type != BsonType::kArray) return BadValue(StrCat(op, " must be an array"));
  std::vector<ExprPtr> children;
  for (const ElementView& e : operand.Doc()) {
    if (e.value.type != BsonType::kDocument) {
      return BadValue(StrCat("$or/$and/$nor entries need to be full objects"));
    }
    auto child = ParseDocument(e.value.Doc(), depth + 1);
    if (!child.ok()) return child.status();
    children.push_back(*std::move(child));
  }
  if (children.empty()) {
    return BadValue("$and/$or/$nor must be a nonempty array");
  }
  if (op == "$and") return ExprPtr(std::make_unique<AndMatch>(std::move(children)));
  ExprPtr any = std::make_unique<OrMatch>(std::move(children));
  if (op == "$or") return any;
  return ExprPtr(std::make_unique<NotMatch>(std::move(any)));
}

absl::StatusOr<ExprPtr> ParseDocument(DocView filter, int depth) {
  if (depth > 100) return BadValue("filter nested too deeply");
  std::vector<ExprPtr> children;
  for (const ElementView& e : filter) {
    absl::StatusOr<ExprPtr> child;
    if (!e.key.empty() && e.key[0] == '$') {
      if (e.key == "$and" || e.key == "$or" || e.key == "$nor") {
        child = ParseLogical(e.key, e.value, depth);
      } else if (e.key == "$comment") {
        continue;
      } else if (e.key == "$where") {
        return MongoError(kNotImplemented,
                          "$where is not supported: micro-mongo has no JavaScript engine");
      } else if (e.key == "$expr" || e.key == "$jsonSchema" || e.key == "$text") {
        return MongoError(kNotImplemented,
                          StrCat("query operator ", e.key, " is not supported by this server yet"));
      } else {
        return BadValue(StrCat("unknown top level operator: ", e.key));
      }
    } else if (IsOperatorObject(e.value)) {
      child = ParseOperators(FieldPath(e.key), e.value.Doc(), depth);
    } else if (e.value.type == BsonType::kRegex) {
      // {f: /re/} means a regex match, not value equality: never answer it wrongly.
      return MongoError(kNotImplemented, "regular expression matching is not supported yet");
    } else {
      child = ExprPtr(std::make_unique<ComparisonMatch>(FieldPath(e.key), CompareOp::kEq, e.value));
    }
    if (!child.ok()) return child.status();
    children.push_back(*std::move(child));
  }
  if (children.size() == 1) return std::move(children[0]);
  return ExprPtr(std::make_unique<AndMatch>(std::move(children)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Parse(std::string filter_bson) {
  auto m = std::make_unique<Matcher>();
  m->filter_ = std::move(filter_bson);
  DocView filter(m->filter_);
  if (filter.empty()) return m;
  auto root = ParseDocument(filter, 0);
  if (!root.ok()) return root.status();
  m->root_ = *std::move(root);
  ValueView id;
  if (filter.Find("_id", &id) && !id.IsDocumentLike() && id.type != BsonType::kRegex &&
      id.type != BsonType::kNull) {
    m->id_eq_ = id;
    m->has_id_eq_ = true;
  }
  return m;
}

}  // namespace micromongo::query
