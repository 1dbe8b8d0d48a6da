#pragma once

// Projections, as MongoDB 4.4+ parses and applies them for find and for the aggregation
// stages $project, $addFields/$set and $unset: one tree of paths whose leaves include,
// exclude or compute a field.
//
// - Inclusion ({a: 1, "b.c": 1, d: "$x"}): the included fields in the input's order (inside
//   arrays only subdocuments remain), then computed fields in the specification's order
//   (replacing a field of the same name where it stands). _id is included unless excluded.
// - Exclusion ({a: 0, "b.c": 0}): everything else, reaching into arrays of subdocuments.
// - Added fields ($addFields): the input with computed fields set; a dotted or nested path
//   replaces non-documents along it with documents and sets the field in every element of
//   an array it meets.
// - Find-only operators: "a.$" (the element the filter matched), {$elemMatch: ...} and
//   {$slice: n | [skip, limit]}; {$meta: ...} in both.
//
// Nested objects are sub-projections ({a: {b: 1}} is {"a.b": 1}); an object whose single
// field is an operator is an expression. Errors carry MongoDB's codes (31249/31250 path
// collisions, 31252/31253/31254/31310 mixed modes, 51270/51272 empty specifications, ...).

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "micromongo/document.h"
#include "pipeline/expression.h"

namespace micromongo::query {

class Matcher;

class Projection {
 public:
  enum class Mode { kInclusion, kExclusion, kAddFields };

  // A find's projection ({} never reaches here: it means no projection).
  static absl::StatusOr<std::unique_ptr<Projection>> ParseFind(
      bson::DocView spec, const pipeline::ParseContext& context = {});
  // $project: agg rules (no find operators; at least one field).
  static absl::StatusOr<std::unique_ptr<Projection>> ParseProject(const Document& spec,
                                                                  const pipeline::ParseContext& context);
  // $addFields / $set: every value an expression or a literal.
  static absl::StatusOr<std::unique_ptr<Projection>> ParseAddFields(const Document& spec,
                                                                    const pipeline::ParseContext& context);
  // $unset: the exclusion of `paths`.
  static absl::StatusOr<std::unique_ptr<Projection>> Exclusion(const std::vector<std::string>& paths);

  struct ApplyContext {
    // The find's filter ("a.$" needs it; error 51246 when it matched no element).
    const Matcher* filter = nullptr;
    const pipeline::VariableMap* let = nullptr;
    const bson::Collator* collator = nullptr;
    const pipeline::DocumentMeta* meta = nullptr;
  };
  // The projected document's bytes.
  absl::StatusOr<std::string> Apply(bson::DocView doc, const ApplyContext& context) const;
  // For find: `filter` also supplies the collation and the variables.
  absl::StatusOr<std::string> Apply(bson::DocView doc, const Matcher* filter = nullptr,
                                    const pipeline::VariableMap* let = nullptr) const;

  Mode mode() const { return mode_; }
  // For an inclusion projection of plain fields only (no computed fields, find operators
  // or positional paths): the included dotted paths (without _id), and whether _id is
  // kept. nullopt otherwise. What the planner needs to answer from an index alone.
  std::optional<std::vector<std::string>> PlainInclusion(bool* includes_id) const;

  struct Node {
    enum class Kind { kInner, kInclude, kExclude, kComputed, kSlice, kElemMatch, kPositional };
    Kind kind = Kind::kInner;
    std::map<std::string, Node, std::less<>> children;
    std::vector<std::string> order;  // children in the order the specification gave them
    std::shared_ptr<const pipeline::Expression> expr;
    int64_t slice_skip = 0, slice_limit = 0;
    bool slice_has_skip = false;
    std::shared_ptr<const Matcher> elem_match;
    // What the subtree holds (set after parsing).
    bool has_projection = false;  // include/exclude/positional/slice leaves
    bool has_computed = false;    // computed fields
  };

 private:
  struct Special {
    Node::Kind kind;
    std::string path;  // dotted
    const Node* node;
  };
  absl::Status ApplySpecials(bson::DocView original, const ApplyContext& context, Document* out) const;
  // Sets the computed top-level fields on `projected` as Document::Set and Remove would
  // (a field it has keeps its place, a new one goes at the end), in BSON; nullopt when
  // `projected` holds one of their names twice (the tree path then decides).
  absl::StatusOr<std::optional<std::string>> SpliceComputed(bson::DocView original, const ApplyContext& context,
                                                            bson::DocView projected) const;
  // Whether Apply may splice (SpliceComputed): computed fields only at the top level, no
  // find operators. Decoding a document into a tree and encoding it again cost ~8k
  // instructions a document for a {score: {$meta: "textScore"}} projection (callgrind:
  // 29% of a $text query returning 100 documents).
  void SetSplice();

  Mode mode_ = Mode::kExclusion;
  Node root_;
  std::vector<Special> specials_;  // find operators, in specification order
  bool needs_tree_ = false;        // computed fields or find operators
  bool splice_ = false;            // SetSplice()
  // The computed fields SpliceComputed sets, in specification order.
  std::vector<std::pair<std::string, const pipeline::Expression*>> spliced_;
};

}  // namespace micromongo::query
