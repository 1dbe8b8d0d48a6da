#pragma once

// MongoDB's total order over BSON values (the order of sort, $gt/$lt within a type
// bracket, and _id uniqueness). Numbers compare by value across int32, int64, double and
// decimal128: int64 and double compare exactly (through 64-bit-mantissa long double).

#include <string>
#include <string_view>

#include "document/bson_view.h"

namespace micromongo::bson {

// The type bracket of MongoDB's comparison order: MinKey < undefined < null < numbers <
// string/symbol < object < array < binary < ObjectId < bool < date < timestamp < regex <
// DBPointer < code < code-with-scope < MaxKey.
int CanonicalTypeOrder(BsonType type);

// A collation's string order (MongoDB's `collation` option: locale, strength, ...).
// Implementations are immutable after construction; Compare may be called from several
// threads at once.
class Collator {
 public:
  virtual ~Collator() = default;
  // <0, 0, >0 for two UTF-8 strings under the collation ("a" == "A" at strength 2).
  virtual int Compare(std::string_view a, std::string_view b) const = 0;
  // The string's sort key: bytes whose memcmp order is Compare's order, equal exactly for
  // strings Compare calls equal, and free of NUL bytes.
  virtual std::string SortKey(std::string_view s) const = 0;
  // The collation document with every field filled in (collation::Normalize's form): two
  // collators order alike iff their specs are equal. Empty if the implementation has none.
  virtual std::string_view spec() const { return {}; }
};

// <0, 0, >0. Documents compare element by element (type bracket, then field name, then
// value); arrays likewise; strings and symbols by bytes, or by `collator` when given (at
// any depth; field names always by bytes).
int CompareValues(const ValueView& a, const ValueView& b, const Collator* collator = nullptr);
int CompareDocuments(DocView a, DocView b, const Collator* collator = nullptr);
// Arrays element by element (their field names are not compared).
int CompareArrays(DocView a, DocView b, const Collator* collator = nullptr);

inline bool ValuesEqual(const ValueView& a, const ValueView& b,
                        const Collator* collator = nullptr) {
  return CanonicalTypeOrder(a.type) == CanonicalTypeOrder(b.type) &&
         CompareValues(a, b, collator) == 0;
}

}  // namespace micromongo::bson
