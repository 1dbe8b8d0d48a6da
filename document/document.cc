// The public Document / Value / small BSON types (client/include/micromongo/*.h).

#include "micromongo/document.h"

#include <cmath>
#include <cstdlib>
#include <bson/bson.h>

#include <atomic>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "micromongo/error.h"

namespace micromongo {

// ---- Error --------------------------------------------------------------------------------

Error::Error(int code, std::string code_name, const std::string& message, Document details)
    : std::runtime_error(message),
      code_(code),
      code_name_(std::move(code_name)),
      details_(std::move(details)) {}

bool Error::HasErrorLabel(std::string_view label) const noexcept {
  for (const std::string& l : labels_) {
    if (l == label) return true;
  }
  return false;
}

void Error::AddErrorLabel(std::string label) {
  if (!HasErrorLabel(label)) labels_.push_back(std::move(label));
}

BulkWriteError::BulkWriteError(std::vector<WriteError> errors, BulkWriteResult result)
    : Error(errors.empty() ? 0 : errors.front().code,
            errors.empty() ? "" : errors.front().code_name,
            StrCat("bulk write failed: ", errors.size(), " write error(s)",
                         errors.empty() ? "" : StrCat("; first: ", errors.front().message)),
            errors.empty() ? Document() : errors.front().details),
      errors_(std::move(errors)),
      result_(std::move(result)) {}

namespace {

[[noreturn]] void Throw(int code, const std::string& message) {
  throw Error(code, std::string(ErrorCodeName(code)), message);
}

[[noreturn]] void ThrowStatus(const absl::Status& s) {
  Throw(MongoCodeOf(s), std::string(s.message()));
}

}  // namespace

// ---- Small types --------------------------------------------------------------------------

std::string_view BsonTypeName(BsonType type) {
  switch (type) {
    case BsonType::kDouble: return "double";
    case BsonType::kString: return "string";
    case BsonType::kDocument: return "object";
    case BsonType::kArray: return "array";
    case BsonType::kBinary: return "binData";
    case BsonType::kUndefined: return "undefined";
    case BsonType::kObjectId: return "objectId";
    case BsonType::kBool: return "bool";
    case BsonType::kDate: return "date";
    case BsonType::kNull: return "null";
    case BsonType::kRegex: return "regex";
    case BsonType::kDbPointer: return "dbPointer";
    case BsonType::kJavaScript: return "javascript";
    case BsonType::kSymbol: return "symbol";
    case BsonType::kCodeWithScope: return "javascriptWithScope";
    case BsonType::kInt32: return "int";
    case BsonType::kTimestamp: return "timestamp";
    case BsonType::kInt64: return "long";
    case BsonType::kDecimal128: return "decimal";
    case BsonType::kMinKey: return "minKey";
    case BsonType::kMaxKey: return "maxKey";
  }
  return "unknown";
}

ObjectId ObjectId::Generate() {
  // 4-byte seconds, 5 random bytes per process, 3-byte counter starting at a random value.
  static const auto process_unique = [] {
    std::random_device rd;
    std::array<uint8_t, 5> r;
    for (auto& b : r) b = static_cast<uint8_t>(rd());
    return r;
  }();
  static std::atomic<uint32_t> counter{std::random_device{}()};
  uint32_t secs = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count());
  uint32_t n = counter.fetch_add(1, std::memory_order_relaxed);
  ObjectId id;
  id.bytes[0] = secs >> 24;
  id.bytes[1] = secs >> 16;
  id.bytes[2] = secs >> 8;
  id.bytes[3] = secs;
  for (int i = 0; i < 5; ++i) id.bytes[4 + i] = process_unique[i];
  id.bytes[9] = n >> 16;
  id.bytes[10] = n >> 8;
  id.bytes[11] = n;
  return id;
}

ObjectId ObjectId::FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  ObjectId id;
  if (hex.size() != 24) Throw(kFailedToParse, "ObjectId needs 24 hex digits");
  for (int i = 0; i < 12; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) Throw(kFailedToParse, "ObjectId needs 24 hex digits");
    id.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return id;
}

std::string ObjectId::ToHex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(24, '0');
  for (int i = 0; i < 12; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

uint32_t ObjectId::timestamp() const {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 |
         bytes[3];
}

DateTime DateTime::Now() {
  return DateTime{std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()};
}

Decimal128 Decimal128::FromString(std::string_view text) {
  bson_decimal128_t dec;
  std::string s(text);
  if (!bson_decimal128_from_string(s.c_str(), &dec)) {
    Throw(kFailedToParse, StrCat("not a decimal128: ", s));
  }
  return Decimal128{dec.low, dec.high};
}

std::string Decimal128::ToString() const {
  bson_decimal128_t dec{low, high};
  char text[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&dec, text);
  return text;
}

// ---- Document -----------------------------------------------------------------------------

Document::Document() = default;
Document::Document(std::initializer_list<Field> fields) : fields_(fields) {}
Document::Document(const Document&) = default;
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(const Document&) = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

Document Document::FromJson(std::string_view json) {
  auto bytes = bson::JsonToBson(json);
  if (!bytes.ok()) ThrowStatus(bytes.status());
  return bson::Decode(bson::DocView(*bytes));
}

Document Document::FromBson(std::string_view bytes) {
  auto doc = bson::DecodeChecked(bytes);
  if (!doc.ok()) ThrowStatus(doc.status());
  return *std::move(doc);
}

std::string Document::JsonToBson(std::string_view json) {
  auto bytes = bson::JsonToBson(json);
  if (!bytes.ok()) ThrowStatus(bytes.status());
  return *std::move(bytes);
}

std::string Document::BsonToJson(std::string_view bson, bool canonical) {
  if (auto s = bson::Validate(bson); !s.ok()) ThrowStatus(s);
  return bson::BsonToJson(bson, canonical);
}

std::string Document::ToJson() const { return bson::BsonToJson(ToBson()); }
std::string Document::ToCanonicalJson() const { return bson::BsonToJson(ToBson(), true); }
std::string Document::ToBson() const { return bson::Encode(*this); }

size_t Document::size() const { return fields_.size(); }
void Document::reserve(size_t n) { fields_.reserve(n); }
bool Document::empty() const { return fields_.empty(); }
Document::const_iterator Document::begin() const { return fields_.begin(); }
Document::const_iterator Document::end() const { return fields_.end(); }
Document::iterator Document::begin() { return fields_.begin(); }
Document::iterator Document::end() { return fields_.end(); }

bool Document::Has(std::string_view key) const { return Find(key) != nullptr; }

const Value* Document::Find(std::string_view key) const {
  for (const auto& f : fields_) {
    if (f.first == key) return &f.second;
  }
  return nullptr;
}

Value* Document::Find(std::string_view key) {
  for (auto& f : fields_) {
    if (f.first == key) return &f.second;
  }
  return nullptr;
}

const Value& Document::Get(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) Throw(kNoSuchKey, StrCat("no field '", key, "' in document"));
  return *v;
}

const std::string& Document::GetString(std::string_view key) const {
  return Get(key).AsString();
}
int32_t Document::GetInt32(std::string_view key) const { return Get(key).AsInt32(); }
int64_t Document::GetInt64(std::string_view key) const { return Get(key).ToInt64(); }
double Document::GetDouble(std::string_view key) const { return Get(key).ToDouble(); }
bool Document::GetBool(std::string_view key) const { return Get(key).AsBool(); }
const Document& Document::GetDocument(std::string_view key) const {
  return Get(key).AsDocument();
}
const std::vector<Value>& Document::GetArray(std::string_view key) const {
  return Get(key).AsArray();
}
const ObjectId& Document::GetObjectId(std::string_view key) const {
  return Get(key).AsObjectId();
}

Document& Document::Set(std::string_view key, Value value) {
  if (Value* v = Find(key)) {
    *v = std::move(value);
  } else {
    fields_.emplace_back(std::string(key), std::move(value));
  }
  return *this;
}

Document& Document::Append(std::string key, Value value) {
  fields_.emplace_back(std::move(key), std::move(value));
  return *this;
}

bool Document::Remove(std::string_view key) {
  auto n = std::erase_if(fields_, [&](const Field& f) { return f.first == key; });
  return n > 0;
}

void Document::MoveToFront(std::string_view key) {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].first == key) {
      if (i != 0) std::rotate(fields_.begin(), fields_.begin() + i, fields_.begin() + i + 1);
      return;
    }
  }
}

void Document::Insert(const_iterator pos, Field field) {
  fields_.insert(pos, std::move(field));
}

bool operator==(const Document& a, const Document& b) { return a.fields_ == b.fields_; }

// ---- Value --------------------------------------------------------------------------------

BsonType Value::type() const { return kTypes[v_.index()]; }

bool Value::IsNumber() const {
  BsonType t = type();
  return t == BsonType::kDouble || t == BsonType::kInt32 || t == BsonType::kInt64 ||
         t == BsonType::kDecimal128;
}

double Value::ToDouble() const {
  if (auto p = GetIf<double>()) return *p;
  if (auto p = GetIf<int32_t>()) return *p;
  if (auto p = GetIf<int64_t>()) return static_cast<double>(*p);
  // strtod, not std::stod: a decimal beyond double's range (1E+6000) is infinity or 0 as
  // MongoDB converts it, where std::stod throws out_of_range.
  if (auto p = GetIf<Decimal128>()) return std::strtod(p->ToString().c_str(), nullptr);
  ThrowTypeMismatch(BsonType::kDouble);
}

int64_t Value::ToInt64() const {
  if (auto p = GetIf<int64_t>()) return *p;
  if (auto p = GetIf<int32_t>()) return *p;
  // Out-of-range and NaN values saturate instead of being undefined behaviour.
  auto saturate = [](double d) -> int64_t {
    if (std::isnan(d)) return 0;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return static_cast<int64_t>(d);
  };
  if (auto p = GetIf<double>()) return saturate(*p);
  if (auto p = GetIf<Decimal128>()) return saturate(std::strtod(p->ToString().c_str(), nullptr));
  ThrowTypeMismatch(BsonType::kInt64);
}

std::string Value::ToJson() const {
  bson::Builder b;
  b.AppendValue("v", *this);
  std::string json = bson::BsonToJson(std::move(b).Finish());
  // {"v" : <value> } -> <value>
  size_t start = json.find(':');
  size_t end = json.rfind('}');
  if (start == std::string::npos || end == std::string::npos || end <= start) return json;
  std::string_view inner(json.data() + start + 1, end - start - 1);
  while (!inner.empty() && inner.front() == ' ') inner.remove_prefix(1);
  while (!inner.empty() && inner.back() == ' ') inner.remove_suffix(1);
  return std::string(inner);
}

void Value::ThrowTypeMismatch(BsonType wanted) const {
  Throw(kTypeMismatch, StrCat("value is ", BsonTypeName(type()), ", not ",
                                    BsonTypeName(wanted)));
}

}  // namespace micromongo
