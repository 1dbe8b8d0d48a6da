#include "document/hash.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "document/compare.h"
#include "document/decimal.h"

namespace micromongo::bson {
namespace {

// ---- MD5 (RFC 1321) -----------------------------------------------------------------------

constexpr uint32_t kK[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
constexpr int kShift[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                            5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                            4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                            6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

uint32_t Rotl(uint32_t x, int c) { return (x << c) | (x >> (32 - c)); }

void Block(const uint8_t* p, uint32_t h[4]) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) {
    m[i] = uint32_t{p[i * 4]} | uint32_t{p[i * 4 + 1]} << 8 | uint32_t{p[i * 4 + 2]} << 16 |
           uint32_t{p[i * 4 + 3]} << 24;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
  for (int i = 0; i < 64; ++i) {
    uint32_t f;
    int g;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) % 16;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) % 16;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) % 16;
    }
    uint32_t t = d;
    d = c;
    c = b;
    b = b + Rotl(a + f + kK[i] + m[g], kShift[i]);
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
}

void AppendInt32(std::string* out, int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(u >> (8 * i)));
}

void AppendInt64(std::string* out, int64_t v) {
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(u >> (8 * i)));
}

// MongoDB's safeNumberLong: saturating, NaN as 0.
int64_t SafeLong(const ValueView& v) {
  long double d;
  switch (v.type) {
    case BsonType::kInt32: return v.Int32();
    case BsonType::kInt64: return v.Int64();
    case BsonType::kDouble: d = v.Double(); break;
    default: d = DecimalToLongDouble(v.data); break;
  }
  if (std::isnan(d)) return 0;
  if (d >= 0x1p63L) return std::numeric_limits<int64_t>::max();
  if (d < -0x1p63L) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

void Encode(const ValueView& v, std::string_view key, bool include_key, std::string* out) {
  AppendInt32(out, CanonicalTypeOrder(v.type));
  if (include_key) {
    out->append(key.data(), key.size());
    out->push_back('\0');
  }
  if (v.IsDocumentLike()) {
    for (const ElementView& e : v.Doc()) Encode(e.value, e.key, true, out);
    // The terminating EOO element: canonical type 0 and an empty field name.
    AppendInt32(out, 0);
    out->push_back('\0');
  } else if (v.IsNumber()) {
    AppendInt64(out, SafeLong(v));
  } else {
    out->append(v.data, v.size);
  }
}

}  // namespace

void Md5(std::string_view data, uint8_t digest[16]) {
  uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  size_t n = data.size();
  size_t full = n / 64;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data.data());
  for (size_t i = 0; i < full; ++i) Block(p + i * 64, h);
  uint8_t tail[128] = {};
  size_t rest = n % 64;
  std::memcpy(tail, p + full * 64, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest < 56 ? 64 : 128;
  uint64_t bits = static_cast<uint64_t>(n) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
  Block(tail, h);
  if (tail_len == 128) Block(tail + 64, h);
  for (int i = 0; i < 4; ++i) {
    for (int k = 0; k < 4; ++k) digest[i * 4 + k] = static_cast<uint8_t>(h[i] >> (8 * k));
  }
}

int64_t HashValue(const ValueView& v, int32_t seed) {
  std::string data;
  AppendInt32(&data, seed);
  Encode(v, "", false, &data);
  uint8_t digest[16];
  Md5(data, digest);
  uint64_t out = 0;
  for (int i = 7; i >= 0; --i) out = (out << 8) | digest[i];
  return static_cast<int64_t>(out);
}

}  // namespace micromongo::bson
