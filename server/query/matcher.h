#pragma once

// Parses a filter document once into a MatchExpression tree and matches BSON documents
// against it. Owns a copy of the filter bytes the tree points into.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "micromongo/document.h"
#include <optional>
#include "query/match_expression.h"

namespace micromongo::query {

class Matcher {
 public:
  // Errors: code 2 (BadValue) for unknown operators and bad operands, 238 for operators
  // this server does not support.
  // `let`: the command's let option, whose variables $expr can read as $$name.
  // `collator`: the request's collation (null: binary string comparison), shared with the
  // sort and distinct of the same request.
  static absl::StatusOr<std::unique_ptr<Matcher>> Parse(
      std::string filter_bson, const Document* let = nullptr,
      std::shared_ptr<const bson::Collator> collator = nullptr);
  // The same with variables already evaluated (an aggregation's let).
  static absl::StatusOr<std::unique_ptr<Matcher>> Parse(
      std::string filter_bson, const pipeline::VariableMap& let,
      std::shared_ptr<const bson::Collator> collator = nullptr);

  // The evaluated let variables (null without a let option); updates read them too.
  const pipeline::VariableMap* let() const { return has_let_ ? &let_ : nullptr; }
  // The collation strings are compared under (null: binary).
  const bson::Collator* collator() const { return collator_.get(); }
  const std::shared_ptr<const bson::Collator>& shared_collator() const { return collator_; }

  bool Matches(bson::DocView doc) const { return root_ == nullptr || root_->Matches(doc); }
  // The same, failing with the error of an $expr that cannot be evaluated on `doc` (what
  // queries use: MongoDB fails the command rather than skipping the document).
  absl::StatusOr<bool> Evaluate(bson::DocView doc) const;
  // True for the empty filter.
  bool MatchesAll() const { return root_ == nullptr; }
  // If the filter is {_id: <scalar>} (or has that conjunct), the value: lets callers fetch
  // one record by key instead of scanning.
  const bson::ValueView* id_equality() const { return has_id_eq_ ? &id_eq_ : nullptr; }
  bson::DocView filter() const { return bson::DocView(filter_); }
  // The parsed tree (null for the empty filter), for the planner and explain.
  const MatchExpression* root() const { return root_.get(); }

  // The filter's $text, when it is at the top level or in a top-level $and (null
  // otherwise); contains_text() also when it is under an $or.
  const TextMatch* text() const { return text_; }
  bool contains_text() const { return contains_text_; }
  // The filter's $text wherever it is (null: none).
  const TextMatch* any_text() const { return any_text_; }
  // The filter's $near / $nearSphere (at the top level or in a top-level $and; elsewhere
  // it fails to parse), or null.
  const GeoNearMatch* near() const { return near_; }
  // The same filter without its $text (same let variables and collation): what the stages
  // of a text plan apply besides the text search itself.
  absl::StatusOr<std::unique_ptr<Matcher>> WithoutText() const;
  // The same filter without its $near / $nearSphere (and their distances): what a
  // GEO_NEAR stage applies besides the distances it computes itself.
  absl::StatusOr<std::unique_ptr<Matcher>> WithoutNear() const;
  // Another filter with this one's let variables and collation (an $or branch, planned on
  // its own).
  absl::StatusOr<std::unique_ptr<Matcher>> Sibling(std::string filter_bson) const;

  // The positional operator's element: the first index of the array at `array_path` for
  // which the filter matches `doc` with that array narrowed to the one element. nullopt if
  // the filter does not constrain the path, or nothing matches.
  std::optional<size_t> FirstMatchingIndex(const Document& doc, std::string_view array_path) const;

 private:
  static absl::StatusOr<std::unique_ptr<Matcher>> Parse(
      std::string filter_bson, pipeline::VariableMap let, bool has_let,
      std::shared_ptr<const bson::Collator> collator);

  std::string filter_;
  std::unique_ptr<MatchExpression> root_;
  pipeline::VariableMap let_;
  bool has_let_ = false;
  std::shared_ptr<const bson::Collator> collator_;
  MatchEnv env_;
  bson::ValueView id_eq_;
  bool has_id_eq_ = false;
  const TextMatch* text_ = nullptr;
  const TextMatch* any_text_ = nullptr;
  const GeoNearMatch* near_ = nullptr;
  bool contains_text_ = false;
};

}  // namespace micromongo::query
