#pragma once

// Wildcard indexes ({"$**": 1}, {"a.b.$**": 1}, wildcardProjection), as MongoDB keys them:
// every leaf of the document (or of the projected part) gives the key (path, value), the
// path dotted without array positions. Documents are entered; arrays are walked one level
// (their document elements entered, nested arrays keyed whole); an empty document is keyed
// {} and an empty array undefined; field names holding a dot are skipped; _id is left out
// unless the projection includes it. A path reached through an array makes the index
// multikey (tracked for the whole index here; MongoDB tracks it per path).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"

namespace micromongo::index {

// The key string of a wildcard entry's first field: the path as a string (never collated),
// which the planner bounds to a point.
std::string PathKeyString(std::string_view path);

class WildcardProjection {
 public:
  // From the key pattern's field ("$**" or "a.b.$**") and the wildcardProjection option
  // (empty: none; only with "$**"). Errors: 67 for a projection the index cannot take,
  // 31253/31254 for mixed inclusion and exclusion.
  static absl::StatusOr<WildcardProjection> Make(std::string_view key_field, bson::DocView projection);

  // Whether the index holds the keys of `path` (dotted): the planner's test.
  bool Covers(std::string_view path) const;
  // The (path, value) pairs of `doc`, each once; `*multikey` set when an array was walked.
  void Keys(bson::DocView doc, std::vector<std::pair<std::string, bson::ValueView>>* out, bool* multikey) const;

 private:
  enum class Decision { kInclude, kDescend, kExclude };
  Decision Decide(std::string_view path) const;
  void Traverse(bson::DocView obj, bool in_array, std::string* path, Decision parent,
                std::vector<std::pair<std::string, bson::ValueView>>* out, bool* multikey) const;

  bool inclusion_ = false;
  std::vector<std::string> paths_;  // none: every path but _id
  bool include_id_ = false;
};

}  // namespace micromongo::index
