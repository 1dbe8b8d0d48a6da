#pragma once

// Find projections: inclusion ({a: 1, "b.c": 1}) or exclusion ({a: 0}), with MongoDB's
// _id rule (included unless excluded, in either mode).

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "document/bson_view.h"

namespace micromongo::query {

class Projection {
 public:
  // Errors: 31254 (exclusion in an inclusion projection), 31253 (inclusion in an
  // exclusion), 31249/31250 (path collisions), 2 (bad values).
  static absl::StatusOr<std::unique_ptr<Projection>> Parse(bson::DocView spec);

  // The projected document's bytes.
  std::string Apply(bson::DocView doc) const;

  struct Node {
    bool leaf = false;
    std::map<std::string, Node, std::less<>> children;
  };

 private:
  bool inclusion_ = false;
  bool include_id_ = true;
  Node root_;
};

}  // namespace micromongo::query
