#include "document/decimal.h"

#include <bson/bson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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

namespace {

using u128 = unsigned __int128;

constexpr int kExponentBias = 6176;
constexpr int kMaxExponent = 6111;
constexpr int kMinExponent = -6176;

u128 Pow10(int n) {
  u128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

const u128 kMaxCoefficient = Pow10(34);  // exclusive

int Digits(u128 c) {
  int d = 1;
  while (c >= 10) {
    c /= 10;
    ++d;
  }
  return d;
}

}  // namespace

DecimalParts DecodeDecimal(const char* bytes16) {
  uint64_t low, high;
  std::memcpy(&low, bytes16, 8);
  std::memcpy(&high, bytes16 + 8, 8);
  DecimalParts d;
  d.negative = (high >> 63) != 0;
  uint64_t combination = (high >> 58) & 0x1F;
  if (combination == 0x1F) {
    d.kind = DecimalParts::Kind::kNaN;
    return d;
  }
  if (combination == 0x1E) {
    d.kind = DecimalParts::Kind::kInfinity;
    return d;
  }
  if (((high >> 61) & 3) == 3) {
    // The "11" form implies a coefficient of at least 2^113 > 10^34: non-canonical, zero.
    d.exponent = static_cast<int32_t>((high >> 47) & 0x3FFF) - kExponentBias;
    d.coefficient = 0;
    return d;
  }
  d.exponent = static_cast<int32_t>((high >> 49) & 0x3FFF) - kExponentBias;
  u128 c = (static_cast<u128>(high & ((uint64_t{1} << 49) - 1)) << 64) | low;
  d.coefficient = c < kMaxCoefficient ? c : 0;
  return d;
}

bool Representable(const DecimalParts& d) {
  if (d.kind != DecimalParts::Kind::kFinite) return true;
  return d.coefficient < kMaxCoefficient && d.exponent >= kMinExponent && d.exponent <= kMaxExponent;
}

void EncodeDecimal(const DecimalParts& d, char* bytes16) {
  uint64_t high = d.negative ? uint64_t{1} << 63 : 0, low = 0;
  if (d.kind == DecimalParts::Kind::kNaN) {
    high = uint64_t{0x1F} << 58;
  } else if (d.kind == DecimalParts::Kind::kInfinity) {
    high |= uint64_t{0x1E} << 58;
  } else {
    high |= static_cast<uint64_t>(d.exponent + kExponentBias) << 49;
    high |= static_cast<uint64_t>(d.coefficient >> 64);
    low = static_cast<uint64_t>(d.coefficient);
  }
  std::memcpy(bytes16, &low, 8);
  std::memcpy(bytes16 + 8, &high, 8);
}

DecimalParts DecimalFromInt64(int64_t v) {
  DecimalParts d;
  d.negative = v < 0;
  d.coefficient = v < 0 ? static_cast<u128>(-(v + 1)) + 1 : static_cast<u128>(v);
  return d;
}

DecimalParts DecimalFromDouble(double v, int digits) {
  DecimalParts d;
  if (std::isnan(v)) {
    d.kind = DecimalParts::Kind::kNaN;
    return d;
  }
  d.negative = std::signbit(v);
  if (std::isinf(v)) {
    d.kind = DecimalParts::Kind::kInfinity;
    return d;
  }
  if (v == 0) return d;
  // printf rounds the exact binary value correctly to `digits` significant digits.
  char text[64];
  std::snprintf(text, sizeof(text), "%.*e", digits - 1, std::fabs(v));
  const char* p = text;
  int fraction_digits = 0;
  bool in_fraction = false;
  for (; *p != 'e'; ++p) {
    if (*p == '.') {
      in_fraction = true;
      continue;
    }
    d.coefficient = d.coefficient * 10 + static_cast<unsigned>(*p - '0');
    if (in_fraction) ++fraction_digits;
  }
  d.exponent = std::atoi(p + 1) - fraction_digits;
  // Drop trailing zeros (the shortest exact form).
  while (d.coefficient != 0 && d.coefficient % 10 == 0) {
    d.coefficient /= 10;
    ++d.exponent;
  }
  return d;
}

int CompareDecimals(const DecimalParts& a, const DecimalParts& b) {
  using Kind = DecimalParts::Kind;
  bool an = a.kind == Kind::kNaN, bn = b.kind == Kind::kNaN;
  if (an || bn) return an && bn ? 0 : (an ? -1 : 1);
  auto sign = [](const DecimalParts& d) {
    if (d.kind == Kind::kInfinity) return d.negative ? -1 : 1;
    if (d.coefficient == 0) return 0;
    return d.negative ? -1 : 1;
  };
  int sa = sign(a), sb = sign(b);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  // Same sign, both non-zero: compare magnitudes, then flip for negatives.
  int magnitude;
  if (a.kind == Kind::kInfinity || b.kind == Kind::kInfinity) {
    magnitude = (a.kind == Kind::kInfinity) - (b.kind == Kind::kInfinity);
  } else {
    int da = Digits(a.coefficient), db = Digits(b.coefficient);
    int adjusted_a = a.exponent + da, adjusted_b = b.exponent + db;  // position of the leading digit
    if (adjusted_a != adjusted_b) {
      magnitude = adjusted_a < adjusted_b ? -1 : 1;
    } else {
      // Same leading position: align to the same number of digits (at most 34).
      u128 ca = a.coefficient * Pow10(std::max(0, db - da));
      u128 cb = b.coefficient * Pow10(std::max(0, da - db));
      magnitude = ca < cb ? -1 : (ca > cb ? 1 : 0);
    }
  }
  return sa < 0 ? -magnitude : magnitude;
}

std::optional<DecimalParts> AddDecimals(const DecimalParts& a, const DecimalParts& b) {
  if (a.kind != DecimalParts::Kind::kFinite || b.kind != DecimalParts::Kind::kFinite) {
    return std::nullopt;
  }
  // Align to the smaller exponent; give up if the scaled coefficient leaves 128 bits.
  int exponent = std::min(a.exponent, b.exponent);
  auto scaled = [&](const DecimalParts& d) -> std::optional<u128> {
    int shift = d.exponent - exponent;
    if (d.coefficient == 0) return u128{0};
    if (shift > 38) return std::nullopt;
    u128 c = d.coefficient;
    for (int i = 0; i < shift; ++i) {
      if (c > (~u128{0}) / 10) return std::nullopt;
      c *= 10;
    }
    return c;
  };
  auto ca = scaled(a), cb = scaled(b);
  if (!ca || !cb) return std::nullopt;
  DecimalParts r;
  r.exponent = exponent;
  if (a.negative == b.negative) {
    if (*ca > (~u128{0}) - *cb) return std::nullopt;
    r.coefficient = *ca + *cb;
    r.negative = a.negative;
  } else if (*ca >= *cb) {
    r.coefficient = *ca - *cb;
    r.negative = a.negative;
  } else {
    r.coefficient = *cb - *ca;
    r.negative = b.negative;
  }
  if (r.coefficient == 0) r.negative = a.negative && b.negative;  // x + -x is +0
  if (!Representable(r)) return std::nullopt;
  return r;
}

std::optional<DecimalParts> MultiplyDecimals(const DecimalParts& a, const DecimalParts& b) {
  if (a.kind != DecimalParts::Kind::kFinite || b.kind != DecimalParts::Kind::kFinite) {
    return std::nullopt;
  }
  DecimalParts r;
  r.negative = a.negative != b.negative;
  r.exponent = a.exponent + b.exponent;
  if (__builtin_mul_overflow(a.coefficient, b.coefficient, &r.coefficient)) return std::nullopt;
  if (!Representable(r)) return std::nullopt;
  return r;
}

std::optional<DecimalParts> DivideDecimals(const DecimalParts& a, const DecimalParts& b) {
  if (a.kind != DecimalParts::Kind::kFinite || b.kind != DecimalParts::Kind::kFinite ||
      b.coefficient == 0) {
    return std::nullopt;
  }
  DecimalParts r;
  r.negative = a.negative != b.negative;
  int preferred = a.exponent - b.exponent;
  if (a.coefficient == 0) {
    r.exponent = std::clamp(preferred, kMinExponent, kMaxExponent);
    return r;
  }
  // Long division, one digit at a time: the remainder stays below b's coefficient
  // (< 10^34), so remainder * 10 fits 128 bits. Collect 35 significant digits (34 and a
  // rounding digit) and whether anything non-zero remains.
  u128 q = a.coefficient / b.coefficient, rem = a.coefficient % b.coefficient;
  int exponent = preferred;
  int digits = q == 0 ? 0 : Digits(q);
  while (digits < 35 && (rem != 0 || digits == 0)) {
    rem *= 10;
    q = q * 10 + rem / b.coefficient;
    rem %= b.coefficient;
    --exponent;
    if (q != 0) ++digits;
  }
  bool sticky = rem != 0;
  if (digits > 34) {
    // Round away the last digit(s): half to even, with the remainder as a sticky bit.
    int drop = digits - 34;
    u128 scale = Pow10(drop);
    u128 kept = q / scale, cut = q % scale, half = scale / 2;
    bool up = cut > half || (cut == half && (sticky || (kept & 1) != 0));
    q = kept + (up ? 1 : 0);
    exponent += drop;
    if (q == kMaxCoefficient) {
      q /= 10;
      ++exponent;
    }
  } else if (!sticky) {
    // Exact: move toward the preferred exponent by dropping trailing zeros.
    while (exponent < preferred && q % 10 == 0) {
      q /= 10;
      ++exponent;
    }
  }
  r.coefficient = q;
  r.exponent = exponent;
  if (!Representable(r)) return std::nullopt;
  return r;
}

}  // namespace micromongo::bson
