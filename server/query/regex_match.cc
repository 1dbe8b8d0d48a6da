// $regex through PCRE2 (Debian's libpcre2-8), the library MongoDB's own regex support
// is built on.

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "document/status.h"
#include "query/match_expression.h"

namespace micromongo::query {

absl::StatusOr<std::unique_ptr<RegexMatch>> RegexMatch::Make(FieldPath path,
                                                             std::string_view pattern,
                                                             std::string_view options) {
  uint32_t flags = PCRE2_UTF;
  for (char c : options) {
    switch (c) {
      case 'i': flags |= PCRE2_CASELESS; break;
      case 'm': flags |= PCRE2_MULTILINE; break;
      case 'x': flags |= PCRE2_EXTENDED; break;
      case 's': flags |= PCRE2_DOTALL; break;
      case 'u': break;  // UTF-8 is always on
      default:
        return MongoError(51108, StrCat("invalid flag in regex options: ", std::string(1, c)));
    }
  }
  if (pattern.find('\0') != std::string_view::npos) {
    return MongoError(51109, "Regular expression cannot contain an embedded null byte");
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   flags, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return MongoError(51091, StrCat("Regular expression is invalid: ",
                                    reinterpret_cast<const char*>(message)));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // best effort: falls back to the interpreter
  return std::unique_ptr<RegexMatch>(
      new RegexMatch(std::move(path), std::string(pattern), std::string(options), code));
}

RegexMatch::~RegexMatch() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool RegexMatch::MatchesString(std::string_view s) const {
  // One small match-data block per thread: matching only needs "did it match".
  struct Free {
    void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
  };
  thread_local std::unique_ptr<pcre2_match_data, Free> data(pcre2_match_data_create(1, nullptr));
  int rc = pcre2_match(static_cast<pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(s.data()),
                       s.size(), 0, 0, data.get(), nullptr);
  return rc >= 0;
}

bool RegexMatch::MatchesValue(const bson::ValueView& v) const {
  if (v.type == BsonType::kString || v.type == BsonType::kSymbol) return MatchesString(v.String());
  if (v.type == BsonType::kRegex) {
    std::string_view pattern(v.data);
    std::string_view options(v.data + pattern.size() + 1);
    return pattern == pattern_ && options == options_;
  }
  return false;
}

}  // namespace micromongo::query
