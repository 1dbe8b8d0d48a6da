#include "text/tokenizer.h"

#include <absl/container/flat_hash_map.h>
#include <libstemmer.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <array>
#include <map>
#include <memory>

namespace micromongo::text {
namespace {

bool HasDelimiterProperty(UChar32 c) {
  return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE) || u_hasBinaryProperty(c, UCHAR_DASH) ||
         u_hasBinaryProperty(c, UCHAR_HYPHEN) || u_hasBinaryProperty(c, UCHAR_QUOTATION_MARK) ||
         u_hasBinaryProperty(c, UCHAR_TERMINAL_PUNCTUATION) || u_hasBinaryProperty(c, UCHAR_PATTERN_SYNTAX) ||
         u_hasBinaryProperty(c, UCHAR_S_TERM);
}

const std::array<bool, 128>& AsciiDelimiters() {
  static const std::array<bool, 128> table = [] {
    std::array<bool, 128> t{};
    for (UChar32 c = 0; c < 128; ++c) t[c] = HasDelimiterProperty(c);
    return t;
  }();
  return table;
}

bool IsDelimiter(UChar32 c, bool english) {
  if (c < 128) {
    if (c == '\'' && english) return false;
    return AsciiDelimiters()[c];
  }
  return HasDelimiterProperty(c);
}

// Decodes the code point at *pos (advancing it); bytes that are not UTF-8 are U+FFFD.
UChar32 NextCodePoint(std::string_view s, size_t* pos) {
  unsigned char b = static_cast<unsigned char>(s[*pos]);
  if (b < 0x80) {
    ++*pos;
    return b;
  }
  int32_t i = static_cast<int32_t>(*pos);
  UChar32 c;
  U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, static_cast<int32_t>(s.size()), c);
  *pos = static_cast<size_t>(i);
  return c < 0 ? 0xFFFD : c;
}

void AppendUtf8(UChar32 c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
    return;
  }
  uint8_t buf[4];
  int32_t n = 0;
  UBool error = false;
  U8_APPEND(buf, n, 4, c, error);
  if (!error) out->append(reinterpret_cast<const char*>(buf), n);
}

UChar32 Lower(UChar32 c, bool turkish) {
  if (c < 128 && !turkish) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  return u_foldCase(c, turkish ? U_FOLD_CASE_EXCLUDE_SPECIAL_I : U_FOLD_CASE_DEFAULT);
}

// `c` without its diacritics: its canonical decomposition minus the characters Unicode
// marks Diacritic (nothing for a diacritic alone).
void AppendStripped(UChar32 c, std::string* out) {
  if (c < 128) {
    out->push_back(static_cast<char>(c));
    return;
  }
  UErrorCode status = U_ZERO_ERROR;
  static const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  icu::UnicodeString decomposition;
  if (nfd != nullptr && nfd->getDecomposition(c, decomposition)) {
    for (int32_t i = 0; i < decomposition.length();) {
      UChar32 d = decomposition.char32At(i);
      i += U16_LENGTH(d);
      if (!u_hasBinaryProperty(d, UCHAR_DIACRITIC)) AppendUtf8(d, out);
    }
    return;
  }
  if (!u_hasBinaryProperty(c, UCHAR_DIACRITIC)) AppendUtf8(c, out);
}

std::string StripDiacritics(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) AppendStripped(NextCodePoint(s, &pos), &out);
  return out;
}

// libstemmer's stemmers are not thread-safe: one per thread and algorithm. Each keeps the
// stems it made: text repeats its words (an index build stems the same few thousand words
// again and again, and stemming was a third of its time), and a stem depends on the word
// alone. The cache is bounded in words and in their length (about 1 MB per thread and
// language; hostile text of long distinct words cannot grow it); when full it starts over.
struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

struct CachingStemmer {
  static constexpr size_t kMaxCachedWords = 1 << 13;
  static constexpr size_t kMaxCachedWordBytes = 32;
  std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer;
  absl::flat_hash_map<std::string, std::string> stems;
};

CachingStemmer* StemmerFor(const char* algorithm) {
  thread_local std::map<const char*, CachingStemmer> stemmers;
  CachingStemmer& s = stemmers[algorithm];
  if (s.stemmer == nullptr) s.stemmer.reset(sb_stemmer_new(algorithm, "UTF_8"));
  return s.stemmer == nullptr ? nullptr : &s;
}

void Stem(const char* algorithm, std::string* word) {
  if (algorithm == nullptr || word->empty()) return;
  CachingStemmer* s = StemmerFor(algorithm);
  if (s == nullptr) return;
  const bool cacheable = word->size() <= CachingStemmer::kMaxCachedWordBytes;
  if (auto it = cacheable ? s->stems.find(*word) : s->stems.end(); it != s->stems.end()) {
    word->assign(it->second);
    return;
  }
  const sb_symbol* stemmed = sb_stemmer_stem(s->stemmer.get(), reinterpret_cast<const sb_symbol*>(word->data()),
                                             static_cast<int>(word->size()));
  if (stemmed == nullptr) return;
  std::string stem(reinterpret_cast<const char*>(stemmed), sb_stemmer_length(s->stemmer.get()));
  if (cacheable) {
    if (s->stems.size() >= CachingStemmer::kMaxCachedWords) s->stems.clear();
    s->stems.emplace(*word, stem);
  }
  *word = std::move(stem);
}

}  // namespace

void Tokenizer::Reset(std::string_view text, unsigned options) {
  text_ = text;
  pos_ = 0;
  options_ = options;
}

bool Tokenizer::Next(std::string* term) {
  const bool english = language_.english;
  // ASCII letters outside Turkish lowercase alone (Turkish folds I to a dotless i, which
  // is not ASCII): such bytes, most of most text, skip the code point machinery.
  const bool ascii_fast = !language_.turkish;
  const std::array<bool, 128>& ascii_delimiters = AsciiDelimiters();
  while (pos_ < text_.size()) {
    // Skip delimiters, then take the word up to the next one.
    size_t start = pos_;
    size_t at = pos_;
    UChar32 c = NextCodePoint(text_, &at);
    if (IsDelimiter(c, english)) {
      pos_ = at;
      continue;
    }
    lower_.clear();
    AppendUtf8(Lower(c, language_.turkish), &lower_);
    size_t end = at;
    while (end < text_.size()) {
      unsigned char b = static_cast<unsigned char>(text_[end]);
      if (b < 0x80 && ascii_fast) {
        if (ascii_delimiters[b] && !(b == '\'' && english)) break;
        lower_.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
        ++end;
        continue;
      }
      size_t next = end;
      c = NextCodePoint(text_, &next);
      if (IsDelimiter(c, english)) break;
      AppendUtf8(Lower(c, language_.turkish), &lower_);
      end = next;
    }
    pos_ = end;
    if ((options_ & kFilterStopWords) && language_.stop_words.contains(lower_)) continue;
    if (options_ & kCaseSensitive) {
      term->assign(text_.substr(start, end - start));
    } else {
      term->assign(lower_);
    }
    Stem(language_.stemmer, term);
    if (!(options_ & kDiacriticSensitive)) {
      bool ascii = true;
      for (char ch : *term) ascii = ascii && static_cast<unsigned char>(ch) < 0x80;
      if (!ascii) *term = StripDiacritics(*term);
    }
    return true;
  }
  return false;
}

std::string Fold(std::string_view text, bool case_sensitive, bool diacritic_sensitive, bool turkish) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    UChar32 c = NextCodePoint(text, &pos);
    if (!case_sensitive) c = Lower(c, turkish);
    if (diacritic_sensitive) {
      AppendUtf8(c, &out);
    } else {
      AppendStripped(c, &out);
    }
  }
  return out;
}

}  // namespace micromongo::text
