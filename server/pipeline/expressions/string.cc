// String operators: $concat $indexOfBytes $indexOfCP $ltrim $rtrim $trim $replaceOne
// $replaceAll $split $strLenBytes $strLenCP $strcasecmp $substr $substrBytes $substrCP
// $toLower $toUpper. Byte operators count UTF-8 bytes, CP operators code points; case
// changes are ASCII-only, as in MongoDB.

#include <algorithm>
#include <cstring>
#include <limits>

#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

EvalResult ConcatFn(Args& a, const Variables&) {
  std::string out;
  for (const auto& v : a) {
    if (IsNullish(v)) return Null();
    if (v->type() != BsonType::kString) {
      return Err(16702, StrCat("$concat only supports strings, not ", TypeName(v)));
    }
    out += v->AsString();
  }
  return Some(std::move(out));
}

// 40096/40097: an optional index argument must be a non-negative integer.
absl::StatusOr<int64_t> IndexArg(const std::optional<Value>& v, std::string_view op,
                                 std::string_view what) {
  auto n = Integral32(v);
  if (!n) {
    return Err(40096, StrCat(op, "requires an integral ", what, ", found a value of type: ",
                             TypeName(v), ", with value: ", v ? v->ToJson() : "missing"));
  }
  if (*n < 0) {
    return Err(40097, StrCat(op, " requires a nonnegative ", what, ", found: ", *n));
  }
  return *n;
}

EvalResult IndexOfBytesFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() != BsonType::kString) {
    return Err(40091, StrCat("$indexOfBytes requires a string as the first argument, found: ", TypeName(a[0])));
  }
  if (!a[1] || a[1]->type() != BsonType::kString) {
    return Err(40092, StrCat("$indexOfBytes requires a string as the second argument, found: ", TypeName(a[1])));
  }
  const std::string& s = a[0]->AsString();
  const std::string& token = a[1]->AsString();
  size_t start = 0, end = s.size();
  if (a.size() > 2) {
    MM_ASSIGN(n, IndexArg(a[2], "$indexOfBytes", "starting index"));
    start = static_cast<size_t>(n);
  }
  if (a.size() > 3) {
    MM_ASSIGN(n, IndexArg(a[3], "$indexOfBytes", "ending index"));
    end = std::min(end, static_cast<size_t>(n));
  }
  if (start > s.size() || end < start) return Some(-1);
  size_t pos = std::string_view(s).substr(0, end).find(token, start);
  return Some(pos == std::string::npos ? -1 : static_cast<int32_t>(pos));
}

EvalResult IndexOfCPFn(Args& a, const Variables&) {
  if (IsNullish(a[0])) return Null();
  if (a[0]->type() != BsonType::kString) {
    return Err(40093, StrCat("$indexOfCP requires a string as the first argument, found: ", TypeName(a[0])));
  }
  if (!a[1] || a[1]->type() != BsonType::kString) {
    return Err(40094, StrCat("$indexOfCP requires a string as the second argument, found: ", TypeName(a[1])));
  }
  const std::string& s = a[0]->AsString();
  const std::string& token = a[1]->AsString();
  size_t start_cp = 0;
  if (a.size() > 2) {
    MM_ASSIGN(n, IndexArg(a[2], "$indexOfCP", "starting index"));
    start_cp = static_cast<size_t>(n);
  }
  // Byte offset of every code point.
  std::vector<size_t> offsets;
  for (size_t i = 0; i < s.size();) {
    if (IsContinuationByte(s[i])) return Err(40095, "$indexOfCP found bad UTF-8 in the input");
    offsets.push_back(i);
    i += CodePointLength(static_cast<unsigned char>(s[i]));
  }
  size_t end_cp = offsets.size();
  if (a.size() > 3) {
    MM_ASSIGN(n, IndexArg(a[3], "$indexOfCP", "ending index"));
    end_cp = std::min(end_cp, static_cast<size_t>(n));
  }
  if (start_cp == 0 && s.empty() && token.empty()) return Some(0);
  for (size_t cp = start_cp; cp < end_cp; ++cp) {
    if (s.compare(offsets[cp], token.size(), token) == 0 && offsets[cp] + token.size() <= s.size()) {
      return Some(static_cast<int32_t>(cp));
    }
  }
  return Some(-1);
}

EvalResult SplitFn(Args& a, const Variables&) {
  if (IsNullish(a[0]) || IsNullish(a[1])) return Null();
  if (a[0]->type() != BsonType::kString) {
    return Err(40085, StrCat("$split requires an expression that evaluates to a string as a first "
                             "argument, found: ", TypeName(a[0])));
  }
  if (a[1]->type() != BsonType::kString) {
    return Err(40086, StrCat("$split requires an expression that evaluates to a string as a second "
                             "argument, found: ", TypeName(a[1])));
  }
  const std::string& s = a[0]->AsString();
  const std::string& sep = a[1]->AsString();
  if (sep.empty()) return Err(40087, "$split requires a non-empty separator");
  Array out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + sep.size();
  }
  return Some(std::move(out));
}

EvalResult StrLenBytesFn(Args& a, const Variables&) {
  if (!a[0] || a[0]->type() != BsonType::kString) {
    return Err(34473, StrCat("$strLenBytes requires a string argument, found: ", TypeName(a[0])));
  }
  return Some(static_cast<int32_t>(a[0]->AsString().size()));
}

EvalResult StrLenCPFn(Args& a, const Variables&) {
  if (!a[0] || a[0]->type() != BsonType::kString) {
    return Err(34471, StrCat("$strLenCP requires a string argument, found: ", TypeName(a[0])));
  }
  int32_t n = 0;
  for (char c : a[0]->AsString()) n += IsContinuationByte(c) ? 0 : 1;
  return Some(n);
}

std::string AsciiUpper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

EvalResult StrcasecmpFn(Args& a, const Variables&) {
  MM_ASSIGN(x, CoerceToString(a[0], "$strcasecmp"));
  MM_ASSIGN(y, CoerceToString(a[1], "$strcasecmp"));
  int c = AsciiUpper(x).compare(AsciiUpper(y));
  return Some(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

EvalResult ToUpperFn(Args& a, const Variables&) {
  MM_ASSIGN(s, CoerceToString(a[0], "$toUpper"));
  return Some(AsciiUpper(std::move(s)));
}

EvalResult ToLowerFn(Args& a, const Variables&) {
  MM_ASSIGN(s, CoerceToString(a[0], "$toLower"));
  return Some(AsciiLower(std::move(s)));
}

bool IsIntegralType(const std::optional<Value>& v) {
  return v && (v->type() == BsonType::kInt32 || v->type() == BsonType::kInt64 ||
               v->type() == BsonType::kDouble);
}

EvalResult SubstrBytesFn(Args& a, const Variables&) {
  MM_ASSIGN(s, CoerceToString(a[0], "$substrBytes"));
  if (!IsIntegralType(a[1])) {
    return Err(16034, StrCat("$substrBytes:  starting index must be a numeric type (is BSON type ",
                             TypeName(a[1]), ")"));
  }
  if (!IsIntegralType(a[2])) {
    return Err(16035, StrCat("$substrBytes:  length must be a numeric type (is BSON type ",
                             TypeName(a[2]), ")"));
  }
  int64_t lower = CoerceToLong(*a[1]);
  if (lower < 0) {
    return Err(50752, StrCat("$substrBytes:  starting index must be non-negative (got: ", lower, ")"));
  }
  int64_t len = CoerceToLong(*a[2]);
  size_t start = static_cast<size_t>(lower);
  size_t length = len < 0 ? s.size() : static_cast<size_t>(len);
  if (start < s.size() && IsContinuationByte(s[start])) {
    return Err(28656, "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.");
  }
  if (start + length < s.size() && IsContinuationByte(s[start + length])) {
    return Err(28657, "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 character.");
  }
  if (start >= s.size()) return Some(std::string());
  return Some(s.substr(start, length));
}

EvalResult SubstrCPFn(Args& a, const Variables&) {
  MM_ASSIGN(s, CoerceToString(a[0], "$substrCP"));
  if (!IsNumeric(a[1])) {
    return Err(34450, StrCat("$substrCP: starting index must be a numeric type (is BSON type ",
                             TypeName(a[1]), ")"));
  }
  auto start = Integral32(a[1]);
  if (!start) {
    return Err(34451, StrCat("$substrCP: starting index cannot be represented as a 32-bit integral value: ",
                             a[1]->ToJson()));
  }
  if (!IsNumeric(a[2])) {
    return Err(34452, StrCat("$substrCP: length must be a numeric type (is BSON type ", TypeName(a[2]), ")"));
  }
  auto length = Integral32(a[2]);
  if (!length) {
    return Err(34453, StrCat("$substrCP: length cannot be represented as a 32-bit integral value: ",
                             a[2]->ToJson()));
  }
  if (*length < 0) return Err(34454, "$substrCP: length must be a nonnegative integer.");
  if (*start < 0) return Err(34455, "$substrCP: the starting index must be nonnegative integer.");
  size_t begin = 0;
  for (int32_t i = 0; i < *start; ++i) {
    if (begin >= s.size()) return Some(std::string());
    if (IsContinuationByte(s[begin])) return Err(34456, "$substrCP: invalid UTF-8 string");
    begin += CodePointLength(static_cast<unsigned char>(s[begin]));
  }
  size_t end = begin;
  for (int32_t i = 0; i < *length && end < s.size(); ++i) {
    if (IsContinuationByte(s[end])) return Err(34458, "$substrCP: invalid UTF-8 string");
    end += CodePointLength(static_cast<unsigned char>(s[end]));
  }
  end = std::min(end, s.size());
  return Some(s.substr(begin, end - begin));
}

// ---- $trim, $ltrim, $rtrim ---------------------------------------------------------------

constexpr std::string_view kWhitespace[] = {
    std::string_view("\0", 1), " ", "\t", "\n", "\v", "\f", "\r", "\u00A0", "\u1680", "\u2000",
    "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200A"};

struct TrimState {
  std::string_view name;
  bool left, right;
  ExprPtr input, chars;
};

EvalResult EvalTrim(const TrimState& s, const Variables& vars) {
  MM_EVAL(input, s.input, vars);
  if (IsNullish(input)) return Null();
  if (input->type() != BsonType::kString) {
    return Err(50699, StrCat(s.name, " requires its input to be a string, got ", input->ToJson(),
                             " (of type ", TypeName(input), ") instead."));
  }
  std::vector<std::string_view> code_points(std::begin(kWhitespace), std::end(kWhitespace));
  std::string chars_storage;
  if (s.chars) {
    MM_EVAL(chars, s.chars, vars);
    if (IsNullish(chars)) return Null();
    if (chars->type() != BsonType::kString) {
      return Err(50700, StrCat(s.name, " requires 'chars' to be a string, got ", chars->ToJson(),
                               " (of type ", TypeName(chars), ") instead."));
    }
    chars_storage = chars->AsString();
    code_points.clear();
    for (size_t i = 0; i < chars_storage.size();) {
      if (IsContinuationByte(chars_storage[i])) {
        return Err(50698, StrCat("Failed to parse \"chars\" argument to ", s.name,
                                 ": Detected invalid UTF-8. Got continuation byte when expecting the "
                                 "start of a new code point."));
      }
      size_t n = CodePointLength(static_cast<unsigned char>(chars_storage[i]));
      if (i + n > chars_storage.size()) {
        return Err(50697, StrCat("Failed to parse \"chars\" argument to ", s.name,
                                 ": Detected invalid UTF-8. Missing expected continuation byte at end "
                                 "of string."));
      }
      code_points.push_back(std::string_view(chars_storage).substr(i, n));
      i += n;
    }
  }
  std::string_view str = input->AsString();
  if (s.left) {
    bool trimmed = true;
    while (trimmed && !str.empty()) {
      trimmed = false;
      for (std::string_view cp : code_points) {
        if (!cp.empty() && str.substr(0, cp.size()) == cp) {
          str.remove_prefix(cp.size());
          trimmed = true;
          break;
        }
      }
    }
  }
  if (s.right) {
    bool trimmed = true;
    while (trimmed && !str.empty()) {
      trimmed = false;
      for (std::string_view cp : code_points) {
        if (!cp.empty() && str.size() >= cp.size() && str.substr(str.size() - cp.size()) == cp) {
          str.remove_suffix(cp.size());
          trimmed = true;
          break;
        }
      }
    }
  }
  return Some(std::string(str));
}

absl::StatusOr<ExprPtr> ParseTrim(std::string_view name, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(50696, StrCat(name, " only supports an object as an argument, found ", TypeName(arg)));
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, name, {"input", "chars"}, 50694));
  TrimState s;
  s.name = name == "$trim" ? "$trim" : name == "$ltrim" ? "$ltrim" : "$rtrim";
  s.left = name != "$rtrim";
  s.right = name != "$ltrim";
  MM_ASSIGN(input, named.ParseRequired("input", context, 50695, StrCat(name, " requires an 'input' field")));
  MM_ASSIGN(chars, named.ParseOptional("chars", context));
  s.input = std::move(input);
  s.chars = std::move(chars);
  std::vector<const ExprPtr*> parts{&s.input, &s.chars};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<TrimState>>(std::move(s), &EvalTrim), context);
}

// ---- $replaceOne, $replaceAll --------------------------------------------------------------

struct ReplaceState {
  bool all;
  ExprPtr input, find, replacement;
};

EvalResult EvalReplace(const ReplaceState& s, const Variables& vars) {
  MM_EVAL(input, s.input, vars);
  MM_EVAL(find, s.find, vars);
  MM_EVAL(replacement, s.replacement, vars);
  std::string_view op = s.all ? "$replaceAll" : "$replaceOne";
  auto check = [&](const std::optional<Value>& v, int code, std::string_view what) -> absl::Status {
    if (IsNullish(v) || v->type() == BsonType::kString) return absl::OkStatus();
    return Err(code, StrCat(op, " requires that '", what, "' be a string, found: ", v->ToJson()));
  };
  if (auto st = check(input, 51746, "input"); !st.ok()) return st;
  if (auto st = check(find, 51745, "find"); !st.ok()) return st;
  if (auto st = check(replacement, 51744, "replacement"); !st.ok()) return st;
  if (IsNullish(input) || IsNullish(find) || IsNullish(replacement)) return Null();
  std::string_view in = input->AsString(), f = find->AsString(), r = replacement->AsString();
  std::string out;
  if (!s.all) {
    size_t pos = in.find(f);
    if (pos == std::string_view::npos) return Some(std::string(in));
    out.append(in.substr(0, pos)).append(r).append(in.substr(pos + f.size()));
    return Some(std::move(out));
  }
  if (f.empty()) {
    // An empty string matches at every position.
    for (char c : in) out.append(r).push_back(c);
    out.append(r);
    return Some(std::move(out));
  }
  while (true) {
    size_t pos = in.find(f);
    if (pos == std::string_view::npos) {
      out.append(in);
      break;
    }
    out.append(in.substr(0, pos)).append(r);
    in.remove_prefix(pos + f.size());
  }
  return Some(std::move(out));
}

absl::StatusOr<ExprPtr> ParseReplace(std::string_view name, const Value& arg,
                                     const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(51751, StrCat(name, " requires an object as an argument, found: ", TypeName(arg)));
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, name, {"input", "find", "replacement"}, 51750));
  ReplaceState s;
  s.all = name == "$replaceAll";
  MM_ASSIGN(input, named.ParseRequired("input", context, 51749, StrCat(name, " requires 'input' to be specified")));
  MM_ASSIGN(find, named.ParseRequired("find", context, 51748, StrCat(name, " requires 'find' to be specified")));
  MM_ASSIGN(replacement, named.ParseRequired("replacement", context, 51747,
                                             StrCat(name, " requires 'replacement' to be specified")));
  s.input = std::move(input);
  s.find = std::move(find);
  s.replacement = std::move(replacement);
  std::vector<const ExprPtr*> parts{&s.input, &s.find, &s.replacement};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<ReplaceState>>(std::move(s), &EvalReplace), context);
}

}  // namespace

void RegisterString(OperatorTable* t) {
  t->AddNary("$concat", 0, -1, &ConcatFn);
  t->AddNary("$indexOfBytes", 2, 4, &IndexOfBytesFn);
  t->AddNary("$indexOfCP", 2, 4, &IndexOfCPFn);
  t->AddNary("$split", 2, 2, &SplitFn);
  t->AddNary("$strLenBytes", 1, 1, &StrLenBytesFn);
  t->AddNary("$strLenCP", 1, 1, &StrLenCPFn);
  t->AddNary("$strcasecmp", 2, 2, &StrcasecmpFn);
  t->AddNary("$toUpper", 1, 1, &ToUpperFn);
  t->AddNary("$toLower", 1, 1, &ToLowerFn);
  t->AddNary("$substr", 3, 3, &SubstrBytesFn);
  t->AddNary("$substrBytes", 3, 3, &SubstrBytesFn);
  t->AddNary("$substrCP", 3, 3, &SubstrCPFn);
  t->Add("$trim", &ParseTrim);
  t->Add("$ltrim", &ParseTrim);
  t->Add("$rtrim", &ParseTrim);
  t->Add("$replaceOne", &ParseReplace);
  t->Add("$replaceAll", &ParseReplace);
}

}  // namespace micromongo::pipeline::internal
