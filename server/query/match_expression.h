#pragma once

// The match expression tree: a parsed filter. Leaves test the values found along a field
// path (with MongoDB's implicit array traversal); inner nodes combine them.
//
// Expressions reference operand bytes of the filter they were parsed from: keep the filter
// alive as long as the tree (Matcher does). Matching is const and thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "document/bson_view.h"
#include "query/field_path.h"

namespace micromongo::query {

class MatchExpression {
 public:
  virtual ~MatchExpression() = default;
  virtual bool Matches(bson::DocView doc) const = 0;
};

// A predicate on the value(s) at one path.
class PathMatchExpression : public MatchExpression {
 public:
  explicit PathMatchExpression(FieldPath path) : path_(std::move(path)) {}
  bool Matches(bson::DocView doc) const final;

  // Does one value found on the path satisfy the predicate?
  virtual bool MatchesValue(const bson::ValueView& v) const = 0;
  // Does a path that leads nowhere satisfy it ({a: null} matches a missing a)?
  virtual bool MatchesMissing() const { return false; }
  const FieldPath& path() const { return path_; }

 private:
  bool MatchFrom(const bson::ValueView& v, size_t i) const;
  FieldPath path_;
};

enum class CompareOp { kEq, kLt, kLte, kGt, kGte };

// $eq $lt $lte $gt $gte (and implicit equality). Comparisons stay within the operand's
// type bracket, except against MinKey/MaxKey.
class ComparisonMatch : public PathMatchExpression {
 public:
  ComparisonMatch(FieldPath path, CompareOp op, bson::ValueView operand)
      : PathMatchExpression(std::move(path)), op_(op), operand_(operand) {}
  bool MatchesValue(const bson::ValueView& v) const override;
  bool MatchesMissing() const override;

 private:
  CompareOp op_;
  bson::ValueView operand_;
};

// $in: equality with any of the operands.
class InMatch : public PathMatchExpression {
 public:
  InMatch(FieldPath path, std::vector<bson::ValueView> operands);
  bool MatchesValue(const bson::ValueView& v) const override;
  bool MatchesMissing() const override { return has_null_; }

 private:
  std::vector<bson::ValueView> operands_;
  bool has_null_ = false;
};

// $exists: true (negated by NotMatch for false).
class ExistsMatch : public PathMatchExpression {
 public:
  explicit ExistsMatch(FieldPath path) : PathMatchExpression(std::move(path)) {}
  bool MatchesValue(const bson::ValueView&) const override { return true; }
};

class AndMatch : public MatchExpression {
 public:
  explicit AndMatch(std::vector<std::unique_ptr<MatchExpression>> children)
      : children_(std::move(children)) {}
  bool Matches(bson::DocView doc) const override {
    for (const auto& c : children_) {
      if (!c->Matches(doc)) return false;
    }
    return true;
  }

 private:
  std::vector<std::unique_ptr<MatchExpression>> children_;
};

class OrMatch : public MatchExpression {
 public:
  explicit OrMatch(std::vector<std::unique_ptr<MatchExpression>> children)
      : children_(std::move(children)) {}
  bool Matches(bson::DocView doc) const override {
    for (const auto& c : children_) {
      if (c->Matches(doc)) return true;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<MatchExpression>> children_;
};

// $not, $ne ($not $eq), $nin ($not $in), $nor ($not $or), $exists: false.
class NotMatch : public MatchExpression {
 public:
  explicit NotMatch(std::unique_ptr<MatchExpression> child) : child_(std::move(child)) {}
  bool Matches(bson::DocView doc) const override { return !child_->Matches(doc); }

 private:
  std::unique_ptr<MatchExpression> child_;
};

}  // namespace micromongo::query
