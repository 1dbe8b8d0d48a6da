// $regexMatch, $regexFind, $regexFindAll through PCRE2 (MongoDB's own regex library). A
// constant pattern is compiled once at parse time; match offsets are reported in code points.

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

struct CodeFree {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct DataFree {
  void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
};
using Code = std::shared_ptr<pcre2_code>;

enum class Mode { kMatch, kFind, kFindAll };

struct RegexState {
  Mode mode;
  std::string_view name;
  ExprPtr input, regex, options;
  Code constant_code;  // when regex and options are constants
  bool constant_nullish = false;
};

absl::StatusOr<Code> Compile(std::string_view name, const std::string& pattern,
                             const std::string& options) {
  uint32_t flags = PCRE2_UTF;
  for (char c : options) {
    switch (c) {
      case 'i': flags |= PCRE2_CASELESS; break;
      case 'm': flags |= PCRE2_MULTILINE; break;
      case 'x': flags |= PCRE2_EXTENDED; break;
      case 's': flags |= PCRE2_DOTALL; break;
      case 'u': break;
      default:
        return Err(51108, StrCat(name, " invalid flag in regex options: ", std::string(1, c)));
    }
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   flags, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return Err(51111, StrCat("Invalid Regex in ", name, ": ", reinterpret_cast<const char*>(message)));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return Code(code, CodeFree());
}

// The pattern and options of evaluated 'regex' and 'options' values; nullopt pattern when
// the regex is nullish.
absl::StatusOr<std::optional<Code>> Build(std::string_view name, const std::optional<Value>& regex,
                                          const std::optional<Value>& options) {
  if (!IsNullish(regex) && regex->type() != BsonType::kString && regex->type() != BsonType::kRegex) {
    return Err(51105, StrCat(name, " needs 'regex' to be of type string or regex"));
  }
  if (!IsNullish(options) && options->type() != BsonType::kString) {
    return Err(51106, StrCat(name, " needs 'options' to be of type string"));
  }
  std::optional<std::string> pattern;
  std::string flags;
  if (!IsNullish(regex) && regex->type() == BsonType::kRegex) {
    pattern = regex->AsRegex().pattern;
    if (!regex->AsRegex().options.empty()) {
      if (!IsNullish(options)) {
        return Err(51107, StrCat(name, ": found regex option(s) specified in both 'regex' and 'option' fields"));
      }
      flags = regex->AsRegex().options;
    }
  } else if (!IsNullish(regex)) {
    pattern = regex->AsString();
  }
  if (!IsNullish(options)) flags = options->AsString();
  if (pattern && pattern->find('\0') != std::string::npos) {
    return Err(51109, StrCat(name, ": regular expression cannot contain an embedded null byte"));
  }
  if (flags.find('\0') != std::string::npos) {
    return Err(51110, StrCat(name, ": regular expression options cannot contain an embedded null byte"));
  }
  if (!pattern) return std::optional<Code>();
  MM_ASSIGN(code, Compile(name, *pattern, flags));
  return std::optional<Code>(std::move(code));
}

size_t CodePointsIn(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += IsContinuationByte(c) ? 0 : 1;
  return n;
}

EvalResult EvalRegex(const RegexState& s, const Variables& vars) {
  MM_EVAL(input, s.input, vars);
  if (!IsNullish(input) && input->type() != BsonType::kString) {
    return Err(51104, StrCat(s.name, " needs 'input' to be of type string"));
  }
  Code code = s.constant_code;
  bool regex_nullish = s.constant_nullish;
  if (!code && !regex_nullish) {
    MM_EVAL(regex, s.regex, vars);
    MM_EVAL_OPT(options, s.options, vars);
    MM_ASSIGN(built, Build(s.name, regex, options));
    if (built) {
      code = *built;
    } else {
      regex_nullish = true;
    }
  }
  if (IsNullish(input) || regex_nullish) {
    if (s.mode == Mode::kMatch) return Some(false);
    if (s.mode == Mode::kFind) return Null();
    return Some(Array());
  }
  const std::string& text = input->AsString();
  std::unique_ptr<pcre2_match_data, DataFree> data(
      pcre2_match_data_create_from_pattern(code.get(), nullptr));
  uint32_t groups = 0;
  pcre2_pattern_info(code.get(), PCRE2_INFO_CAPTURECOUNT, &groups);
  size_t start = 0, start_cp = 0;
  Array all;
  size_t total_bytes = 0;
  do {
    int rc = pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start, 0,
                         data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return Err(51156, StrCat("Error occurred while executing the regular expression in ", s.name,
                               ". Result code: ", rc));
    }
    if (s.mode == Mode::kMatch) return Some(true);
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
    size_t match_start = ov[0], match_end = ov[1];
    start_cp += CodePointsIn(std::string_view(text).substr(start, match_start - start));
    Array captures;
    for (uint32_t g = 1; g <= groups; ++g) {
      if (ov[2 * g] == PCRE2_UNSET) {
        captures.push_back(nullptr);  // a group that took no part in the match
      } else {
        captures.push_back(text.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
      }
    }
    std::string matched = text.substr(match_start, match_end - match_start);
    Document m{{"match", matched}, {"idx", static_cast<int32_t>(start_cp)}, {"captures", std::move(captures)}};
    if (s.mode == Mode::kFind) return Some(std::move(m));
    total_bytes += matched.size() + 64;
    if (total_bytes > 64 * 1024 * 1024) {
      return Err(51151, StrCat(s.name, ": the size of buffer to store output exceeded the 64MB limit"));
    }
    all.push_back(std::move(m));
    start = match_start;
    if (matched.empty()) {
      // An empty match: move one code point on, so that matches never repeat.
      if (start >= text.size()) break;
      start += CodePointLength(static_cast<unsigned char>(text[start]));
      ++start_cp;
      continue;
    }
    start += matched.size();
    start_cp += CodePointsIn(matched);
  } while (start < text.size());
  if (s.mode == Mode::kMatch) return Some(false);
  if (s.mode == Mode::kFind) return Null();
  return Some(std::move(all));
}

absl::StatusOr<ExprPtr> ParseRegex(std::string_view name, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(51103, StrCat(name, " expects an object of named arguments but found: ", TypeName(arg)));
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, name, {"input", "regex", "options"}, 31024));
  RegexState s;
  s.mode = name == "$regexMatch" ? Mode::kMatch : name == "$regexFind" ? Mode::kFind : Mode::kFindAll;
  s.name = s.mode == Mode::kMatch ? "$regexMatch" : s.mode == Mode::kFind ? "$regexFind" : "$regexFindAll";
  MM_ASSIGN(input, named.ParseRequired("input", context, 31022, StrCat(name, " requires 'input' parameter")));
  MM_ASSIGN(regex, named.ParseRequired("regex", context, 31023, StrCat(name, " requires 'regex' parameter")));
  MM_ASSIGN(options, named.ParseOptional("options", context));
  s.input = std::move(input);
  s.regex = std::move(regex);
  s.options = std::move(options);
  if (IsConstant(s.regex) && IsConstant(s.options)) {
    // A constant pattern is checked and compiled once, now.
    std::optional<Value> opts = s.options ? *s.options->constant() : std::nullopt;
    MM_ASSIGN(built, Build(s.name, *s.regex->constant(), opts));
    if (built) {
      s.constant_code = *built;
    } else {
      s.constant_nullish = true;
    }
  }
  std::vector<const ExprPtr*> parts{&s.input, &s.regex, &s.options};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<RegexState>>(std::move(s), &EvalRegex), context);
}

}  // namespace

void RegisterRegex(OperatorTable* t) {
  t->Add("$regexMatch", &ParseRegex);
  t->Add("$regexFind", &ParseRegex);
  t->Add("$regexFindAll", &ParseRegex);
}

}  // namespace micromongo::pipeline::internal
