// Type operators: $type $isNumber $convert $toBool $toDate $toDecimal $toDouble $toInt $toLong
// $toObjectId $toString $toUUID, and the size operators $binarySize $bsonSize. $convert
// follows MongoDB's conversion table; failed conversions are 241 (ConversionFailure), which
// only they answer to `onError`.

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "absl/strings/escaping.h"
#include "document/builder.h"
#include "document/decimal.h"
#include "document/value_ops.h"
#include "pipeline/expressions/date_time.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

absl::Status ConversionError(std::string_view message) { return Err(kConversionFailure, message); }

absl::Status Unsupported(BsonType from, BsonType to) {
  return ConversionError(StrCat("Unsupported conversion from ", BsonTypeName(from), " to ",
                                BsonTypeName(to), " in $convert with no onError value"));
}

std::string DoubleToString(double d) {
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (std::isnan(d)) return "NaN";
  if (d == 0 && std::signbit(d)) return "-0";
  return FormatDouble(d);
}

// A conversion target: a BSON type, and for binData the subtype; "missing" is a valid name
// (the result of $type) that no conversion produces.
struct Target {
  BsonType type;
  bool missing = false;
  int binary_subtype = 0;
};

std::optional<BsonType> TypeFromName(std::string_view name) {
  static const std::pair<std::string_view, BsonType> kNames[] = {
      {"double", BsonType::kDouble},     {"string", BsonType::kString},
      {"object", BsonType::kDocument},   {"array", BsonType::kArray},
      {"binData", BsonType::kBinary},    {"undefined", BsonType::kUndefined},
      {"objectId", BsonType::kObjectId}, {"bool", BsonType::kBool},
      {"date", BsonType::kDate},         {"null", BsonType::kNull},
      {"regex", BsonType::kRegex},       {"dbPointer", BsonType::kDbPointer},
      {"javascript", BsonType::kJavaScript}, {"symbol", BsonType::kSymbol},
      {"javascriptWithScope", BsonType::kCodeWithScope}, {"int", BsonType::kInt32},
      {"timestamp", BsonType::kTimestamp}, {"long", BsonType::kInt64},
      {"decimal", BsonType::kDecimal128}, {"minKey", BsonType::kMinKey},
      {"maxKey", BsonType::kMaxKey}};
  for (const auto& [n, t] : kNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

bool ValidTypeCode(int code) {
  return (code >= 1 && code <= 19) || code == -1 || code == 127;
}

absl::StatusOr<Target> ComputeTarget(const Value& to) {
  if (to.type() == BsonType::kDocument) {
    // 8.0: {type: <name or code>, subtype: <binary subtype>}.
    const Value* type = to.AsDocument().Find("type");
    if (type == nullptr) return Err(kFailedToParse, "$convert's 'to' document requires 'type'");
    MM_ASSIGN(t, ComputeTarget(*type));
    if (const Value* sub = to.AsDocument().Find("subtype")) {
      auto n = Integral32(*sub);
      if (!n || *n < 0 || *n > 255) return Err(kFailedToParse, "$convert's 'subtype' must be a valid binData subtype");
      t.binary_subtype = *n;
    }
    return t;
  }
  if (to.type() == BsonType::kString) {
    if (to.AsString() == "missing") return Target{BsonType::kUndefined, true};
    auto t = TypeFromName(to.AsString());
    if (!t) return Err(kBadValue, StrCat("Unknown type name: ", to.AsString()));
    return Target{*t};
  }
  if (to.IsNumber()) {
    auto n = Integral32(to);
    if (!n) return Err(kFailedToParse, "In $convert, numeric 'to' argument is not an integer");
    if (!ValidTypeCode(*n)) {
      return Err(kFailedToParse, StrCat("In $convert, numeric value for 'to' does not correspond to a "
                                        "BSON type: ", *n));
    }
    return Target{static_cast<BsonType>(static_cast<uint8_t>(*n))};
  }
  return Err(kFailedToParse, StrCat("$convert's 'to' argument must be a string or number, but is ",
                                    TypeName(to)));
}

absl::StatusOr<Value> DoubleToInteger(double d, bool to_int) {
  if (std::isnan(d)) {
    return ConversionError("Attempt to convert NaN value to integer type in $convert with no onError value");
  }
  if (std::isinf(d)) {
    return ConversionError(
        "Attempt to convert infinity value to integer type in $convert with no onError value");
  }
  if (to_int) {
    if (d < std::numeric_limits<int32_t>::lowest() || d > std::numeric_limits<int32_t>::max()) {
      return ConversionError(StrCat("Conversion would overflow target type in $convert with no onError "
                                    "value: ", FormatDouble(d)));
    }
    return Value(static_cast<int32_t>(d));
  }
  if (d < -0x1p63 || d >= 0x1p63) {
    return ConversionError(StrCat("Conversion would overflow target type in $convert with no onError "
                                  "value: ", FormatDouble(d)));
  }
  return Value(static_cast<int64_t>(d));
}

absl::StatusOr<Value> DecimalToInteger(const Value& v, bool to_int) {
  long double d = bson::ToLongDouble(v);
  if (std::isnan(d)) {
    return ConversionError("Attempt to convert NaN value to integer type in $convert with no onError value");
  }
  if (std::isinf(d)) {
    return ConversionError(
        "Attempt to convert infinity value to integer type in $convert with no onError value");
  }
  long double t = std::trunc(d);
  bool fits = to_int ? (t >= std::numeric_limits<int32_t>::min() && t <= std::numeric_limits<int32_t>::max())
                     : (t >= -0x1p63L && t < 0x1p63L);
  if (!fits) {
    return ConversionError(StrCat("Conversion would overflow target type in $convert with no onError value: ",
                                  v.AsDecimal128().ToString()));
  }
  if (to_int) return Value(static_cast<int32_t>(t));
  return Value(static_cast<int64_t>(t));
}

absl::StatusOr<Value> ParseNumber(const std::string& s, BsonType to) {
  auto fail = [&](std::string_view why) {
    return ConversionError(StrCat("Failed to parse number '", s, "' in $convert with no onError value: ", why));
  };
  if (s.rfind("0x", 0) == 0 || s.rfind("-0x", 0) == 0 || s.rfind("0X", 0) == 0) {
    return ConversionError(StrCat("Illegal hexadecimal input in $convert with no onError value: ", s));
  }
  if (s.empty()) return fail("No digits");
  if (to == BsonType::kInt32 || to == BsonType::kInt64) {
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (end == s.c_str() || std::isspace(static_cast<unsigned char>(s[0]))) return fail("Did not consume whole string.");
    if (*end != '\0') return fail("Did not consume whole string.");
    if (errno == ERANGE) return fail("Out of range");
    if (to == BsonType::kInt32) {
      if (n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) {
        return fail("Out of range");
      }
      return Value(static_cast<int32_t>(n));
    }
    return Value(static_cast<int64_t>(n));
  }
  if (to == BsonType::kDouble) {
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0' || std::isspace(static_cast<unsigned char>(s[0]))) {
      return fail("Did not consume whole string.");
    }
    return Value(d);
  }
  try {
    return Value(Decimal128::FromString(s));
  } catch (const std::exception&) {
    return fail("Failed to parse string to decimal");
  }
}

// binData <-> string formats (MongoDB 8.0): base64, base64url, hex, utf8, uuid.
absl::StatusOr<std::string> BinaryToString(const Binary& b, std::string_view format) {
  if (format == "base64" || format.empty()) return absl::Base64Escape(b.data);
  if (format == "base64url") return absl::WebSafeBase64Escape(b.data);
  if (format == "hex") {
    std::string hex = absl::BytesToHexString(b.data);
    for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return hex;
  }
  if (format == "utf8") return b.data;
  if (format == "uuid" || format == "auto") {
    if ((b.subtype == 4 || b.subtype == 3) && b.data.size() == 16) {
      std::string h = absl::BytesToHexString(b.data);
      return StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-", h.substr(16, 4), "-",
                    h.substr(20));
    }
    if (format == "auto") return absl::Base64Escape(b.data);
    return ConversionError("Only UUID binData can be converted to a string with the 'uuid' format");
  }
  return Err(kBadValue, StrCat("Invalid format value for $convert: ", format));
}

absl::StatusOr<Binary> StringToBinary(const std::string& s, std::string_view format, int subtype) {
  Binary b;
  b.subtype = static_cast<uint8_t>(subtype);
  if (format == "uuid") {
    std::string hex;
    for (char c : s) {
      if (c != '-') hex.push_back(c);
    }
    if (s.size() != 36 || hex.size() != 32 ||
        hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return ConversionError(StrCat("Invalid UUID string: ", s));
    }
    b.data = absl::HexStringToBytes(hex);
    b.subtype = 4;
    return b;
  }
  if (format == "base64" || format == "auto" || format.empty()) {
    if (!absl::Base64Unescape(s, &b.data)) return ConversionError(StrCat("Failed to parse BinData '", s, "' as base64"));
    return b;
  }
  if (format == "base64url") {
    if (!absl::WebSafeBase64Unescape(s, &b.data)) {
      return ConversionError(StrCat("Failed to parse BinData '", s, "' as base64url"));
    }
    return b;
  }
  if (format == "hex") {
    if (s.size() % 2 != 0 || s.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return ConversionError(StrCat("Failed to parse BinData '", s, "' as hex"));
    }
    b.data = absl::HexStringToBytes(s);
    return b;
  }
  if (format == "utf8") {
    b.data = s;
    return b;
  }
  return Err(kBadValue, StrCat("Invalid format value for $convert: ", format));
}

absl::StatusOr<Value> Convert(const Value& in, const Target& target, std::string_view format) {
  BsonType from = in.type();
  BsonType to = target.type;
  if (target.missing) return Unsupported(from, BsonType::kUndefined);
  if (from == to && to != BsonType::kBinary) return in;
  switch (to) {
    case BsonType::kBool:
      return Value(IsTrue(in));
    case BsonType::kDouble:
      switch (from) {
        case BsonType::kInt32:
        case BsonType::kInt64: return Value(ToDouble(in));
        case BsonType::kDecimal128: {
          long double d = bson::ToLongDouble(in);
          if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<double>::max()) {
            return ConversionError(StrCat("Conversion would overflow target type in $convert with no "
                                          "onError value: ", in.AsDecimal128().ToString()));
          }
          return Value(static_cast<double>(d));
        }
        case BsonType::kBool: return Value(in.AsBool() ? 1.0 : 0.0);
        case BsonType::kDate: return Value(static_cast<double>(in.AsDate().millis));
        case BsonType::kString: return ParseNumber(in.AsString(), to);
        default: return Unsupported(from, to);
      }
    case BsonType::kInt32:
    case BsonType::kInt64: {
      bool to_int = to == BsonType::kInt32;
      switch (from) {
        case BsonType::kInt32: return to_int ? in : Value(int64_t{in.AsInt32()});
        case BsonType::kInt64:
          if (to_int) {
            int64_t n = in.AsInt64();
            if (n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) {
              return ConversionError("Conversion would overflow target type in $convert with no onError value: ");
            }
            return Value(static_cast<int32_t>(n));
          }
          return in;
        case BsonType::kDouble: return DoubleToInteger(in.AsDouble(), to_int);
        case BsonType::kDecimal128: return DecimalToInteger(in, to_int);
        case BsonType::kBool: return to_int ? Value(in.AsBool() ? 1 : 0) : Value(int64_t{in.AsBool() ? 1 : 0});
        case BsonType::kDate:
          if (to_int) return Unsupported(from, to);
          return Value(in.AsDate().millis);
        case BsonType::kString: return ParseNumber(in.AsString(), to);
        default: return Unsupported(from, to);
      }
    }
    case BsonType::kDecimal128:
      switch (from) {
        case BsonType::kInt32:
        case BsonType::kInt64: return Value(Decimal128::FromString(std::to_string(in.ToInt64())));
        case BsonType::kDouble: {
          // MongoDB converts doubles to decimal with 15 significant digits.
          return bson::DecimalValue(bson::DecimalPartsOf(in));
        }
        case BsonType::kBool: return Value(Decimal128::FromString(in.AsBool() ? "1" : "0"));
        case BsonType::kDate: return Value(Decimal128::FromString(std::to_string(in.AsDate().millis)));
        case BsonType::kString: return ParseNumber(in.AsString(), to);
        default: return Unsupported(from, to);
      }
    case BsonType::kString:
      switch (from) {
        case BsonType::kDouble: return Value(DoubleToString(in.AsDouble()));
        case BsonType::kInt32: return Value(std::to_string(in.AsInt32()));
        case BsonType::kInt64: return Value(std::to_string(in.AsInt64()));
        case BsonType::kDecimal128: return Value(in.AsDecimal128().ToString());
        case BsonType::kBool: return Value(std::string(in.AsBool() ? "true" : "false"));
        case BsonType::kObjectId: return Value(in.AsObjectId().ToHex());
        case BsonType::kDate: return Value(FormatIsoDate(in.AsDate()));
        case BsonType::kBinary: {
          MM_ASSIGN(s, BinaryToString(in.AsBinary(), format.empty() ? "auto" : format));
          return Value(std::move(s));
        }
        default: return Unsupported(from, to);
      }
    case BsonType::kObjectId:
      if (from == BsonType::kString) {
        const std::string& s = in.AsString();
        if (s.size() == 24 && s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
          return Value(ObjectId::FromHex(s));
        }
        return ConversionError(StrCat("Failed to parse objectId '", s, "' in $convert with no onError "
                                      "value: Invalid string length for parsing to OID, expected 24 but "
                                      "found ", s.size()));
      }
      return Unsupported(from, to);
    case BsonType::kDate:
      switch (from) {
        case BsonType::kInt64: return Value(DateTime{in.AsInt64()});
        case BsonType::kDouble: {
          MM_ASSIGN(n, DoubleToInteger(in.AsDouble(), false));
          return Value(DateTime{n.AsInt64()});
        }
        case BsonType::kDecimal128: {
          MM_ASSIGN(n, DecimalToInteger(in, false));
          return Value(DateTime{n.AsInt64()});
        }
        case BsonType::kObjectId: return Value(DateTime{int64_t{in.AsObjectId().timestamp()} * 1000});
        case BsonType::kTimestamp: return Value(DateTime{int64_t{in.AsTimestamp().t} * 1000});
        case BsonType::kString: {
          MM_ASSIGN(d, ParseDate(in.AsString(), TimeZone::Utc()));
          return Value(d);
        }
        default: return Unsupported(from, to);
      }
    case BsonType::kBinary:
      if (from == BsonType::kString) {
        MM_ASSIGN(b, StringToBinary(in.AsString(), format, target.binary_subtype));
        return Value(std::move(b));
      }
      if (from == BsonType::kBinary) {
        if (in.AsBinary().subtype != target.binary_subtype) {
          return ConversionError("Conversions between binData subtypes are not supported");
        }
        return in;
      }
      return Unsupported(from, to);
    default:
      return Unsupported(from, to);
  }
}

struct ConvertState {
  ExprPtr input, to, on_error, on_null, format;
};

EvalResult EvalConvert(const ConvertState& s, const Variables& vars) {
  MM_EVAL(to, s.to, vars);
  MM_EVAL(input, s.input, vars);
  std::optional<Target> target;
  if (!IsNullish(to)) {
    MM_ASSIGN(t, ComputeTarget(*to));
    target = t;
  }
  if (IsNullish(input)) {
    if (s.on_null) return s.on_null->Evaluate(vars);
    return Null();
  }
  if (!target) return Null();
  std::string format;
  if (s.format) {
    MM_EVAL(f, s.format, vars);
    if (f && f->type() == BsonType::kString) format = f->AsString();
  }
  auto r = Convert(*input, *target, format);
  if (!r.ok()) {
    if (MongoCodeOf(r.status()) == kConversionFailure && s.on_error) return s.on_error->Evaluate(vars);
    return r.status();
  }
  return Some(*std::move(r));
}

absl::StatusOr<ExprPtr> ParseConvert(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(kFailedToParse, StrCat("$convert expects an object of named arguments but found: ", TypeName(arg)));
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, "$convert", {"input", "to", "onError", "onNull", "format", "byteOrder"},
                                      kFailedToParse));
  ConvertState s;
  MM_ASSIGN(input, named.ParseRequired("input", context, kFailedToParse, "Missing 'input' parameter to $convert"));
  MM_ASSIGN(to, named.ParseRequired("to", context, kFailedToParse, "Missing 'to' parameter to $convert"));
  MM_ASSIGN(on_error, named.ParseOptional("onError", context));
  MM_ASSIGN(on_null, named.ParseOptional("onNull", context));
  MM_ASSIGN(format, named.ParseOptional("format", context));
  s.input = std::move(input);
  s.to = std::move(to);
  s.on_error = std::move(on_error);
  s.on_null = std::move(on_null);
  s.format = std::move(format);
  std::vector<const ExprPtr*> parts{&s.input, &s.to, &s.on_error, &s.on_null, &s.format};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<ConvertState>>(std::move(s), &EvalConvert), context);
}

// $toInt, $toString, ...: $convert without onError/onNull; $toUUID converts strings in UUID
// format to binData subtype 4.
template <BsonType kTo>
absl::StatusOr<ExprPtr> ParseAlias(std::string_view name, const Value& arg, const ParseContext& context) {
  MM_ASSIGN(args, ParseArgs(arg, context));
  if (args.size() != 1) return Err(50723, StrCat(name, " requires a single argument, got ", args.size()));
  ConvertState s;
  s.input = std::move(args[0]);
  if (name == "$toUUID") {
    s.to = MakeConstant(Document{{"type", "binData"}, {"subtype", 4}});
    s.format = MakeConstant(Value("uuid"));
  } else {
    s.to = MakeConstant(Value(std::string(BsonTypeName(kTo))));
  }
  std::vector<const ExprPtr*> parts{&s.input};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<ConvertState>>(std::move(s), &EvalConvert), context);
}

EvalResult TypeFn(Args& a, const Variables&) { return Some(TypeName(a[0])); }
EvalResult IsNumberFn(Args& a, const Variables&) { return Some(IsNumeric(a[0])); }

EvalResult BinarySizeFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() == BsonType::kString) return Some(static_cast<int32_t>(a[0]->AsString().size()));
  if (a[0]->type() == BsonType::kBinary) return Some(static_cast<int32_t>(a[0]->AsBinary().data.size()));
  return Err(51276, StrCat("$binarySize requires a string or BinData argument, found: ", TypeName(a[0])));
}

EvalResult BsonSizeFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() != BsonType::kDocument) {
    return Err(31393, StrCat("$bsonSize requires a document input, found: ", TypeName(a[0])));
  }
  return Some(static_cast<int32_t>(bson::Encode(a[0]->AsDocument()).size()));
}

}  // namespace

void RegisterType(OperatorTable* t) {
  t->AddNary("$type", 1, 1, &TypeFn);
  t->AddNary("$isNumber", 1, 1, &IsNumberFn);
  t->AddNary("$binarySize", 1, 1, &BinarySizeFn);
  t->AddNary("$bsonSize", 1, 1, &BsonSizeFn);
  t->Add("$convert", &ParseConvert);
  t->Add("$toBool", &ParseAlias<BsonType::kBool>);
  t->Add("$toDate", &ParseAlias<BsonType::kDate>);
  t->Add("$toDecimal", &ParseAlias<BsonType::kDecimal128>);
  t->Add("$toDouble", &ParseAlias<BsonType::kDouble>);
  t->Add("$toInt", &ParseAlias<BsonType::kInt32>);
  t->Add("$toLong", &ParseAlias<BsonType::kInt64>);
  t->Add("$toObjectId", &ParseAlias<BsonType::kObjectId>);
  t->Add("$toString", &ParseAlias<BsonType::kString>);
  t->Add("$toUUID", &ParseAlias<BsonType::kBinary>);
}

}  // namespace micromongo::pipeline::internal
