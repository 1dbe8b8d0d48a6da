// BSON -> MongoDB Extended JSON v2, canonical or relaxed (extended-json.md's conversion
// table): shortest round-trip doubles, ISO-8601 dates for years 1970-9999 in relaxed
// mode, sorted regex options, and the inner length of old binary (subtype 2) dropped.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "document/bson_view.h"
#include "document/decimal.h"
#include "document/json.h"

namespace micromongo::bson {
namespace {

void Quote(std::string_view s, std::string* out) { AppendJsonString(s, out); }

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  // Runs of characters that need no escape are appended whole (most strings are one run).
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out->append(buf);
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

namespace {

// Shortest text that reads back as `d`: fixed notation with at least one fractional
// digit, or d.dddE+XX when the decimal exponent is below -6 or at least 16.
std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[40];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  // buf is "[-]d.ddde[+-]XX": split mantissa digits and exponent.
  std::string s(buf);
  size_t e = s.find('e');
  int exponent = std::atoi(s.c_str() + e + 1);
  std::string mantissa = s.substr(0, e);
  bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent < -6 || exponent >= 16) {
    out += digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0");
    char exp[16];
    std::snprintf(exp, sizeof exp, "E%c%d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp;
  }
  if (exponent >= 0) {
    if (static_cast<int>(digits.size()) <= exponent + 1) {
      out += digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
    }
  } else {
    out += "0." + std::string(-exponent - 1, '0') + digits;
  }
  return out;
}

std::string Base64(std::string_view data) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(n >> (6 * k)) & 63]);
  }
  if (i + 1 == data.size()) {
    uint32_t n = uint8_t(data[i]) << 16;
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63],
                       kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::string Hex(const char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(d[uint8_t(p[i]) >> 4]);
    out.push_back(d[uint8_t(p[i]) & 15]);
  }
  return out;
}

void WriteDocument(DocView doc, bool array, bool canonical, std::string* out);

void WriteValue(const ValueView& v, bool canonical, std::string* out) {
  switch (v.type) {
    case BsonType::kDouble: {
      double d = v.Double();
      if (canonical || !std::isfinite(d)) {
        out->append("{\"$numberDouble\": \"" + FormatDouble(d) + "\"}");
      } else {
        out->append(FormatDouble(d));
      }
      return;
    }
    case BsonType::kString: Quote(v.String(), out); return;
    case BsonType::kDocument: WriteDocument(v.Doc(), false, canonical, out); return;
    case BsonType::kArray: WriteDocument(v.Doc(), true, canonical, out); return;
    case BsonType::kBinary: {
      int32_t len = ReadInt32(v.data);
      uint8_t subtype = static_cast<uint8_t>(v.data[4]);
      std::string_view data(v.data + 5, static_cast<size_t>(len));
      if (subtype == 2 && data.size() >= 4) data.remove_prefix(4);
      char st[3];
      std::snprintf(st, sizeof st, "%02x", subtype);
      out->append("{\"$binary\": {\"base64\": \"" + Base64(data) + "\", \"subType\": \"" + st +
                  "\"}}");
      return;
    }
    case BsonType::kUndefined: out->append("{\"$undefined\": true}"); return;
    case BsonType::kObjectId: {
      static const char* kDigits = "0123456789abcdef";
      char buf[24];
      for (int i = 0; i < 12; ++i) {
        buf[2 * i] = kDigits[uint8_t(v.data[i]) >> 4];
        buf[2 * i + 1] = kDigits[uint8_t(v.data[i]) & 15];
      }
      out->append("{\"$oid\": \"");
      out->append(buf, 24);
      out->append("\"}");
      return;
    }
    case BsonType::kBool: out->append(v.Bool() ? "true" : "false"); return;
    case BsonType::kDate: {
      int64_t ms = v.Int64();
      if (!canonical && ms >= 0 && ms < 253402300800000LL) {
        time_t secs = static_cast<time_t>(ms / 1000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char buf[40];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        std::string iso = buf;
        if (ms % 1000 != 0) {
          char frac[8];
          std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % 1000));
          iso += frac;
        }
        out->append("{\"$date\": \"" + iso + "Z\"}");
      } else {
        out->append("{\"$date\": {\"$numberLong\": \"" + std::to_string(ms) + "\"}}");
      }
      return;
    }
    case BsonType::kNull: out->append("null"); return;
    case BsonType::kRegex: {
      std::string_view pattern(v.data);
      std::string options(v.data + pattern.size() + 1);
      // Sorted as BSON stores them, unless bytes past ASCII would be split by sorting.
      if (std::all_of(options.begin(), options.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
        std::sort(options.begin(), options.end());
      }
      out->append("{\"$regularExpression\": {\"pattern\": ");
      Quote(pattern, out);
      out->append(", \"options\": ");
      Quote(options, out);
      out->append("}}");
      return;
    }
    case BsonType::kDbPointer: {
      int32_t len = ReadInt32(v.data);
      out->append("{\"$dbPointer\": {\"$ref\": ");
      Quote(std::string_view(v.data + 4, static_cast<size_t>(len - 1)), out);
      out->append(", \"$id\": {\"$oid\": \"" + Hex(v.data + 4 + len, 12) + "\"}}}");
      return;
    }
    case BsonType::kJavaScript:
      out->append("{\"$code\": ");
      Quote(v.String(), out);
      out->push_back('}');
      return;
    case BsonType::kSymbol:
      out->append("{\"$symbol\": ");
      Quote(v.String(), out);
      out->push_back('}');
      return;
    case BsonType::kCodeWithScope: {
      int32_t code_len = ReadInt32(v.data + 4);
      out->append("{\"$code\": ");
      Quote(std::string_view(v.data + 8, static_cast<size_t>(code_len - 1)), out);
      out->append(", \"$scope\": ");
      WriteDocument(DocView(v.data + 8 + code_len), false, canonical, out);
      out->push_back('}');
      return;
    }
    case BsonType::kInt32:
      if (canonical) {
        out->append("{\"$numberInt\": \"" + std::to_string(v.Int32()) + "\"}");
      } else {
        out->append(std::to_string(v.Int32()));
      }
      return;
    case BsonType::kTimestamp: {
      uint32_t i, t;
      std::memcpy(&i, v.data, 4);
      std::memcpy(&t, v.data + 4, 4);
      out->append("{\"$timestamp\": {\"t\": " + std::to_string(t) + ", \"i\": " +
                  std::to_string(i) + "}}");
      return;
    }
    case BsonType::kInt64:
      if (canonical) {
        out->append("{\"$numberLong\": \"" + std::to_string(v.Int64()) + "\"}");
      } else {
        out->append(std::to_string(v.Int64()));
      }
      return;
    case BsonType::kDecimal128:
      out->append("{\"$numberDecimal\": \"" + DecimalToString(v.data) + "\"}");
      return;
    case BsonType::kMinKey: out->append("{\"$minKey\": 1}"); return;
    case BsonType::kMaxKey: out->append("{\"$maxKey\": 1}"); return;
  }
}

void WriteDocument(DocView doc, bool array, bool canonical, std::string* out) {
  out->push_back(array ? '[' : '{');
  bool first = true;
  for (const ElementView& e : doc) {
    if (!first) out->append(", ");
    first = false;
    if (!array) {
      Quote(e.key, out);
      out->append(": ");
    }
    WriteValue(e.value, canonical, out);
  }
  out->push_back(array ? ']' : '}');
}

// MongoDB's BSONObj::toString form, which its error messages quote documents in
// ("dup key: { _id: 1 }"): unquoted field names, shell constructors for the BSON types.
void WriteShellDocument(DocView doc, bool array, std::string* out);

void WriteShellValue(const ValueView& v, std::string* out) {
  switch (v.type) {
    case BsonType::kDouble: {
      double d = v.Double();
      out->append(std::isfinite(d) ? FormatDouble(d) : std::isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
      return;
    }
    case BsonType::kInt32: out->append(std::to_string(v.Int32())); return;
    case BsonType::kInt64: out->append(std::to_string(v.Int64())); return;
    case BsonType::kDecimal128: out->append(DecimalToString(v.data)); return;
    case BsonType::kString: Quote(v.String(), out); return;
    case BsonType::kDocument: WriteShellDocument(v.Doc(), false, out); return;
    case BsonType::kArray: WriteShellDocument(v.Doc(), true, out); return;
    case BsonType::kObjectId: out->append("ObjectId('" + Hex(v.data, 12) + "')"); return;
    case BsonType::kDate: out->append("new Date(" + std::to_string(v.Int64()) + ")"); return;
    case BsonType::kBinary: {
      int32_t len = ReadInt32(v.data);
      out->append("BinData(" + std::to_string(static_cast<uint8_t>(v.data[4])) + ", " +
                  Hex(v.data + 5, static_cast<size_t>(len)) + ")");
      return;
    }
    case BsonType::kTimestamp: {
      uint32_t i, t;
      std::memcpy(&i, v.data, 4);
      std::memcpy(&t, v.data + 4, 4);
      out->append("Timestamp(" + std::to_string(t) + ", " + std::to_string(i) + ")");
      return;
    }
    case BsonType::kRegex: {
      std::string_view pattern(v.data);
      out->append("/" + std::string(pattern) + "/" + std::string(v.data + pattern.size() + 1));
      return;
    }
    case BsonType::kBool: out->append(v.Bool() ? "true" : "false"); return;
    case BsonType::kNull: out->append("null"); return;
    case BsonType::kUndefined: out->append("undefined"); return;
    case BsonType::kMinKey: out->append("MinKey"); return;
    case BsonType::kMaxKey: out->append("MaxKey"); return;
    default: WriteValue(v, false, out); return;  // code, symbol, DBPointer: as Extended JSON
  }
}

void WriteShellDocument(DocView doc, bool array, std::string* out) {
  if (doc.begin() == doc.end()) {
    out->append(array ? "[]" : "{}");
    return;
  }
  out->append(array ? "[ " : "{ ");
  bool first = true;
  for (const ElementView& e : doc) {
    if (!first) out->append(", ");
    first = false;
    if (!array) {
      out->append(e.key);
      out->append(": ");
    }
    WriteShellValue(e.value, out);
  }
  out->append(array ? " ]" : " }");
}

}  // namespace

std::string BsonToShellText(std::string_view bytes) {
  std::string out;
  WriteShellDocument(DocView(bytes), false, &out);
  return out;
}

std::string BsonToJson(std::string_view bytes, bool canonical) {
  std::string out;
  out.reserve(bytes.size() * 3 / 2 + 16);
  WriteDocument(DocView(bytes), false, canonical, &out);
  return out;
}

}  // namespace micromongo::bson
