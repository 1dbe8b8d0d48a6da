#pragma once

// Key strings: an order-preserving, self-delimiting byte encoding of BSON values.
//
// memcmp order of encodings == MongoDB's BSON comparison order, and values MongoDB calls
// equal encode identically: 1, 1.0 and NumberLong(1) are one key; "1" is another. Storage
// keys records and index entries by them (storage/FORMAT.md); the aggregation pipeline
// groups and deduplicates by them.

#include <cstdint>
#include <string>

#include "document/bson_view.h"
#include "document/compare.h"

namespace micromongo::bson {

// Appends the key string of `v` to `out`. With a `collator`, strings and symbols (at any
// depth) encode as their collation sort keys, so that values equal under the collation
// encode alike; such keys are not decodable and not stored.
void AppendKeyString(const ValueView& v, std::string* out, const Collator* collator = nullptr);

// The key strings of every value of `type`'s canonical type bracket (numbers for any
// numeric type, strings with symbols, both booleans) lie in [*start, *end).
void TypeBracket(BsonType type, std::string* start, std::string* end);

void AppendBigEndian32(uint32_t v, std::string* out);
void AppendBigEndian64(uint64_t v, std::string* out);

}  // namespace micromongo::bson
