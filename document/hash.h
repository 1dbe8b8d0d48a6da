#pragma once

// MongoDB's hash of a BSON value for hashed indexes and $toHashedIndexKey
// (BSONElementHasher::hash64): MD5 over the seed and the value's canonical encoding (numbers
// squashed to int64, documents and arrays element by element with field names), the first
// eight digest bytes read little-endian.

#include <cstdint>
#include <string_view>

#include "document/bson_view.h"

namespace micromongo::bson {

int64_t HashValue(const ValueView& v, int32_t seed = 0);

// MD5 of `data` (RFC 1321).
void Md5(std::string_view data, uint8_t digest[16]);

}  // namespace micromongo::bson
