#pragma once

// A $text query (MongoDB's FTSQueryImpl) and the check of a document against it
// (FTSMatcher).
//
// $search is split on spaces into words, "quoted phrases" and -negations (a '-' right
// before a word or phrase, after a space or at the start): the words of positive phrases
// are positive terms too, those of negated phrases are not terms at all. Terms are
// tokenized in the query's language, stop words dropped. The index is searched for the
// positive terms (lowercase, no diacritics); a document matches when it has one of them
// (in the query's case and diacritic sensitivity), none of the negated terms, every
// positive phrase and no negated phrase (phrases: substrings of an indexed string).

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "micromongo/document.h"
#include "text/language.h"
#include "text/text_index.h"

namespace micromongo::text {

class TextQuery {
 public:
  // `language`: the $language given, or empty for the index's default. Errors: 17262 (a
  // language text search does not support).
  static absl::StatusOr<std::shared_ptr<const TextQuery>> Parse(std::string_view search, std::string_view language,
                                                                bool case_sensitive, bool diacritic_sensitive,
                                                                const TextIndexSpec& index);

  // The terms the index is searched for.
  const std::set<std::string>& terms_for_bounds() const { return terms_for_bounds_; }
  // Explain's parsedTextQuery: {terms, negatedTerms, phrases, negatedPhrases}.
  Document ToExplain() const;

  // Whether `doc` matches (see above), its strings read through `index`. `from_index`: the
  // document was found by the index entry of a positive term, so a case- and
  // diacritic-insensitive query need not look for one.
  absl::StatusOr<bool> Matches(bson::DocView doc, const TextIndexSpec& index, bool from_index) const;

 private:
  bool HasTerm(bson::DocView doc, const TextIndexSpec& index, const std::set<std::string>& terms,
               absl::Status* error) const;
  bool HasPhrase(bson::DocView doc, const TextIndexSpec& index, const std::string& phrase,
                 absl::Status* error) const;

  const Language* language_ = nullptr;
  bool case_sensitive_ = false;
  bool diacritic_sensitive_ = false;
  std::set<std::string> terms_, negated_terms_, terms_for_bounds_;
  std::vector<std::string> phrases_, negated_phrases_;
};

}  // namespace micromongo::text
