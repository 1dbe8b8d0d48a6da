#pragma once

// MongoDB's total order over BSON values (the order of sort, $gt/$lt within a type
// bracket, and _id uniqueness). Numbers compare by value across int32, int64, double and
// decimal128: int64 and double compare exactly (through 64-bit-mantissa long double).

#include "document/bson_view.h"

namespace micromongo::bson {

// The type bracket of MongoDB's comparison order: MinKey < undefined < null < numbers <
// string/symbol < object < array < binary < ObjectId < bool < date < timestamp < regex <
// DBPointer < code < code-with-scope < MaxKey.
int CanonicalTypeOrder(BsonType type);

// <0, 0, >0. Documents compare element by element (type bracket, then field name, then
// value); arrays likewise; strings by bytes.
int CompareValues(const ValueView& a, const ValueView& b);
int CompareDocuments(DocView a, DocView b);

inline bool ValuesEqual(const ValueView& a, const ValueView& b) {
  return CanonicalTypeOrder(a.type) == CanonicalTypeOrder(b.type) && CompareValues(a, b) == 0;
}

}  // namespace micromongo::bson
