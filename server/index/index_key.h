#pragma once

// Secondary index definitions and their keys: MongoDB's index document ({v, key, name,
// unique, sparse, partialFilterExpression, hidden, expireAfterSeconds, collation}) parsed
// once, and the index keys of a document, encoded so that byte order is the index's order
// (descending fields inverted).
//
// Key generation, which the query planner's bounds rely on (every document a predicate can
// match has a key inside the predicate's bounds):
// - a path's values are found as the matcher finds them: documents along the path are
//   entered, arrays along it are walked into their document elements (and, for a numeric
//   component, into the element at that position); an array at the end of the path gives
//   one key per element (nested arrays whole), an empty one the key `undefined`;
// - a missing value (the field absent, a scalar where the path continues, or an array
//   element document without the field) gives the key null, as does a path that reaches
//   nothing at all;
// - two fields with several values from the same array give every combination; from
//   different arrays they are "parallel arrays" (error 171);
// - hashed fields hold MongoDB's hash of the value (arrays refused: 16766);
// - wildcard indexes key every leaf as (path, value) instead (wildcard.h).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "document/compare.h"
#include "query/field_path.h"
#include "index/wildcard.h"
#include "query/matcher.h"
#include "text/text_index.h"
#include "geo/grid.h"

namespace micromongo::index {

struct IndexKey {
  std::string encoded;  // the key strings of the values, in index order
  std::string values;   // BSON document of the key values (empty names), in key-pattern order
};

// kText and kTextScore are a text index's _fts (a term) and _ftsx (its score) fields;
// kGeo2dsphere a 2dsphere field, keyed by S2 cells (geo/cells.h).
// kGeo2d a 2d field, keyed by grid cells (geo/grid.h).
enum class KeyKind { kAscending, kDescending, kHashed, kText, kTextScore, kGeo2dsphere, kGeo2d };

struct KeyField {
  query::FieldPath path;
  KeyKind kind = KeyKind::kAscending;
  bool descending() const { return kind == KeyKind::kDescending; }
  // Whether its keys are not the document's values (hashes, terms, cells): such a field
  // gives no sort, covers nothing and its bounds are never exact.
  bool opaque() const { return kind != KeyKind::kAscending && kind != KeyKind::kDescending; }
};

class IndexSpec {
 public:
  // Validates createIndex's keys and options and returns the index document to store.
  // Errors: 67 (CannotCreateIndex) for bad key patterns, 2 for bad options, 197
  // (InvalidIndexSpecificationOption) for options an index kind does not take, 238 for
  // index types not supported (geoHaystack, columnstore); a text index's own codes
  // (text_index.h), 16800/16801/13028/13067 for bad 2d indexes,
  // and 67 for options a text index does not take (collation).
  static absl::StatusOr<std::string> Build(bson::DocView keys, bson::DocView options);
  // MongoDB's default name: "a_1_b_-1".
  static std::string DefaultName(bson::DocView keys);

  // Parses a stored index document.
  static absl::StatusOr<IndexSpec> Parse(bson::DocView spec);

  const std::string& name() const { return name_; }
  bool unique() const { return unique_; }
  bool sparse() const { return sparse_; }
  bool hidden() const { return hidden_; }
  // prepareUnique: new keys that another document already has are refused (DuplicateKey),
  // while duplicates already there stay; the step before collMod converts the index to
  // unique. Its entries keep the non-unique layout (with the _id) until then.
  bool prepare_unique() const { return prepare_unique_ && !unique_; }
  bool partial() const { return partial_ != nullptr; }
  const query::Matcher* partial_filter() const { return partial_.get(); }
  bool hashed() const;
  // A wildcard index ({"$**": 1}, {"a.$**": 1}): its keys are (path, value) pairs, its
  // entries laid out as those of {"$_path": 1, <path>: 1} (see wildcard.h).
  bool wildcard() const { return wildcard_ != nullptr; }
  const WildcardProjection* wildcard_projection() const { return wildcard_.get(); }
  // A text index ({..., _fts: "text", _ftsx: 1, ...}): its weights and languages. Its keys
  // are one per term of the document (prefix values, term, score, suffix values).
  const text::TextIndexSpec* text() const { return text_.get(); }
  const std::shared_ptr<const text::TextIndexSpec>& shared_text() const { return text_; }
  // Whether some key field is a 2dsphere field. Documents without a geometry in any of
  // them are not in the index (MongoDB's 2dsphere indexes are sparse); a geometry that
  // is invalid fails the write with 16755.
  bool geo() const { return geo_; }
  // A 2d index (its first field): the grid its legacy points are keyed on. Like 2dsphere
  // indexes, documents without a point there are not in it; other values fail with 16804,
  // points outside [min, max) with 13027.
  const geo::Grid2d* grid() const { return grid_ ? &*grid_ : nullptr; }
  std::optional<int64_t> expire_after_seconds() const { return expire_after_seconds_; }
  // The index's collation (null: binary), under which its string keys are encoded.
  const bson::Collator* collator() const { return collator_.get(); }
  // Its collation document as stored (empty: none).
  bson::DocView collation() const;
  const std::vector<KeyField>& fields() const { return fields_; }
  bson::DocView key_pattern() const { return bson::DocView(key_pattern_); }
  bson::DocView spec() const { return bson::DocView(spec_); }

  // The distinct keys of `doc` (none for a sparse index when every key field is missing,
  // or a partial index whose filter the document does not match). `multikey`, if given,
  // gets bit i set when an array lies along key field i's path in `doc`.
  // Errors: 171 (CannotIndexParallelArrays), 16766 (an array under a hashed field); for a
  // text index 16675 (an array under a prefix or suffix field), 17261 and 17262 (a bad
  // language override).
  absl::Status Keys(bson::DocView doc, std::vector<IndexKey>* out, uint64_t* multikey = nullptr) const;

  // {field: value, ...} of a key: the keyValue of a DuplicateKey error.
  std::string KeyValueDocument(const IndexKey& key) const;

 private:
  std::string name_;
  std::string spec_;
  std::string key_pattern_;
  std::vector<KeyField> fields_;
  bool unique_ = false;
  bool sparse_ = false;
  bool hidden_ = false;
  bool prepare_unique_ = false;
  std::optional<int64_t> expire_after_seconds_;
  std::shared_ptr<const query::Matcher> partial_;
  std::shared_ptr<const bson::Collator> collator_;
  std::shared_ptr<const WildcardProjection> wildcard_;
  std::shared_ptr<const text::TextIndexSpec> text_;
  bool geo_ = false;
  std::optional<geo::Grid2d> grid_;

  absl::Status TextKeys(bson::DocView doc, std::vector<IndexKey>* out) const;
};

// An index entry's value: the key values (for covered queries) then the key string of the
// document's _id (which names its record).
std::string EntryValue(const IndexKey& key, std::string_view id_keystring);
// Its size, without making it (an index's statistics lose that many bytes with an entry).
size_t EntryValueSize(const IndexKey& key, std::string_view id_keystring);
// The _id key string and the key values of an entry's value.
std::string_view EntryRecordId(std::string_view entry_value);
bson::DocView EntryKeyValues(std::string_view entry_value);

}  // namespace micromongo::index
