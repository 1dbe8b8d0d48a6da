#pragma once

#include <string>
#include <string_view>

namespace micromongo::bson {

// Decimal128 helpers over the 16 little-endian bytes of a BSON decimal128 value.
// NaN and infinities map onto long double's own.
long double DecimalToLongDouble(const char* bytes16);
std::string DecimalToString(const char* bytes16);

}  // namespace micromongo::bson
