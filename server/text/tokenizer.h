#pragma once

// Splitting text into terms as MongoDB's text search does (its Unicode tokenizer, text
// index version 3): words run between delimiters (Unicode White_Space, Dash, Hyphen,
// Quotation_Mark, Terminal_Punctuation, Pattern_Syntax and Sentence_Terminal characters;
// in English an apostrophe stays inside a word); a word is lowercased to be checked
// against the language's stop words, stemmed by the language's Snowball stemmer (its case
// kept when case sensitive), then stripped of diacritics unless diacritic sensitive.

#include <string>
#include <string_view>

#include "text/language.h"

namespace micromongo::text {

enum TokenizerOption : unsigned {
  kNoOptions = 0,
  kFilterStopWords = 1,
  kCaseSensitive = 2,       // terms keep their letters' case
  kDiacriticSensitive = 4,  // terms keep their diacritics
};

class Tokenizer {
 public:
  explicit Tokenizer(const Language& language) : language_(language) {}

  // Starts over on `text` (UTF-8; bytes that are not count as letters). `text` must stay
  // alive while Next() is called.
  void Reset(std::string_view text, unsigned options);
  // The next term into *term; false at the end.
  bool Next(std::string* term);

 private:
  const Language& language_;
  std::string_view text_;
  size_t pos_ = 0;
  unsigned options_ = 0;
  std::string lower_;
};

// `text` lowercased (unless case sensitive) and without diacritics (unless diacritic
// sensitive): the form in which phrases are looked for.
std::string Fold(std::string_view text, bool case_sensitive, bool diacritic_sensitive, bool turkish);

}  // namespace micromongo::text
