#include "document/compare.h"

#include <cmath>
#include <cstring>

#include "document/decimal.h"

namespace micromongo::bson {
namespace {

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int CompareBytes(std::string_view a, std::string_view b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c < 0 ? -1 : 1;
  return Cmp(a.size(), b.size());
}

// Numeric comparison; NaN sorts below every other number and equals itself.
int CompareNumbers(const ValueView& a, const ValueView& b) {
  if (a.type == BsonType::kInt32 && b.type == BsonType::kInt32) return Cmp(a.Int32(), b.Int32());
  if (a.type != BsonType::kDouble && a.type != BsonType::kDecimal128 &&
      b.type != BsonType::kDouble && b.type != BsonType::kDecimal128) {
    int64_t x = a.type == BsonType::kInt32 ? a.Int32() : a.Int64();
    int64_t y = b.type == BsonType::kInt32 ? b.Int32() : b.Int64();
    return Cmp(x, y);
  }
  if (a.type == BsonType::kDecimal128 || b.type == BsonType::kDecimal128) {
    // Exactly, as MongoDB does: integers convert exactly, doubles at 34 digits.
    auto to_decimal = [](const ValueView& v) {
      switch (v.type) {
        case BsonType::kInt32: return DecimalFromInt64(v.Int32());
        case BsonType::kInt64: return DecimalFromInt64(v.Int64());
        case BsonType::kDouble: return DecimalFromDouble(v.Double(), 34);
        default: return DecodeDecimal(v.data);
      }
    };
    return CompareDecimals(to_decimal(a), to_decimal(b));
  }
  auto to_ld = [](const ValueView& v) -> long double {
    switch (v.type) {
      case BsonType::kInt32: return v.Int32();
      case BsonType::kInt64: return static_cast<long double>(v.Int64());
      case BsonType::kDouble: return v.Double();
      default: return 0;  // not reached: decimals are compared above
    }
  };
  long double x = to_ld(a), y = to_ld(b);
  bool xn = std::isnan(x), yn = std::isnan(y);
  if (xn || yn) return xn && yn ? 0 : (xn ? -1 : 1);
  return Cmp(x, y);
}

}  // namespace

int CanonicalTypeOrder(BsonType type) {
  switch (type) {
    case BsonType::kMinKey: return -1;
    case BsonType::kUndefined: return 0;
    case BsonType::kNull: return 5;
    case BsonType::kDouble:
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kDecimal128: return 10;
    case BsonType::kString:
    case BsonType::kSymbol: return 15;
    case BsonType::kDocument: return 20;
    case BsonType::kArray: return 25;
    case BsonType::kBinary: return 30;
    case BsonType::kObjectId: return 35;
    case BsonType::kBool: return 40;
    case BsonType::kDate: return 45;
    case BsonType::kTimestamp: return 47;
    case BsonType::kRegex: return 50;
    case BsonType::kDbPointer: return 55;
    case BsonType::kJavaScript: return 60;
    case BsonType::kCodeWithScope: return 65;
    case BsonType::kMaxKey: return 127;
  }
  return 0;
}

int CompareValues(const ValueView& a, const ValueView& b, const Collator* collator) {
  int ta = CanonicalTypeOrder(a.type), tb = CanonicalTypeOrder(b.type);
  if (ta != tb) return Cmp(ta, tb);
  switch (a.type) {
    case BsonType::kMinKey:
    case BsonType::kMaxKey:
    case BsonType::kNull:
    case BsonType::kUndefined:
      return 0;
    case BsonType::kDouble:
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kDecimal128:
      return CompareNumbers(a, b);
    case BsonType::kString:
    case BsonType::kSymbol:
      if (collator != nullptr) {
        int c = collator->Compare(a.String(), b.String());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
      }
      return CompareBytes(a.String(), b.String());
    case BsonType::kJavaScript:
      return CompareBytes(a.String(), b.String());
    case BsonType::kDocument:
      return CompareDocuments(a.Doc(), b.Doc(), collator);
    case BsonType::kArray:
      return CompareArrays(a.Doc(), b.Doc(), collator);
    case BsonType::kBinary: {
      int32_t la = ReadInt32(a.data), lb = ReadInt32(b.data);
      if (la != lb) return Cmp(la, lb);
      uint8_t sa = a.data[4], sb = b.data[4];
      if (sa != sb) return Cmp(sa, sb);
      int c = std::memcmp(a.data + 5, b.data + 5, la);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case BsonType::kObjectId: {
      int c = std::memcmp(a.data, b.data, 12);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case BsonType::kBool:
      return Cmp(a.Bool(), b.Bool());
    case BsonType::kDate:
      return Cmp(a.Int64(), b.Int64());
    case BsonType::kTimestamp:
      return Cmp(static_cast<uint64_t>(a.Int64()), static_cast<uint64_t>(b.Int64()));
    case BsonType::kRegex: {
      std::string_view pa(a.data), pb(b.data);
      if (int c = CompareBytes(pa, pb)) return c;
      return CompareBytes(std::string_view(a.data + pa.size() + 1),
                         std::string_view(b.data + pb.size() + 1));
    }
    default:  // DBPointer, code with scope: by raw bytes
      return CompareBytes(a.bytes(), b.bytes());
  }
}

namespace {

// Documents compare element by element: canonical type, then field name, then value.
// Arrays skip the names: they are positions ("0", "1", ...), and BSON that names them
// otherwise (the corpus's degenerate arrays) is the same array, as index key strings,
// which hold no array field names, see it.
int CompareElements(DocView a, DocView b, const Collator* collator, bool names) {
  auto ia = a.begin(), ib = b.begin();
  auto ea = a.end(), eb = b.end();
  for (; ia != ea && ib != eb; ++ia, ++ib) {
    int ta = CanonicalTypeOrder(ia->value.type), tb = CanonicalTypeOrder(ib->value.type);
    if (ta != tb) return Cmp(ta, tb);
    if (names) {
      if (int c = CompareBytes(ia->key, ib->key)) return c;
    }
    if (int c = CompareValues(ia->value, ib->value, collator)) return c;
  }
  if (ia == ea && ib == eb) return 0;
  return ia == ea ? -1 : 1;
}

}  // namespace

int CompareArrays(DocView a, DocView b, const Collator* collator) { return CompareElements(a, b, collator, false); }

int CompareDocuments(DocView a, DocView b, const Collator* collator) { return CompareElements(a, b, collator, true); }

}  // namespace micromongo::bson
