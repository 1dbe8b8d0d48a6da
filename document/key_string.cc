#include "document/key_string.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "document/decimal.h"

namespace micromongo::bson {

void AppendBigEndian32(uint32_t v, std::string* out) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
               static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 4);
}

void AppendBigEndian64(uint64_t v, std::string* out) {
  AppendBigEndian32(static_cast<uint32_t>(v >> 32), out);
  AppendBigEndian32(static_cast<uint32_t>(v), out);
}

namespace {


// Type bytes, in MongoDB's canonical type order.
enum : uint8_t {
  kEnd = 0x00,
  kMinKey = 0x0A,
  kUndefined = 0x0F,
  kNull = 0x14,
  kNumber = 0x1E,
  kString = 0x28,
  kObject = 0x32,
  kArray = 0x3C,
  kBinary = 0x46,
  kObjectId = 0x50,
  kFalse = 0x5A,
  kTrue = 0x5B,
  kDate = 0x64,
  kTimestamp = 0x6E,
  kRegex = 0x78,
  kDbPointer = 0x82,
  kCode = 0x8C,
  kCodeWithScope = 0x96,
  kMaxKey = 0xF0,
};

// Bytes with 0x00 escaped as 00 FF, terminated by 00 01.
void AppendEscaped(std::string_view s, std::string* out) {
  // Escaped into a buffer on the stack and appended a chunk at a time: appending a byte at
  // a time cost a capacity check each, most of a short group or index key's encoding.
  char buf[80];
  size_t n = 0;
  for (char c : s) {
    buf[n++] = c;
    if (c == 0) buf[n++] = static_cast<char>(0xFF);
    if (n >= 64) {
      out->append(buf, n);
      n = 0;
    }
  }
  buf[n++] = 0;
  buf[n++] = 1;
  out->append(buf, n);
}

uint64_t SortableDouble(double d) {
  if (std::isnan(d)) return 0;  // NaN below every number
  if (d == 0) d = 0;            // -0 == 0
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return (bits & (1ULL << 63)) ? ~bits : bits | (1ULL << 63);
}

constexpr char kExactTie = static_cast<char>(0x80);

// A number as (nearest double, exact int64 remainder, tie-break): equal numbers of any
// type encode alike, the remainder orders int64 values that share a nearest double, and
// the tie-break orders decimals that neither can represent (see AppendDecimal).
int64_t AppendNumber(long double exact, double rounded, std::string* out) {
  AppendBigEndian64(SortableDouble(rounded), out);
  int64_t remainder = 0;
  if (std::isfinite(rounded) && std::fabs(rounded) <= 0x1p64) {
    remainder = static_cast<int64_t>(exact - static_cast<long double>(rounded));
  }
  AppendBigEndian64(static_cast<uint64_t>(remainder) ^ (1ULL << 63), out);
  return remainder;
}

// A finite non-zero number as (negative, position of its leading digit, significant digits
// without trailing zeros): equal values have equal forms.
struct ExactDigits {
  bool negative = false;
  int leading = 0;
  std::string digits;
};

ExactDigits DigitsOfDecimal(const DecimalParts& d) {
  ExactDigits e;
  e.negative = d.negative;
  unsigned __int128 c = d.coefficient;
  int exponent = d.exponent;
  while (c % 10 == 0) {
    c /= 10;
    ++exponent;
  }
  for (; c != 0; c /= 10) e.digits.insert(e.digits.begin(), static_cast<char>('0' + static_cast<int>(c % 10)));
  e.leading = exponent + static_cast<int>(e.digits.size());
  return e;
}

// The exact decimal expansion of a finite non-zero double (glibc prints it exactly).
ExactDigits DigitsOfDouble(double x) {
  char text[1100];
  std::snprintf(text, sizeof(text), "%.800e", std::fabs(x));
  ExactDigits e;
  e.negative = x < 0;
  const char* p = text;
  for (; *p != 'e'; ++p) {
    if (*p != '.') e.digits.push_back(*p);
  }
  while (e.digits.size() > 1 && e.digits.back() == '0') e.digits.pop_back();
  e.leading = std::atoi(p + 1) + 1;
  return e;
}

int CompareExact(const ExactDigits& a, const ExactDigits& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int magnitude = a.leading != b.leading ? (a.leading < b.leading ? -1 : 1)
                                         : a.digits.compare(b.digits);
  magnitude = magnitude < 0 ? -1 : (magnitude > 0 ? 1 : 0);
  return a.negative ? -magnitude : magnitude;
}

// A decimal128: its nearest double and remainder as for other numbers, then a tie-break:
// 0x80 when it equals that double plus remainder exactly (so 1, 1.0 and NumberDecimal("1")
// share a key), else 0x7F / 0x81 (below / above it) and the exact value, order-preserving:
// sign, leading-digit position, digits (all inverted for negatives).
void AppendDecimal(const char* bytes16, std::string* out) {
  DecimalParts d = bson::DecodeDecimal(bytes16);
  long double approx = bson::DecimalToLongDouble(bytes16);
  double rounded = static_cast<double>(approx);
  int64_t remainder = AppendNumber(approx, rounded, out);
  if (d.kind != DecimalParts::Kind::kFinite || d.coefficient == 0) {
    out->push_back(kExactTie);
    return;
  }
  ExactDigits value = DigitsOfDecimal(d);
  int c;
  if (remainder == 0) {
    if (rounded == 0) {
      c = value.negative ? -1 : 1;
    } else if (!std::isfinite(rounded)) {
      // A finite decimal past the double range (1E+400): below +Infinity, above -Infinity.
      c = rounded > 0 ? -1 : 1;
    } else {
      c = CompareExact(value, DigitsOfDouble(rounded));
    }
  } else {
    // Beyond 2^53: the base is an integer, exactly a decimal of at most 20 digits.
    auto base = bson::AddDecimals(bson::DecimalFromDouble(rounded, 20), bson::DecimalFromInt64(remainder));
    c = base ? bson::CompareDecimals(d, *base) : 0;
  }
  if (c == 0) {
    out->push_back(kExactTie);
    return;
  }
  out->push_back(static_cast<char>(c < 0 ? 0x7F : 0x81));
  std::string exact;
  exact.push_back(value.negative ? 1 : 2);
  uint16_t leading = static_cast<uint16_t>(value.leading + 0x8000);
  std::string body;
  body.push_back(static_cast<char>(leading >> 8));
  body.push_back(static_cast<char>(leading & 0xFF));
  body += value.digits;
  body.push_back(0);
  if (value.negative) {
    for (char& ch : body) ch = static_cast<char>(~ch);
  }
  out->append(exact);
  out->append(body);
}

void AppendBody(const ValueView& v, const Collator* collator, std::string* out);

uint8_t TypeByte(const ValueView& v) {
  switch (v.type) {
    case BsonType::kMinKey: return kMinKey;
    case BsonType::kUndefined: return kUndefined;
    case BsonType::kNull: return kNull;
    case BsonType::kDouble:
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kDecimal128: return kNumber;
    case BsonType::kString:
    case BsonType::kSymbol: return kString;
    case BsonType::kDocument: return kObject;
    case BsonType::kArray: return kArray;
    case BsonType::kBinary: return kBinary;
    case BsonType::kObjectId: return kObjectId;
    case BsonType::kBool: return v.Bool() ? kTrue : kFalse;
    case BsonType::kDate: return kDate;
    case BsonType::kTimestamp: return kTimestamp;
    case BsonType::kRegex: return kRegex;
    case BsonType::kDbPointer: return kDbPointer;
    case BsonType::kJavaScript: return kCode;
    case BsonType::kCodeWithScope: return kCodeWithScope;
    case BsonType::kMaxKey: return kMaxKey;
  }
  return kNull;
}

void AppendBody(const ValueView& v, const Collator* collator, std::string* out) {
  switch (v.type) {
    case BsonType::kInt32:
      AppendNumber(v.Int32(), v.Int32(), out);
      out->push_back(kExactTie);
      break;
    case BsonType::kInt64:
      AppendNumber(static_cast<long double>(v.Int64()), static_cast<double>(v.Int64()), out);
      out->push_back(kExactTie);
      break;
    case BsonType::kDouble:
      AppendNumber(v.Double(), v.Double(), out);
      out->push_back(kExactTie);
      break;
    case BsonType::kDecimal128:
      AppendDecimal(v.data, out);
      break;
    case BsonType::kString:
    case BsonType::kSymbol:
      if (collator != nullptr) {
        AppendEscaped(collator->SortKey(v.String()), out);
      } else {
        AppendEscaped(v.String(), out);
      }
      break;
    case BsonType::kJavaScript:
      AppendEscaped(v.String(), out);
      break;
    case BsonType::kDocument:
      for (const ElementView& e : v.Doc()) {
        out->push_back(static_cast<char>(TypeByte(e.value)));
        AppendEscaped(e.key, out);
        AppendBody(e.value, collator, out);
      }
      out->push_back(kEnd);
      break;
    case BsonType::kArray:
      for (const ElementView& e : v.Doc()) {
        out->push_back(static_cast<char>(TypeByte(e.value)));
        AppendBody(e.value, collator, out);
      }
      out->push_back(kEnd);
      break;
    case BsonType::kBinary: {
      uint32_t len = static_cast<uint32_t>(ReadInt32(v.data));
      AppendBigEndian32(len, out);
      out->push_back(v.data[4]);
      out->append(v.data + 5, len);
      break;
    }
    case BsonType::kObjectId:
      out->append(v.data, 12);
      break;
    case BsonType::kDate:
      AppendBigEndian64(static_cast<uint64_t>(v.Int64()) ^ (1ULL << 63), out);
      break;
    case BsonType::kTimestamp:
      AppendBigEndian64(static_cast<uint64_t>(v.Int64()), out);
      break;
    case BsonType::kRegex: {
      std::string_view pattern(v.data);
      AppendEscaped(pattern, out);
      AppendEscaped(std::string_view(v.data + pattern.size() + 1), out);
      break;
    }
    case BsonType::kDbPointer:
    case BsonType::kCodeWithScope:
      AppendEscaped(v.bytes(), out);
      break;
    default:  // MinKey, MaxKey, null, undefined, bool: the type byte says it all
      break;
  }
}

}  // namespace

void AppendKeyString(const ValueView& v, std::string* out, const Collator* collator) {
  out->push_back(static_cast<char>(TypeByte(v)));
  AppendBody(v, collator, out);
}

}  // namespace micromongo::bson

namespace micromongo::bson {

void TypeBracket(BsonType type, std::string* start, std::string* end) {
  if (type == BsonType::kBool) {
    *start = std::string(1, static_cast<char>(kFalse));
    *end = std::string(1, static_cast<char>(kTrue + 1));
    return;
  }
  static const char kZero[16] = {};
  uint8_t b = TypeByte(ValueView{type, kZero, 0});
  *start = std::string(1, static_cast<char>(b));
  *end = std::string(1, static_cast<char>(b + 1));
}

}  // namespace micromongo::bson
