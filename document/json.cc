// MongoDB Extended JSON v2 -> BSON: our own reader (libbson's takes query documents such
// as {"$type": "array"} or {"$options": "i"} for legacy binary and regex forms and rejects
// them). The writer is json_writer.cc.

#include "document/json.h"

#include <bson/bson.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <vector>

#include "document/builder.h"
#include "document/status.h"

namespace micromongo::bson {
namespace {

absl::Status TooDeep() {
  return MongoError(kOverflow, StrCat("Extended JSON: documents nested deeper than ",
                                      kMaxBsonDepth, " levels"));
}


// A parsed JSON value; numbers keep their text for exact conversion.
struct JsonMember;

struct JsonValue {
  enum Kind { kNull, kBool, kNumber, kString, kObject, kArray } kind = kNull;
  bool boolean = false;
  std::string text;  // number text or string contents
  std::vector<JsonMember> members;  // (a std::pair of an incomplete type is not allowed)
  std::vector<JsonValue> elements;
};

struct JsonMember {
  std::string first;
  JsonValue second;
};

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  absl::Status Parse(JsonValue* out) {
    SkipSpace();
    if (auto s = Value(out, 0); !s.ok()) return s;
    SkipSpace();
    if (pos_ != in_.size()) return Error("unexpected text after the document");
    return absl::OkStatus();
  }

 private:
  absl::Status Error(std::string_view what) const {
    return MongoError(kFailedToParse, StrCat("Extended JSON: ", what, " at offset ", pos_));
  }
  void SkipSpace() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' ||
                                 in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  // `depth`: containers around this value (0 for the top level). A few levels more than
  // BSON allows are parsed, for a type wrapper at the deepest level (up to three levels:
  // {"$dbPointer": {"$ref": ..., "$id": {"$oid": ...}}}); AppendJson enforces BSON's limit
  // exactly.
  absl::Status Value(JsonValue* out, int depth) {
    if (depth > kMaxBsonDepth + 3) return TooDeep();
    SkipSpace();
    if (pos_ >= in_.size()) return Error("unexpected end of input");
    char c = in_[pos_];
    if (c == '{') {
      ++pos_;
      out->kind = JsonValue::kObject;
      if (Consume('}')) return absl::OkStatus();
      do {
        SkipSpace();
        std::string key;
        if (pos_ >= in_.size() || in_[pos_] != '"') return Error("expected a field name");
        if (auto s = String(&key); !s.ok()) return s;
        if (!Consume(':')) return Error("expected ':'");
        JsonValue v;
        if (auto s = Value(&v, depth + 1); !s.ok()) return s;
        out->members.push_back({std::move(key), std::move(v)});
      } while (Consume(','));
      if (!Consume('}')) return Error("expected ',' or '}'");
      return absl::OkStatus();
    }
    if (c == '[') {
      ++pos_;
      out->kind = JsonValue::kArray;
      if (Consume(']')) return absl::OkStatus();
      do {
        JsonValue v;
        if (auto s = Value(&v, depth + 1); !s.ok()) return s;
        out->elements.push_back(std::move(v));
      } while (Consume(','));
      if (!Consume(']')) return Error("expected ',' or ']'");
      return absl::OkStatus();
    }
    if (c == '"') {
      out->kind = JsonValue::kString;
      return String(&out->text);
    }
    if (Literal("true")) {
      out->kind = JsonValue::kBool;
      out->boolean = true;
      return absl::OkStatus();
    }
    if (Literal("false")) {
      out->kind = JsonValue::kBool;
      return absl::OkStatus();
    }
    if (Literal("null")) {
      out->kind = JsonValue::kNull;
      return absl::OkStatus();
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      if (in_[pos_] == '-') ++pos_;
      auto digits = [&] {
        size_t d = pos_;
        while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
        return pos_ - d;
      };
      size_t int_start = pos_;
      if (digits() == 0) return Error("bad number");
      if (in_[int_start] == '0' && pos_ - int_start > 1) return Error("leading zero in number");
      if (pos_ < in_.size() && in_[pos_] == '.') {
        ++pos_;
        if (digits() == 0) return Error("bad number");
      }
      if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
        ++pos_;
        if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
        if (digits() == 0) return Error("bad number");
      }
      out->kind = JsonValue::kNumber;
      out->text = std::string(in_.substr(start, pos_ - start));
      return absl::OkStatus();
    }
    return Error("unexpected character");
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  absl::Status Hex4(uint32_t* out) {
    if (pos_ + 4 > in_.size()) return Error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = in_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= h - '0';
      else if (h >= 'a' && h <= 'f') v |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') v |= h - 'A' + 10;
      else return Error("bad \\u escape");
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status String(std::string* out) {
    ++pos_;  // opening quote
    size_t begin = out->size();
    bool ascii = true;
    while (true) {
      if (pos_ >= in_.size()) return Error("unterminated string");
      unsigned char c = static_cast<unsigned char>(in_[pos_++]);
      if (c == '"') {
        // JSON text is UTF-8, and BSON keys and strings must be.
        if (!ascii && !IsValidUtf8(std::string_view(*out).substr(begin))) return Error("string is not valid UTF-8");
        return absl::OkStatus();
      }
      if (c >= 0x80) ascii = false;
      if (c < 0x20) return Error("control character in string");
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= in_.size()) return Error("unterminated string");
      char e = in_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (auto s = Hex4(&cp); !s.ok()) return s;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (in_.substr(pos_, 2) != "\\u") return Error("unpaired surrogate");
            pos_ += 2;
            if (auto s = Hex4(&lo); !s.ok()) return s;
            if (lo < 0xDC00 || lo > 0xDFFF) return Error("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("bad escape in string");
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

absl::Status Bad(std::string_view what) {
  return MongoError(kFailedToParse, StrCat("Extended JSON: ", what));
}

bool ParseInt64(std::string_view text, int64_t* out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0') ||
      (text.size() > 2 && text[0] == '-' && text[1] == '0') || text == "-0" || text == "-") {
    if (text != "0") return false;
  }
  auto r = std::from_chars(text.data(), text.data() + text.size(), *out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

bool ParseDouble(std::string_view text, double* out) {
  if (text == "Infinity") *out = std::numeric_limits<double>::infinity();
  else if (text == "-Infinity") *out = -std::numeric_limits<double>::infinity();
  else if (text == "NaN") *out = std::numeric_limits<double>::quiet_NaN();
  else {
    std::string s(text);
    char* end = nullptr;
    errno = 0;
    *out = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || s.empty()) return false;
    // Only JSON number syntax (no hex, no "inf").
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) {
        return false;
      }
    }
  }
  return true;
}

bool Base64Decode(std::string_view in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = in[i + j];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        v[j] = 0;
        ++pad;
      } else {
        if (pad) return false;
        v[j] = val(c);
        if (v[j] < 0) return false;
      }
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back(static_cast<char>(n >> 16));
    if (pad < 2) out->push_back(static_cast<char>(n >> 8));
    if (pad < 1) out->push_back(static_cast<char>(n));
  }
  return true;
}

// "2001-02-03T04:05:06.789Z" or with a +hh:mm / -hhmm offset.
bool ParseIsoDate(std::string_view s, int64_t* millis) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || std::sscanf(std::string(s.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d",
                                   &y, &mo, &d, &h, &mi, &sec) != 6) {
    return false;
  }
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
    for (; digits < 3; ++digits) ms *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    std::string rest(s.substr(pos + 1));
    int oh = 0, om = 0;
    if (std::sscanf(rest.c_str(), "%2d:%2d", &oh, &om) == 2 && rest.size() == 5) {
    } else if (std::sscanf(rest.c_str(), "%2d%2d", &oh, &om) == 2 && rest.size() == 4) {
    } else {
      return false;
    }
    offset = sign * (oh * 3600 + om * 60);
    pos = s.size();
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  *millis = (static_cast<int64_t>(timegm(&tm)) - offset) * 1000 + ms;
  return true;
}

absl::Status AppendJson(Builder* b, std::string_view key, const JsonValue& v, int depth);

const JsonValue* Member(const JsonValue& obj, std::string_view key) {
  for (const auto& [k, v] : obj.members) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool OnlyKeys(const JsonValue& obj, std::initializer_list<std::string_view> keys) {
  if (obj.members.size() != keys.size()) return false;
  for (std::string_view k : keys) {
    if (Member(obj, k) == nullptr) return false;
  }
  return true;
}

// The value bytes of a binary: length, subtype, data (subtype 2 nests its own length).
std::string BinaryBytes(uint8_t subtype, const std::string& data) {
  std::string inner = data;
  if (subtype == 2) {
    int32_t n = static_cast<int32_t>(data.size());
    inner = std::string(reinterpret_cast<const char*>(&n), 4) + data;
  }
  std::string bytes(4, '\0');
  int32_t len = static_cast<int32_t>(inner.size());
  std::memcpy(bytes.data(), &len, 4);
  bytes.push_back(static_cast<char>(subtype));
  return bytes + inner;
}

void AppendRaw(Builder* b, std::string_view key, BsonType type, std::string_view bytes) {
  b->AppendView(key, ValueView{type, bytes.data(), static_cast<uint32_t>(bytes.size())});
}

std::string LenString(std::string_view s) {
  std::string out(4, '\0');
  int32_t len = static_cast<int32_t>(s.size() + 1);
  std::memcpy(out.data(), &len, 4);
  out.append(s);
  out.push_back('\0');
  return out;
}

// Appends `obj` as the Extended JSON type wrapper it spells, or returns false if its keys
// are not such a wrapper (a plain document, e.g. a query operator).
absl::StatusOr<bool> AppendWrapper(Builder* b, std::string_view key, const JsonValue& obj,
                                   int depth) {
  if (obj.members.empty() || obj.members[0].first.empty() || obj.members[0].first[0] != '$') {
    return false;
  }
  const std::string& first = obj.members[0].first;
  auto str = [&](std::string_view k) -> const std::string* {
    const JsonValue* m = Member(obj, k);
    return m != nullptr && m->kind == JsonValue::kString ? &m->text : nullptr;
  };
  if (first == "$oid") {
    const std::string* hex = str("$oid");
    if (!OnlyKeys(obj, {"$oid"}) || hex == nullptr || hex->size() != 24) return Bad("bad $oid");
    std::string bytes(12, '\0');
    for (int i = 0; i < 12; ++i) {
      auto r = std::from_chars(hex->data() + 2 * i, hex->data() + 2 * i + 2,
                               reinterpret_cast<unsigned char&>(bytes[i]), 16);
      if (r.ec != std::errc() || r.ptr != hex->data() + 2 * i + 2) return Bad("bad $oid");
    }
    AppendRaw(b, key, BsonType::kObjectId, bytes);
    return true;
  }
  if (first == "$numberInt") {
    const std::string* t = str("$numberInt");
    int64_t n;
    if (!OnlyKeys(obj, {"$numberInt"}) || t == nullptr || !ParseInt64(*t, &n) ||
        n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) {
      return Bad("bad $numberInt");
    }
    b->AppendInt32(key, static_cast<int32_t>(n));
    return true;
  }
  if (first == "$numberLong") {
    const std::string* t = str("$numberLong");
    int64_t n;
    if (!OnlyKeys(obj, {"$numberLong"}) || t == nullptr || !ParseInt64(*t, &n)) {
      return Bad("bad $numberLong");
    }
    b->AppendInt64(key, n);
    return true;
  }
  if (first == "$numberDouble") {
    const std::string* t = str("$numberDouble");
    double d;
    if (!OnlyKeys(obj, {"$numberDouble"}) || t == nullptr || !ParseDouble(*t, &d)) {
      return Bad("bad $numberDouble");
    }
    b->AppendDouble(key, d);
    return true;
  }
  if (first == "$numberDecimal") {
    const std::string* t = str("$numberDecimal");
    bson_decimal128_t dec;
    if (!OnlyKeys(obj, {"$numberDecimal"}) || t == nullptr ||
        !bson_decimal128_from_string(t->c_str(), &dec)) {
      return Bad("bad $numberDecimal");
    }
    char bytes[16];
    std::memcpy(bytes, &dec.low, 8);
    std::memcpy(bytes + 8, &dec.high, 8);
    AppendRaw(b, key, BsonType::kDecimal128, std::string_view(bytes, 16));
    return true;
  }
  if (first == "$binary") {
    const JsonValue* bin = Member(obj, "$binary");
    std::string data, subtype_hex;
    if (bin->kind == JsonValue::kObject) {
      const JsonValue* b64 = Member(*bin, "base64");
      const JsonValue* st = Member(*bin, "subType");
      if (!OnlyKeys(obj, {"$binary"}) || !OnlyKeys(*bin, {"base64", "subType"}) ||
          b64->kind != JsonValue::kString || st->kind != JsonValue::kString) {
        return Bad("bad $binary");
      }
      if (!Base64Decode(b64->text, &data)) return Bad("bad base64 in $binary");
      subtype_hex = st->text;
    } else if (bin->kind == JsonValue::kString && OnlyKeys(obj, {"$binary", "$type"}) &&
               str("$type") != nullptr) {  // legacy {"$binary": "...", "$type": "00"}
      if (!Base64Decode(bin->text, &data)) return Bad("bad base64 in $binary");
      subtype_hex = *str("$type");
    } else {
      return Bad("bad $binary");
    }
    unsigned subtype = 0;
    auto r = std::from_chars(subtype_hex.data(), subtype_hex.data() + subtype_hex.size(), subtype, 16);
    if (subtype_hex.empty() || subtype_hex.size() > 2 || r.ec != std::errc() ||
        r.ptr != subtype_hex.data() + subtype_hex.size()) {
      return Bad("bad $binary subType");
    }
    AppendRaw(b, key, BsonType::kBinary, BinaryBytes(static_cast<uint8_t>(subtype), data));
    return true;
  }
  if (first == "$uuid") {
    const std::string* text = str("$uuid");
    if (!OnlyKeys(obj, {"$uuid"}) || text == nullptr || text->size() != 36) return Bad("bad $uuid");
    std::string data;
    for (size_t i = 0; i < 36; ++i) {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != ((*text)[i] == '-')) return Bad("bad $uuid");
      if (dash) continue;
      unsigned byte;
      if (i + 1 >= 36 || (*text)[i + 1] == '-') return Bad("bad $uuid");
      auto r = std::from_chars(text->data() + i, text->data() + i + 2, byte, 16);
      if (r.ec != std::errc() || r.ptr != text->data() + i + 2) return Bad("bad $uuid");
      data.push_back(static_cast<char>(byte));
      ++i;
    }
    AppendRaw(b, key, BsonType::kBinary, BinaryBytes(4, data));
    return true;
  }
  if (first == "$code") {
    const std::string* code = str("$code");
    if (code == nullptr) return Bad("bad $code");
    if (OnlyKeys(obj, {"$code"})) {
      AppendRaw(b, key, BsonType::kJavaScript, LenString(*code));
      return true;
    }
    const JsonValue* scope = Member(obj, "$scope");
    if (!OnlyKeys(obj, {"$code", "$scope"}) || scope->kind != JsonValue::kObject) {
      return Bad("bad $code");
    }
    Builder sb;
    for (const auto& [k, v] : scope->members) {
      if (auto s = AppendJson(&sb, k, v, depth + 1); !s.ok()) return s;
    }
    std::string scope_bytes = std::move(sb).Finish();
    std::string code_bytes = LenString(*code);
    std::string bytes(4, '\0');
    int32_t total = static_cast<int32_t>(4 + code_bytes.size() + scope_bytes.size());
    std::memcpy(bytes.data(), &total, 4);
    bytes += code_bytes + scope_bytes;
    AppendRaw(b, key, BsonType::kCodeWithScope, bytes);
    return true;
  }
  if (first == "$symbol") {
    const std::string* s = str("$symbol");
    if (!OnlyKeys(obj, {"$symbol"}) || s == nullptr) return Bad("bad $symbol");
    AppendRaw(b, key, BsonType::kSymbol, LenString(*s));
    return true;
  }
  if (first == "$timestamp") {
    const JsonValue* ts = Member(obj, "$timestamp");
    if (!OnlyKeys(obj, {"$timestamp"}) || ts->kind != JsonValue::kObject ||
        !OnlyKeys(*ts, {"t", "i"})) {
      return Bad("bad $timestamp");
    }
    int64_t t, i;
    const JsonValue* tv = Member(*ts, "t");
    const JsonValue* iv = Member(*ts, "i");
    if (tv->kind != JsonValue::kNumber || iv->kind != JsonValue::kNumber ||
        !ParseInt64(tv->text, &t) || !ParseInt64(iv->text, &i) || t < 0 || i < 0 ||
        t > 0xFFFFFFFFLL || i > 0xFFFFFFFFLL) {
      return Bad("bad $timestamp");
    }
    uint32_t parts[2] = {static_cast<uint32_t>(i), static_cast<uint32_t>(t)};
    AppendRaw(b, key, BsonType::kTimestamp, std::string_view(reinterpret_cast<char*>(parts), 8));
    return true;
  }
  if (first == "$regularExpression") {
    const JsonValue* re = Member(obj, "$regularExpression");
    if (!OnlyKeys(obj, {"$regularExpression"}) || re->kind != JsonValue::kObject ||
        !OnlyKeys(*re, {"pattern", "options"}) ||
        Member(*re, "pattern")->kind != JsonValue::kString ||
        Member(*re, "options")->kind != JsonValue::kString) {
      return Bad("bad $regularExpression");
    }
    std::string pattern = Member(*re, "pattern")->text;
    std::string options = Member(*re, "options")->text;
    if (pattern.find('\0') != std::string::npos || options.find('\0') != std::string::npos) {
      return Bad("regular expression with an embedded NUL");
    }
    // BSON stores options sorted; options past ASCII (not flags MongoDB knows) are kept as
    // they are, as the writer prints them, since sorting bytes could split a character.
    if (std::all_of(options.begin(), options.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
      std::sort(options.begin(), options.end());
    }
    std::string bytes = pattern + '\0' + options + '\0';
    AppendRaw(b, key, BsonType::kRegex, bytes);
    return true;
  }
  if (first == "$dbPointer") {
    const JsonValue* p = Member(obj, "$dbPointer");
    if (!OnlyKeys(obj, {"$dbPointer"}) || p->kind != JsonValue::kObject ||
        !OnlyKeys(*p, {"$ref", "$id"}) || Member(*p, "$ref")->kind != JsonValue::kString) {
      return Bad("bad $dbPointer");
    }
    Builder id;
    auto is_oid = AppendWrapper(&id, "x", *Member(*p, "$id"), depth + 1);
    if (!is_oid.ok()) return is_oid.status();
    std::string id_doc = std::move(id).Finish();
    DocView idv(id_doc);
    if (!*is_oid || idv.begin()->value.type != BsonType::kObjectId) return Bad("bad $dbPointer");
    std::string bytes = LenString(Member(*p, "$ref")->text);
    bytes.append(idv.begin()->value.data, 12);
    AppendRaw(b, key, BsonType::kDbPointer, bytes);
    return true;
  }
  if (first == "$date") {
    const JsonValue* d = Member(obj, "$date");
    if (!OnlyKeys(obj, {"$date"})) return Bad("bad $date");
    int64_t millis = 0;
    if (d->kind == JsonValue::kString) {
      if (!ParseIsoDate(d->text, &millis)) return Bad("bad $date string");
    } else if (d->kind == JsonValue::kObject) {
      const JsonValue* l = Member(*d, "$numberLong");
      if (!OnlyKeys(*d, {"$numberLong"}) || l->kind != JsonValue::kString ||
          !ParseInt64(l->text, &millis)) {
        return Bad("bad $date");
      }
    } else {
      return Bad("bad $date");
    }
    AppendRaw(b, key, BsonType::kDate, std::string_view(reinterpret_cast<char*>(&millis), 8));
    return true;
  }
  if (first == "$minKey" || first == "$maxKey") {
    const JsonValue* v = Member(obj, first);
    if (obj.members.size() != 1 || v->kind != JsonValue::kNumber || v->text != "1") {
      return Bad(StrCat("bad ", first));
    }
    AppendRaw(b, key, first == "$minKey" ? BsonType::kMinKey : BsonType::kMaxKey, "");
    return true;
  }
  if (first == "$undefined") {
    const JsonValue* v = Member(obj, "$undefined");
    if (obj.members.size() != 1 || v->kind != JsonValue::kBool || !v->boolean) {
      return Bad("bad $undefined");
    }
    AppendRaw(b, key, BsonType::kUndefined, "");
    return true;
  }
  return false;  // "$regex", "$type", "$gt", "$ref"...: an ordinary document
}

// `depth`: documents and arrays between the top-level document and `v` (0 for its fields),
// so a document or array `v` is BSON nesting level depth + 2.
absl::Status AppendJson(Builder* b, std::string_view key, const JsonValue& v, int depth) {
  switch (v.kind) {
    case JsonValue::kNull: b->AppendNull(key); return absl::OkStatus();
    case JsonValue::kBool: b->AppendBool(key, v.boolean); return absl::OkStatus();
    case JsonValue::kString:
      b->AppendString(key, v.text);
      return absl::OkStatus();
    case JsonValue::kNumber: {
      int64_t n;
      if (v.text.find_first_of(".eE") == std::string::npos && ParseInt64(v.text, &n)) {
        if (n >= std::numeric_limits<int32_t>::min() && n <= std::numeric_limits<int32_t>::max()) {
          b->AppendInt32(key, static_cast<int32_t>(n));
        } else {
          b->AppendInt64(key, n);
        }
        return absl::OkStatus();
      }
      double d;
      if (!ParseDouble(v.text, &d)) return Bad(StrCat("bad number ", v.text));
      b->AppendDouble(key, d);
      return absl::OkStatus();
    }
    case JsonValue::kArray: {
      if (depth + 2 > kMaxBsonDepth) return TooDeep();
      size_t t = b->StartArray(key);
      char scratch[24];
      for (size_t i = 0; i < v.elements.size(); ++i) {
        if (auto s = AppendJson(b, ArrayKey(i, scratch), v.elements[i], depth + 1); !s.ok()) return s;
      }
      b->End(t);
      return absl::OkStatus();
    }
    case JsonValue::kObject: {
      auto wrapped = AppendWrapper(b, key, v, depth);
      if (!wrapped.ok()) return wrapped.status();
      if (*wrapped) return absl::OkStatus();
      if (depth + 2 > kMaxBsonDepth) return TooDeep();
      size_t t = b->StartDocument(key);
      for (const auto& [k, m] : v.members) {
        if (k.find('\0') != std::string::npos) return Bad("field name with a NUL");
        if (auto s = AppendJson(b, k, m, depth + 1); !s.ok()) return s;
      }
      b->End(t);
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

void PrintNormalized(const JsonValue& v, std::string* out) {
  auto quote = [&](const std::string& s) { AppendJsonString(s, out); };
  switch (v.kind) {
    case JsonValue::kNull: out->append("null"); break;
    case JsonValue::kBool: out->append(v.boolean ? "true" : "false"); break;
    case JsonValue::kNumber: out->append(v.text); break;
    case JsonValue::kString: quote(v.text); break;
    case JsonValue::kArray:
      out->push_back('[');
      for (size_t i = 0; i < v.elements.size(); ++i) {
        if (i) out->push_back(',');
        PrintNormalized(v.elements[i], out);
      }
      out->push_back(']');
      break;
    case JsonValue::kObject:
      out->push_back('{');
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i) out->push_back(',');
        quote(v.members[i].first);
        out->push_back(':');
        PrintNormalized(v.members[i].second, out);
      }
      out->push_back('}');
      break;
  }
}

}  // namespace

absl::StatusOr<std::string> NormalizeJson(std::string_view json) {
  JsonValue root;
  if (auto s = Parser(json).Parse(&root); !s.ok()) return s;
  std::string out;
  PrintNormalized(root, &out);
  return out;
}

absl::StatusOr<std::string> JsonToBson(std::string_view json) {
  JsonValue root;
  if (auto s = Parser(json).Parse(&root); !s.ok()) return s;
  if (root.kind != JsonValue::kObject) return Bad("expected a JSON object");
  Builder b;
  for (const auto& [k, m] : root.members) {
    if (k.find('\0') != std::string::npos) return Bad("field name with a NUL");
    if (auto s = AppendJson(&b, k, m, 0); !s.ok()) return s;
  }
  return std::move(b).Finish();
}

}  // namespace micromongo::bson
