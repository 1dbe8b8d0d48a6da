#pragma once

// The scalar BSON types that have no natural C++ counterpart.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace micromongo {

// BSON element type tags, as numbered by the BSON specification.
enum class BsonType : uint8_t {
  kDouble = 0x01,
  kString = 0x02,
  kDocument = 0x03,
  kArray = 0x04,
  kBinary = 0x05,
  kUndefined = 0x06,  // deprecated
  kObjectId = 0x07,
  kBool = 0x08,
  kDate = 0x09,
  kNull = 0x0A,
  kRegex = 0x0B,
  kDbPointer = 0x0C,   // deprecated
  kJavaScript = 0x0D,
  kSymbol = 0x0E,      // deprecated
  kCodeWithScope = 0x0F,  // deprecated
  kInt32 = 0x10,
  kTimestamp = 0x11,
  kInt64 = 0x12,
  kDecimal128 = 0x13,
  kMinKey = 0xFF,
  kMaxKey = 0x7F,
};

// MongoDB's name of a type ("double", "string", "object", ...), as $type uses it.
std::string_view BsonTypeName(BsonType type);

// A 12-byte ObjectId. Generate() is thread-safe and yields process-unique, increasing ids.
struct ObjectId {
  std::array<uint8_t, 12> bytes{};

  static ObjectId Generate();
  // Throws micromongo::Error (code 9, FailedToParse) unless `hex` is 24 hex digits.
  static ObjectId FromHex(std::string_view hex);
  std::string ToHex() const;
  // Seconds since the epoch, from the first four bytes.
  uint32_t timestamp() const;

  auto operator<=>(const ObjectId&) const = default;
};

struct Binary {
  uint8_t subtype = 0;
  std::string data;  // raw bytes
  bool operator==(const Binary&) const = default;
};

// Milliseconds since the Unix epoch (BSON UTC datetime).
struct DateTime {
  int64_t millis = 0;
  static DateTime Now();
  auto operator<=>(const DateTime&) const = default;
};

struct Timestamp {
  uint32_t t = 0;  // seconds
  uint32_t i = 0;  // ordinal within the second
  auto operator<=>(const Timestamp&) const = default;
};

struct Regex {
  std::string pattern;
  std::string options;
  bool operator==(const Regex&) const = default;
};

// IEEE 754-2008 decimal128 (BID encoding), stored as its two 64-bit halves.
struct Decimal128 {
  uint64_t low = 0;
  uint64_t high = 0;
  // Throws micromongo::Error (code 9) on text that is not a decimal number.
  static Decimal128 FromString(std::string_view text);
  std::string ToString() const;
  bool operator==(const Decimal128&) const = default;
};

struct JavaScript {
  std::string code;
  bool operator==(const JavaScript&) const = default;
};

struct Symbol {
  std::string symbol;
  bool operator==(const Symbol&) const = default;
};

// Deprecated BSON types, kept so that any stored document reads back intact.
struct DbPointer {
  std::string ns;
  ObjectId id;
  bool operator==(const DbPointer&) const = default;
};

struct MinKey {
  bool operator==(const MinKey&) const = default;
};
struct MaxKey {
  bool operator==(const MaxKey&) const = default;
};
struct Undefined {
  bool operator==(const Undefined&) const = default;
};

}  // namespace micromongo
