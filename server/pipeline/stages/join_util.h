#pragma once

// Helpers shared by the joining stages ($lookup, $graphLookup): the values a path reaches,
// equality filters over them, an in-memory hash index of a foreign collection, and setting
// one field of an output document.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"
#include "micromongo/document.h"
#include "pipeline/context.h"

namespace micromongo::query {
class Matcher;
}

namespace micromongo::pipeline::stages {

std::vector<std::string> SplitDotted(std::string_view path);

// Every value `parts` reaches in `doc`, as MongoDB's extractAllElementsAlongPath: arrays
// along the path are walked into their subdocuments, and an array at the end contributes
// its elements.
void ValuesAlongPath(bson::DocView doc, const std::vector<std::string>& parts, std::vector<Value>* out);

// A filter matching documents whose `field` equals one of `values` (equality as $eq: a
// regex matches only the same regex); null matches a missing field. With no values: as
// for a missing value, {field: null}.
std::string EqualityFilter(std::string_view field, const std::vector<Value>& values);

// The documents of a collection indexed in memory by the values a field takes (for
// equality joins without a usable index): built once, probed per input document.
class HashIndex {
 public:
  // Reads every document of `request`'s collection. Fails with 292-style errors past the
  // memory limit (the caller then falls back to per-document reads).
  static absl::StatusOr<std::unique_ptr<HashIndex>> Build(ExecContext* ctx, const ReadRequest& request,
                                                          const std::vector<std::string>& field);
  // The documents (in collection order, without repeats) whose field equals a value of
  // `values` (none: null).
  std::vector<const std::string*> Probe(const std::vector<Value>& values) const;

 private:
  const bson::Collator* collator_ = nullptr;
  std::vector<std::string> docs_;
  absl::flat_hash_map<std::string, std::vector<uint32_t>> by_key_;
};

// The key string of a value.
std::string ValueKey(const Value& v, const bson::Collator* collator);

// `doc` with `field` (dotted) set to `value` (replacing what was there, creating documents
// along the path).
std::string SetField(bson::DocView doc, const std::vector<std::string>& field, const Value& value);
// The same with an array of documents given as BSON (the joined documents, not decoded).
std::string SetFieldToDocuments(bson::DocView doc, const std::vector<std::string>& field,
                                const std::vector<std::string_view>& docs);

}  // namespace micromongo::pipeline::stages
