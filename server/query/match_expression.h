#pragma once

// The match expression tree: a parsed filter. Leaves test the values found along a field
// path (with MongoDB's implicit array traversal); inner nodes combine them.
//
// Expressions reference operand bytes of the filter they were parsed from: keep the filter
// alive as long as the tree (Matcher does). Matching is const and thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "geo/geo_query.h"
#include "text/text_query.h"
#include "document/compare.h"
#include "pipeline/expression.h"
#include "query/field_path.h"

namespace micromongo::query {

// What a parsed filter is evaluated with, owned by the Matcher (which outlives the tree).
struct MatchEnv {
  // A command's `let` constants, visible to $expr as $$name (null: none).
  const pipeline::VariableMap* let = nullptr;
  // The request's collation for string comparisons (null: binary).
  const bson::Collator* collator = nullptr;
};

// Where $expr reports an evaluation error ({$divide: [1, "$zero"]}) while the calling thread
// runs Matcher::Evaluate: a failed expression must fail the command, not count as "no match".
// Null outside Evaluate (validators and $pull treat such documents as not matching).
absl::Status*& CurrentMatchError();

// What a node is, for code that inspects a parsed filter (the query planner, explain).
enum class MatchKind {
  kComparison, kIn, kExists, kType, kRegex, kMod, kSize, kElemMatch, kBits,
  kExpr, kJsonSchema, kAnd, kOr, kNot, kText, kGeo, kGeoNear,
};

class MatchExpression {
 public:
  virtual ~MatchExpression() = default;
  virtual MatchKind kind() const = 0;
  // The operands of $and, $or and $not (none for leaves).
  virtual size_t num_children() const { return 0; }
  virtual const MatchExpression* child(size_t i) const { return nullptr; }
  virtual bool Matches(bson::DocView doc) const = 0;
  // Matches one value with no path left to walk: an array element under $elemMatch's
  // value form ({a: {$elemMatch: {$gt: 1, $lt: 5}}}).
  virtual bool MatchesElement(const bson::ValueView& v) const = 0;
  // Makes the environment visible to this node and those below it; called once, before
  // any matching.
  virtual void Bind(const MatchEnv* env) {}
};

// A predicate on the value(s) at one path.
class PathMatchExpression : public MatchExpression {
 public:
  explicit PathMatchExpression(FieldPath path) : path_(std::move(path)) {}
  bool Matches(bson::DocView doc) const final;
  // One array element under $elemMatch's value form, compared as it is (a nested array is
  // not unwound: {a: {$elemMatch: {$eq: 5}}} does not match {a: [[5]]}).
  bool MatchesElement(const bson::ValueView& v) const final { return MatchesValue(v); }

  // Does one value found on the path satisfy the predicate?
  virtual bool MatchesValue(const bson::ValueView& v) const = 0;
  // Does a path that leads nowhere satisfy it ({a: null} matches a missing a)?
  virtual bool MatchesMissing() const { return false; }
  // Whether an array at the end of the path also offers its elements to MatchesValue
  // (false for operators on arrays themselves: $size, $elemMatch, $all's $elemMatch).
  virtual bool TraversesLeafArrays() const { return true; }
  const FieldPath& path() const { return path_; }

 private:
  bool MatchFrom(const bson::ValueView& v, size_t i) const;
  bool MatchPositional(const bson::ValueView& e, size_t i) const;
  bool MatchLeaf(const bson::ValueView& v) const;
  FieldPath path_;
};

enum class CompareOp { kEq, kLt, kLte, kGt, kGte };

// $eq $lt $lte $gt $gte (and implicit equality). Comparisons stay within the operand's
// type bracket, except against MinKey/MaxKey.
class ComparisonMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kComparison; }
  CompareOp op() const { return op_; }
  const bson::ValueView& operand() const { return operand_; }
  ComparisonMatch(FieldPath path, CompareOp op, bson::ValueView operand)
      : PathMatchExpression(std::move(path)), op_(op), operand_(operand) {}
  bool MatchesValue(const bson::ValueView& v) const override;
  bool MatchesMissing() const override;
  void Bind(const MatchEnv* env) override { collator_ = env->collator; }

 private:
  CompareOp op_;
  bson::ValueView operand_;
  const bson::Collator* collator_ = nullptr;
};

// $in: equality with any of the operands.
class RegexMatch;

// $in: equality with any of the operands; regex operands match strings.
class InMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kIn; }
  const std::vector<bson::ValueView>& operands() const { return operands_; }
  const std::vector<std::unique_ptr<RegexMatch>>& regexes() const { return regexes_; }
  bool has_null() const { return has_null_; }
  InMatch(FieldPath path, std::vector<bson::ValueView> operands,
          std::vector<std::unique_ptr<RegexMatch>> regexes);
  ~InMatch() override;
  bool MatchesValue(const bson::ValueView& v) const override;
  bool MatchesMissing() const override { return has_null_; }
  void Bind(const MatchEnv* env) override { collator_ = env->collator; }

 private:
  const bson::Collator* collator_ = nullptr;
  std::vector<bson::ValueView> operands_;
  std::vector<std::unique_ptr<RegexMatch>> regexes_;
  bool has_null_ = false;
};

// $exists: true (negated by NotMatch for false).
class ExistsMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kExists; }
  explicit ExistsMatch(FieldPath path) : PathMatchExpression(std::move(path)) {}
  bool MatchesValue(const bson::ValueView&) const override { return true; }
};

// $type: one of a set of BSON types ("number" covers all four numeric types).
class TypeMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kType; }
  const std::vector<BsonType>& types() const { return types_; }
  bool number() const { return number_; }
  TypeMatch(FieldPath path, std::vector<BsonType> types, bool number)
      : PathMatchExpression(std::move(path)), types_(std::move(types)), number_(number) {}
  bool MatchesValue(const bson::ValueView& v) const override;

 private:
  std::vector<BsonType> types_;
  bool number_;
};

// $regex (PCRE2): matches strings and symbols, and regex values with the same pattern and
// options. The compiled pattern is shared read-only between threads.
class RegexMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kRegex; }
  const std::string& pattern() const { return pattern_; }
  const std::string& options() const { return options_; }
  // Errors: code 51091 for patterns PCRE2 rejects, 51108 for bad options.
  static absl::StatusOr<std::unique_ptr<RegexMatch>> Make(FieldPath path,
                                                          std::string_view pattern,
                                                          std::string_view options);
  ~RegexMatch() override;
  bool MatchesValue(const bson::ValueView& v) const override;
  bool MatchesString(std::string_view s) const;

 private:
  RegexMatch(FieldPath path, std::string pattern, std::string options, void* code)
      : PathMatchExpression(std::move(path)),
        pattern_(std::move(pattern)),
        options_(std::move(options)),
        code_(code) {}
  std::string pattern_;
  std::string options_;
  void* code_;  // pcre2_code_8
};

// $mod: [divisor, remainder] on numbers (truncated to integers).
class ModMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kMod; }
  int64_t divisor() const { return divisor_; }
  int64_t remainder() const { return remainder_; }
  ModMatch(FieldPath path, int64_t divisor, int64_t remainder)
      : PathMatchExpression(std::move(path)), divisor_(divisor), remainder_(remainder) {}
  bool MatchesValue(const bson::ValueView& v) const override;

 private:
  int64_t divisor_, remainder_;
};

// $size: an array of exactly n elements.
class SizeMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kSize; }
  int64_t size() const { return size_; }
  SizeMatch(FieldPath path, int64_t size) : PathMatchExpression(std::move(path)), size_(size) {}
  bool MatchesValue(const bson::ValueView& v) const override;
  bool TraversesLeafArrays() const override { return false; }

 private:
  int64_t size_;
};

// $elemMatch: some element of an array satisfies `inner` — a filter applied to document
// elements (object form) or operators applied to each element (value form).
class ElemMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kElemMatch; }
  // The object form's filter on each element, or the value form's operators.
  const MatchExpression& inner() const { return *inner_; }
  bool value_form() const { return value_form_; }
  ElemMatch(FieldPath path, std::unique_ptr<MatchExpression> inner, bool value_form)
      : PathMatchExpression(std::move(path)), inner_(std::move(inner)), value_form_(value_form) {}
  bool MatchesValue(const bson::ValueView& v) const override;
  bool TraversesLeafArrays() const override { return false; }
  void Bind(const MatchEnv* env) override { inner_->Bind(env); }

 private:
  std::unique_ptr<MatchExpression> inner_;
  bool value_form_;
};

enum class BitsOp { kAllSet, kAllClear, kAnySet, kAnyClear };

// $bitsAllSet / $bitsAllClear / $bitsAnySet / $bitsAnyClear on integral numbers
// (two's complement) and BinData (little-endian bit order).
class BitsMatch : public PathMatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kBits; }
  BitsOp op() const { return op_; }
  const std::vector<uint32_t>& positions() const { return positions_; }
  BitsMatch(FieldPath path, BitsOp op, std::vector<uint32_t> positions)
      : PathMatchExpression(std::move(path)), op_(op), positions_(std::move(positions)) {}
  bool MatchesValue(const bson::ValueView& v) const override;

 private:
  BitsOp op_;
  std::vector<uint32_t> positions_;
};

// $expr: an aggregation expression evaluated against the whole document.
class ExprMatch : public MatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kExpr; }
  const pipeline::Expression& expr() const { return *expr_; }
  explicit ExprMatch(std::unique_ptr<pipeline::Expression> expr) : expr_(std::move(expr)) {}
  bool Matches(bson::DocView doc) const override;
  bool MatchesElement(const bson::ValueView&) const override { return false; }
  void Bind(const MatchEnv* env) override { env_ = env; }

 private:
  std::unique_ptr<pipeline::Expression> expr_;
  const MatchEnv* env_ = nullptr;
};

// $geoWithin / $within / $geoIntersects (server/geo): a stored geometry within, or
// meeting, the query's shape.
class GeoMatch : public PathMatchExpression {
 public:
  GeoMatch(FieldPath path, std::shared_ptr<const geo::GeoPredicate> predicate)
      : PathMatchExpression(std::move(path)), predicate_(std::move(predicate)) {}
  MatchKind kind() const override { return MatchKind::kGeo; }
  const geo::GeoPredicate& predicate() const { return *predicate_; }
  bool MatchesValue(const bson::ValueView& v) const override { return predicate_->MatchesValue(v); }

 private:
  std::shared_ptr<const geo::GeoPredicate> predicate_;
};

// $near / $nearSphere: as a filter, a geometry within its distance bounds; the order by
// distance comes from the GEO_NEAR plan, the only one such a query has (it needs a geo
// index, as in MongoDB).
class GeoNearMatch : public PathMatchExpression {
 public:
  GeoNearMatch(FieldPath path, geo::NearQuery query, bool sphere_op)
      : PathMatchExpression(std::move(path)), query_(std::move(query)), sphere_op_(sphere_op) {}
  MatchKind kind() const override { return MatchKind::kGeoNear; }
  const geo::NearQuery& query() const { return query_; }
  bool sphere_op() const { return sphere_op_; }  // $nearSphere (else $near)
  bool MatchesValue(const bson::ValueView& v) const override {
    std::optional<double> d = query_.Distance(v);
    return d && *d >= query_.min_distance && (query_.max_distance < 0 || *d <= query_.max_distance);
  }

 private:
  geo::NearQuery query_;
  bool sphere_op_;
};

// $text: {$search, $language, $caseSensitive, $diacriticSensitive}. Only a collection's
// text index gives it meaning (its languages and fields): the planner binds the parsed
// query and the index (Bind) before any stage evaluates it; unbound, evaluating it is an
// error (reported through CurrentMatchError). Plans read the index for it (TEXT_OR); the
// node itself decides documents another $or branch found.
class TextMatch : public MatchExpression {
 public:
  TextMatch(std::string search, std::string language, bool case_sensitive, bool diacritic_sensitive)
      : search_(std::move(search)),
        language_(std::move(language)),
        case_sensitive_(case_sensitive),
        diacritic_sensitive_(diacritic_sensitive) {}
  MatchKind kind() const override { return MatchKind::kText; }
  const std::string& search() const { return search_; }
  const std::string& language() const { return language_; }  // empty: the index's default
  bool case_sensitive() const { return case_sensitive_; }
  bool diacritic_sensitive() const { return diacritic_sensitive_; }
  bool Matches(bson::DocView doc) const override;
  bool MatchesElement(const bson::ValueView&) const override { return false; }

  // Gives the node its index and parsed query (the planner does, once per request; the
  // same index each time).
  void BindIndex(std::shared_ptr<const text::TextQuery> query,
                 std::shared_ptr<const text::TextIndexSpec> index) const {
    std::lock_guard<std::mutex> l(mu_);
    query_ = std::move(query);
    index_ = std::move(index);
  }

 private:
  std::string search_, language_;
  bool case_sensitive_, diacritic_sensitive_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const text::TextQuery> query_;
  mutable std::shared_ptr<const text::TextIndexSpec> index_;
};

class AndMatch : public MatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kAnd; }
  size_t num_children() const override { return children_.size(); }
  const MatchExpression* child(size_t i) const override { return children_[i].get(); }
  explicit AndMatch(std::vector<std::unique_ptr<MatchExpression>> children)
      : children_(std::move(children)) {}
  bool Matches(bson::DocView doc) const override {
    for (const auto& c : children_) {
      if (!c->Matches(doc)) return false;
    }
    return true;
  }
  bool MatchesElement(const bson::ValueView& v) const override {
    for (const auto& c : children_) {
      if (!c->MatchesElement(v)) return false;
    }
    return true;
  }
  void Bind(const MatchEnv* env) override {
    for (const auto& c : children_) c->Bind(env);
  }

 private:
  std::vector<std::unique_ptr<MatchExpression>> children_;
};

class OrMatch : public MatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kOr; }
  size_t num_children() const override { return children_.size(); }
  const MatchExpression* child(size_t i) const override { return children_[i].get(); }
  explicit OrMatch(std::vector<std::unique_ptr<MatchExpression>> children)
      : children_(std::move(children)) {}
  bool Matches(bson::DocView doc) const override {
    for (const auto& c : children_) {
      if (c->Matches(doc)) return true;
    }
    return false;
  }
  bool MatchesElement(const bson::ValueView& v) const override {
    for (const auto& c : children_) {
      if (c->MatchesElement(v)) return true;
    }
    return false;
  }
  void Bind(const MatchEnv* env) override {
    for (const auto& c : children_) c->Bind(env);
  }

 private:
  std::vector<std::unique_ptr<MatchExpression>> children_;
};

// $not, $ne ($not $eq), $nin ($not $in), $nor ($not $or), $exists: false.
class NotMatch : public MatchExpression {
 public:
  MatchKind kind() const override { return MatchKind::kNot; }
  size_t num_children() const override { return 1; }
  const MatchExpression* child(size_t) const override { return child_.get(); }
  explicit NotMatch(std::unique_ptr<MatchExpression> child) : child_(std::move(child)) {}
  bool Matches(bson::DocView doc) const override { return !child_->Matches(doc); }
  bool MatchesElement(const bson::ValueView& v) const override {
    return !child_->MatchesElement(v);
  }
  void Bind(const MatchEnv* env) override { child_->Bind(env); }

 private:
  std::unique_ptr<MatchExpression> child_;
};

}  // namespace micromongo::query
