#include "query/match_expression.h"

#include <cmath>
#include <optional>

#include "document/builder.h"
#include "document/compare.h"

namespace micromongo::query {

using bson::ValueView;

bool PathMatchExpression::Matches(bson::DocView doc) const {
  ValueView root{BsonType::kDocument, doc.data(), doc.size()};
  return MatchFrom(root, 0);
}

// `v` is the value reached by the first `i` path components.
bool PathMatchExpression::MatchLeaf(const ValueView& v) const {
  if (MatchesValue(v)) return true;
  if (v.type == BsonType::kArray && TraversesLeafArrays()) {
    // A leaf array matches if any element does.
    for (const bson::ElementView& e : v.Doc()) {
      if (MatchesValue(e.value)) return true;
    }
  }
  return false;
}

bool PathMatchExpression::MatchFrom(const ValueView& v, size_t i) const {
  if (i == path_.size()) return MatchLeaf(v);
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
      if (index && pos == *index && MatchPositional(e.value, i + 1)) return true;
      ++pos;
    }
    return false;
  }
  return MatchesMissing();
}

// The element a numeric component selected ("a.0" of an array): compared as a whole at the
// end of the path (not unwound: {"a.0": 42} does not match {a: [[42]]}), and, if the path
// goes on, only into documents and arrays (a scalar there has no field to be null:
// {"a.0.b": null} does not match {a: [5]}), as MongoDB's element path does.
bool PathMatchExpression::MatchPositional(const ValueView& e, size_t i) const {
  if (i == path_.size()) return MatchesValue(e);
  if (e.type != BsonType::kDocument && e.type != BsonType::kArray) return false;
  return MatchFrom(e, i);
}

bool ComparisonMatch::MatchesValue(const ValueView& v) const {
  if (op_ == CompareOp::kEq) {
    if (operand_.type == BsonType::kNull) return v.type == BsonType::kNull;
    return bson::ValuesEqual(v, operand_, collator_);
  }
  bool cross_type = operand_.type == BsonType::kMinKey || operand_.type == BsonType::kMaxKey;
  if (!cross_type &&
      bson::CanonicalTypeOrder(v.type) != bson::CanonicalTypeOrder(operand_.type)) {
    return false;
  }
  int c = bson::CompareValues(v, operand_, collator_);
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

InMatch::InMatch(FieldPath path, std::vector<ValueView> operands,
                 std::vector<std::unique_ptr<RegexMatch>> regexes)
    : PathMatchExpression(std::move(path)),
      operands_(std::move(operands)),
      regexes_(std::move(regexes)) {
  for (const ValueView& o : operands_) {
    if (o.type == BsonType::kNull) has_null_ = true;
  }
}

InMatch::~InMatch() = default;

bool InMatch::MatchesValue(const ValueView& v) const {
  for (const ValueView& o : operands_) {
    if (o.type == BsonType::kNull ? v.type == BsonType::kNull : bson::ValuesEqual(v, o, collator_)) {
      return true;
    }
  }
  for (const auto& r : regexes_) {
    if (r->MatchesValue(v)) return true;
  }
  return false;
}

absl::Status*& CurrentMatchError() {
  thread_local absl::Status* error = nullptr;
  return error;
}

bool ExprMatch::Matches(bson::DocView doc) const {
  auto v = pipeline::EvaluateOnBson(*expr_, doc, env_ ? env_->let : nullptr,
                                    env_ ? env_->collator : nullptr);
  if (!v.ok()) {
    absl::Status* error = CurrentMatchError();
    if (error != nullptr && error->ok()) *error = v.status();
    return false;
  }
  return pipeline::IsTrue(*v);
}

bool TextMatch::Matches(bson::DocView doc) const {
  std::shared_ptr<const text::TextQuery> query;
  std::shared_ptr<const text::TextIndexSpec> index;
  {
    std::lock_guard<std::mutex> l(mu_);
    query = query_;
    index = index_;
  }
  absl::StatusOr<bool> matched =
      query == nullptr ? absl::StatusOr<bool>(absl::InternalError("$text evaluated without its text index"))
                       : query->Matches(doc, *index, /*from_index=*/false);
  if (matched.ok()) return *matched;
  absl::Status* error = CurrentMatchError();
  if (error != nullptr && error->ok()) *error = matched.status();
  return false;
}

bool TypeMatch::MatchesValue(const ValueView& v) const {
  if (number_ && v.IsNumber()) return true;
  for (BsonType t : types_) {
    if (v.type == t) return true;
  }
  return false;
}

bool ModMatch::MatchesValue(const ValueView& v) const {
  if (!v.IsNumber()) return false;
  double d = v.AsDouble();
  int64_t n;
  if (v.type == BsonType::kInt64) {
    n = v.Int64();
  } else if (v.type == BsonType::kInt32) {
    n = v.Int32();
  } else {
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return false;
    n = static_cast<int64_t>(std::trunc(d));
  }
  if (divisor_ == -1) return remainder_ == 0;  // avoids INT64_MIN % -1
  return n % divisor_ == remainder_;
}

bool SizeMatch::MatchesValue(const ValueView& v) const {
  return v.type == BsonType::kArray && static_cast<int64_t>(v.Doc().CountElements()) == size_;
}

bool ElemMatch::MatchesValue(const ValueView& v) const {
  if (v.type != BsonType::kArray) return false;
  for (const bson::ElementView& e : v.Doc()) {
    if (value_form_) {
      if (inner_->MatchesElement(e.value)) return true;
    } else if (e.value.type == BsonType::kDocument || e.value.type == BsonType::kArray) {
      if (inner_->Matches(e.value.Doc())) return true;
    }
  }
  return false;
}

bool BitsMatch::MatchesValue(const ValueView& v) const {
  int64_t n = 0;
  const char* bin = nullptr;
  int32_t bin_len = 0;
  switch (v.type) {
    case BsonType::kInt32: n = v.Int32(); break;
    case BsonType::kInt64: n = v.Int64(); break;
    case BsonType::kDouble: {
      double d = v.Double();
      if (!std::isfinite(d) || d != std::trunc(d) || d < -9.2e18 || d > 9.2e18) return false;
      n = static_cast<int64_t>(d);
      break;
    }
    case BsonType::kDecimal128: {
      double d = v.AsDouble();
      if (!std::isfinite(d) || d != std::trunc(d) || d < -9.2e18 || d > 9.2e18) return false;
      n = static_cast<int64_t>(d);
      break;
    }
    case BsonType::kBinary:
      bin_len = bson::ReadInt32(v.data);
      bin = v.data + 5;
      break;
    default:
      return false;
  }
  auto is_set = [&](uint32_t p) -> bool {
    if (bin != nullptr) {
      return p / 8 < static_cast<uint32_t>(bin_len) && ((bin[p / 8] >> (p % 8)) & 1);
    }
    return p < 64 ? ((static_cast<uint64_t>(n) >> p) & 1) : n < 0;  // sign extension
  };
  for (uint32_t p : positions_) {
    bool set = is_set(p);
    switch (op_) {
      case BitsOp::kAllSet: if (!set) return false; break;
      case BitsOp::kAllClear: if (set) return false; break;
      case BitsOp::kAnySet: if (set) return true; break;
      case BitsOp::kAnyClear: if (!set) return true; break;
    }
  }
  return op_ == BitsOp::kAllSet || op_ == BitsOp::kAllClear;
}

}  // namespace micromongo::query
