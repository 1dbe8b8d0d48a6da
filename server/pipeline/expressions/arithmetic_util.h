#pragma once

// Exact decimal128 rounding, shared by $round/$trunc/$ceil/$floor and the stages that bucket
// numbers.

#include <cstdint>
#include <optional>

#include "document/decimal.h"

namespace micromongo::pipeline::internal {

enum class RoundMode { kHalfEven, kTowardZero, kUp, kDown };  // kUp/kDown: toward +/-infinity

// `d` with exactly `exponent` (the value rounded to that many decimal places when the
// exponent grows, padded with zeros when it shrinks); nullopt if the result needs more than
// 34 digits. Infinities and NaN are returned as they are.
std::optional<bson::DecimalParts> QuantizeDecimal(bson::DecimalParts d, int32_t exponent,
                                                  RoundMode mode);

}  // namespace micromongo::pipeline::internal
