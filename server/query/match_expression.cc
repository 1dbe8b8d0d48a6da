#include "query/match_expression.h"

#include "document/compare.h"

namespace micromongo::query {

using bson::ValueView;

bool PathMatchExpression::Matches(bson::DocView doc) const {
  ValueView root{BsonType::kDocument, doc.data(), doc.size()};
  return MatchFrom(root, 0);
}

// `v` is the value reached by the first `i` path components.
bool PathMatchExpression::MatchFrom(const ValueView& v, size_t i) const {
  if (i == path_.size()) {
    if (MatchesValue(v)) return true;
    if (v.type == BsonType::kArray) {
      // A leaf array matches if any element does.
      for (const bson::ElementView& e : v.Doc()) {
        if (MatchesValue(e.value)) return true;
      }
    }
    return false;
  }
  if (v.type == BsonType::kDocument) {
    ValueView child;
    if (!v.Doc().Find(path_.part(i), &child)) return MatchesMissing();
    return MatchFrom(child, i + 1);
  }
  if (v.type == BsonType::kArray) {
    // Implicit traversal: the rest of the path applies to every subdocument element; a
    // numeric component also addresses the element at that index.
    std::optional<size_t> index = path_.index(i);
    size_t pos = 0;
    for (const bson::ElementView& e : v.Doc()) {
      if (e.value.type == BsonType::kDocument && MatchFrom(e.value, i)) return true;
      if (index && pos == *index && MatchFrom(e.value, i + 1)) return true;
      ++pos;
    }
    return false;
  }
  return MatchesMissing();
}

bool ComparisonMatch::MatchesValue(const ValueView& v) const {
  if (op_ == CompareOp::kEq) {
    if (operand_.type == BsonType::kNull) return v.type == BsonType::kNull;
    return bson::ValuesEqual(v, operand_);
  }
  bool cross_type = operand_.type == BsonType::kMinKey || operand_.type == BsonType::kMaxKey;
  if (!cross_type &&
      bson::CanonicalTypeOrder(v.type) != bson::CanonicalTypeOrder(operand_.type)) {
    return false;
  }
  int c = bson::CompareValues(v, operand_);
  switch (op_) {
    case CompareOp::kLt: return c < 0;
    case CompareOp::kLte: return c <= 0;
    case CompareOp::kGt: return c > 0;
    case CompareOp::kGte: return c >= 0;
    case CompareOp::kEq: break;
  }
  return false;
}

bool ComparisonMatch::MatchesMissing() const {
  // {a: null}, {a: {$gte: null}} and {a: {$lte: null}} match documents without a.
  return operand_.type == BsonType::kNull &&
         (op_ == CompareOp::kEq || op_ == CompareOp::kLte || op_ == CompareOp::kGte);
}

InMatch::InMatch(FieldPath path, std::vector<ValueView> operands)
    : PathMatchExpression(std::move(path)), operands_(std::move(operands)) {
  for (const ValueView& o : operands_) {
    if (o.type == BsonType::kNull) has_null_ = true;
  }
}

bool InMatch::MatchesValue(const ValueView& v) const {
  for (const ValueView& o : operands_) {
    if (o.type == BsonType::kNull ? v.type == BsonType::kNull : bson::ValuesEqual(v, o)) {
      return true;
    }
  }
  return false;
}

}  // namespace micromongo::query
