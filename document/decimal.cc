#include "document/decimal.h"

#include <bson/bson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace micromongo::bson {

std::string DecimalToString(const char* bytes16) {
  // A finite value is printed from its canonical encoding: a coefficient of 10^34 or more
  // is zero (IEEE 754-2008), which libbson would print as the number it spells (found by
  // the keystring fuzzer, through DecimalToLongDouble).
  char canonical[16];
  DecimalParts parts = DecodeDecimal(bytes16);
  if (parts.kind == DecimalParts::Kind::kFinite) {
    EncodeDecimal(parts, canonical);
    bytes16 = canonical;
  }
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

DecimalParts DecimalFromDouble(double v, int digits, bool keep_digits) {
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
  while (!keep_digits && d.coefficient != 0 && d.coefficient % 10 == 0) {
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

namespace {

// Magnitudes as decimal digit strings, most significant first ("0" for zero): the slow
// path for results that need rounding, at most about 80 digits long.
std::string DigitString(u128 c) {
  if (c == 0) return "0";
  std::string out;
  for (; c != 0; c /= 10) out.push_back(static_cast<char>('0' + static_cast<int>(c % 10)));
  std::reverse(out.begin(), out.end());
  return out;
}

int CompareMagnitudes(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string AddMagnitudes(const std::string& a, const std::string& b) {
  std::string out;
  int carry = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    int d = carry;
    if (i < a.size()) d += a[a.size() - 1 - i] - '0';
    if (i < b.size()) d += b[b.size() - 1 - i] - '0';
    out.push_back(static_cast<char>('0' + d % 10));
    carry = d / 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// a - b for a >= b.
std::string SubtractMagnitudes(const std::string& a, const std::string& b) {
  std::string out;
  int borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int d = (a[a.size() - 1 - i] - '0') - borrow - (i < b.size() ? b[b.size() - 1 - i] - '0' : 0);
    borrow = d < 0;
    out.push_back(static_cast<char>('0' + (d + 10) % 10));
  }
  while (out.size() > 1 && out.back() == '0') out.pop_back();
  std::reverse(out.begin(), out.end());
  return out;
}

std::string MultiplyMagnitudes(const std::string& a, const std::string& b) {
  std::vector<int> acc(a.size() + b.size(), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      acc[i + j + 1] += (a[i] - '0') * (b[j] - '0');
    }
  }
  for (size_t k = acc.size() - 1; k > 0; --k) {
    acc[k - 1] += acc[k] / 10;
    acc[k] %= 10;
  }
  std::string out;
  for (int d : acc) {
    if (out.empty() && d == 0) continue;
    out.push_back(static_cast<char>('0' + d));
  }
  return out.empty() ? "0" : out;
}

// digits * 10^exponent rounded to 34 digits, half to even; nullopt outside decimal128's
// exponent range (callers fall back to an approximation).
std::optional<DecimalParts> Round34(bool negative, std::string digits, int exponent) {
  size_t start = digits.find_first_not_of('0');
  digits = start == std::string::npos ? "0" : digits.substr(start);
  if (digits.size() > 34) {
    size_t drop = digits.size() - 34;
    std::string kept = digits.substr(0, 34), rest = digits.substr(34);
    bool more = rest.find_first_not_of('0', 1) != std::string::npos;
    bool up = rest[0] > '5' || (rest[0] == '5' && (more || (kept.back() - '0') % 2 == 1));
    exponent += static_cast<int>(drop);
    if (up) {
      kept = AddMagnitudes(kept, "1");
      if (kept.size() > 34) {  // 999...9 + 1
        kept.pop_back();
        ++exponent;
      }
    }
    digits = kept;
  }
  DecimalParts r;
  r.negative = negative;
  r.exponent = exponent;
  for (char c : digits) r.coefficient = r.coefficient * 10 + static_cast<unsigned>(c - '0');
  if (!Representable(r)) return std::nullopt;
  return r;
}

}  // namespace

std::optional<DecimalParts> AddDecimals(const DecimalParts& a, const DecimalParts& b) {
  if (a.kind != DecimalParts::Kind::kFinite || b.kind != DecimalParts::Kind::kFinite) {
    return std::nullopt;
  }
  // Fast path: align to the smaller exponent in 128 bits; exact when the result fits.
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
  if (ca && cb && (a.negative != b.negative || *ca <= (~u128{0}) - *cb)) {
    DecimalParts r;
    r.exponent = exponent;
    if (a.negative == b.negative) {
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
    if (Representable(r)) return r;
    return Round34(r.negative, DigitString(r.coefficient), r.exponent);
  }
  // Slow path: the operand with the larger exponent is scaled in a digit string. An
  // operand more than 80 places below can only act as a tie-breaker, so it is replaced by
  // a tiny value of the same sign (the rounded result is the same).
  const DecimalParts& big = a.exponent >= b.exponent ? a : b;
  DecimalParts small = a.exponent >= b.exponent ? b : a;
  int gap = big.exponent - small.exponent;
  if (gap > 80) {
    small.coefficient = small.coefficient == 0 ? 0 : 1;
    small.exponent = big.exponent - 80;
    gap = 80;
  }
  std::string x = DigitString(big.coefficient) + std::string(gap, '0');
  std::string y = DigitString(small.coefficient);
  if (big.negative == small.negative) return Round34(big.negative, AddMagnitudes(x, y), small.exponent);
  int c = CompareMagnitudes(x, y);
  if (c == 0) return Round34(false, "0", small.exponent);
  return c > 0 ? Round34(big.negative, SubtractMagnitudes(x, y), small.exponent)
               : Round34(small.negative, SubtractMagnitudes(y, x), small.exponent);
}

std::optional<DecimalParts> MultiplyDecimals(const DecimalParts& a, const DecimalParts& b) {
  if (a.kind != DecimalParts::Kind::kFinite || b.kind != DecimalParts::Kind::kFinite) {
    return std::nullopt;
  }
  DecimalParts r;
  r.negative = a.negative != b.negative;
  r.exponent = a.exponent + b.exponent;
  if (!__builtin_mul_overflow(a.coefficient, b.coefficient, &r.coefficient) && Representable(r)) {
    return r;
  }
  return Round34(r.negative, MultiplyMagnitudes(DigitString(a.coefficient), DigitString(b.coefficient)),
                 r.exponent);
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
