#include "document/decimal.h"

#include <bson/bson.h>

#include <cstdlib>
#include <cstring>

namespace micromongo::bson {

std::string DecimalToString(const char* bytes16) {
  bson_decimal128_t dec;
  std::memcpy(&dec.low, bytes16, 8);
  std::memcpy(&dec.high, bytes16 + 8, 8);
  char text[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&dec, text);
  return text;
}

long double DecimalToLongDouble(const char* bytes16) {
  std::string text = DecimalToString(bytes16);
  if (text == "NaN") return __builtin_nanl("");
  if (text == "Infinity") return __builtin_infl();
  if (text == "-Infinity") return -__builtin_infl();
  return std::strtold(text.c_str(), nullptr);
}

}  // namespace micromongo::bson
