#pragma once

// Find projections: inclusion ({a: 1, "b.c": 1}) or exclusion ({a: 0}), with MongoDB's
// _id rule (included unless excluded, in either mode), plus the projection operators
// $slice, $elemMatch, the positional "a.$" and (4.4+) computed fields whose values are
// aggregation expressions.

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "pipeline/expression.h"
#include <vector>

namespace micromongo::query {

class Projection {
 public:
  // Errors: 31254 (exclusion in an inclusion projection), 31253 (inclusion in an
  // exclusion), 31249/31250 (path collisions), 2 (bad values).
  static absl::StatusOr<std::unique_ptr<Projection>> Parse(bson::DocView spec);

  // The projected document's bytes. `filter` is the find's query, needed by "a.$"
  // (error 2 if it matches no element); computed fields compare strings under its
  // collation.
  // `let`: variables computed fields can read.
  absl::StatusOr<std::string> Apply(bson::DocView doc, const class Matcher* filter = nullptr,
                                    const pipeline::VariableMap* let = nullptr) const;

  struct Node {
    bool leaf = false;
    std::map<std::string, Node, std::less<>> children;
  };

 private:
  struct Special {
    enum Kind { kSlice, kElemMatch, kPositional, kComputed } kind;
    std::string path;       // dotted; for positional, the array's path without ".$"
    int64_t skip = 0, limit = 0;  // $slice: [skip, limit] or limit (skip < 0 from the end)
    bool slice_has_skip = false;
    std::shared_ptr<class Matcher> elem_match;
    std::shared_ptr<pipeline::Expression> expr;
  };
  absl::Status ApplySpecials(bson::DocView original, const class Matcher* filter,
                             const pipeline::VariableMap* let, std::string* projected) const;

  bool inclusion_ = false;
  bool include_id_ = true;
  Node root_;
  std::vector<Special> specials_;
};

}  // namespace micromongo::query
