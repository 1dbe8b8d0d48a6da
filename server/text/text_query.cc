#include "text/text_query.h"

#include "document/status.h"
#include "text/tokenizer.h"

namespace micromongo::text {
namespace {

enum class TokenType { kText, kDelimiter };

struct QueryToken {
  TokenType type;
  std::string_view data;
  size_t offset;
  bool after_space;  // whitespace (or the start) came right before it
};

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool IsQueryDelimiter(char c) { return c == '-' || c == '"'; }

// $search as MongoDB's FTSQueryParser reads it: runs of text, and '-' and '"' one each.
std::vector<QueryToken> SplitQuery(std::string_view s) {
  std::vector<QueryToken> out;
  size_t pos = 0;
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
  bool after_space = true;
  while (pos < s.size()) {
    size_t start = pos++;
    TokenType type = IsQueryDelimiter(s[start]) ? TokenType::kDelimiter : TokenType::kText;
    if (type == TokenType::kText) {
      while (pos < s.size() && !IsSpace(s[pos]) && !IsQueryDelimiter(s[pos])) ++pos;
    }
    out.push_back({type, s.substr(start, pos - start), start, after_space});
    size_t before = pos;
    while (pos < s.size() && IsSpace(s[pos])) ++pos;
    after_space = pos > before;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TextQuery>> TextQuery::Parse(std::string_view search, std::string_view language,
                                                                  bool case_sensitive, bool diacritic_sensitive,
                                                                  const TextIndexSpec& index) {
  auto q = std::make_shared<TextQuery>();
  q->language_ = language.empty() ? &index.default_language() : FindLanguage(language);
  if (q->language_ == nullptr) {
    return MongoError(17262, StrCat("language override unsupported: ", language));
  }
  q->case_sensitive_ = case_sensitive;
  q->diacritic_sensitive_ = diacritic_sensitive;

  std::string positive, negative;
  bool in_negation = false, in_phrase = false;
  size_t quote = 0;
  for (const QueryToken& t : SplitQuery(search)) {
    if (t.type == TokenType::kText) {
      if (in_phrase && in_negation) continue;  // a negated phrase's words are no terms
      // A negation lasts until the next whitespace: "-foo-bar" negates both.
      if (in_negation && t.after_space) in_negation = false;
      std::string& sentence = in_negation ? negative : positive;
      sentence.append(t.data);
      sentence.push_back(' ');
    } else if (t.data[0] == '-') {
      if (!in_phrase && t.after_space) in_negation = true;
    } else if (in_phrase) {  // closing quote
      std::string phrase(search.substr(quote + 1, t.offset - quote - 1));
      (in_negation ? q->negated_phrases_ : q->phrases_).push_back(std::move(phrase));
      in_phrase = false;
    } else {  // opening quote
      in_phrase = true;
      if (in_negation && t.after_space) in_negation = false;
      quote = t.offset;
    }
  }

  Tokenizer tokenizer(*q->language_);
  std::string word;
  auto add_terms = [&](const std::string& sentence, bool negated) {
    std::set<std::string>& active = negated ? q->negated_terms_ : q->terms_;
    tokenizer.Reset(sentence, kFilterStopWords);
    while (tokenizer.Next(&word)) {
      if (!negated) q->terms_for_bounds_.insert(word);
      if (!case_sensitive && !diacritic_sensitive) active.insert(word);
    }
    if (!case_sensitive && !diacritic_sensitive) return;
    unsigned options = kFilterStopWords | (case_sensitive ? unsigned{kCaseSensitive} : 0u) |
                       (diacritic_sensitive ? unsigned{kDiacriticSensitive} : 0u);
    tokenizer.Reset(sentence, options);
    while (tokenizer.Next(&word)) active.insert(word);
  };
  add_terms(positive, false);
  add_terms(negative, true);
  return std::shared_ptr<const TextQuery>(std::move(q));
}

Document TextQuery::ToExplain() const {
  auto strings = [](const auto& list) {
    Array a;
    for (const std::string& s : list) a.push_back(Value(s));
    return a;
  };
  return Document{{"terms", strings(terms_)},
                  {"negatedTerms", strings(negated_terms_)},
                  {"phrases", strings(phrases_)},
                  {"negatedPhrases", strings(negated_phrases_)}};
}

bool TextQuery::HasTerm(bson::DocView doc, const TextIndexSpec& index, const std::set<std::string>& terms,
                        absl::Status* error) const {
  if (terms.empty()) return false;
  unsigned options = (case_sensitive_ ? unsigned{kCaseSensitive} : 0u) | (diacritic_sensitive_ ? unsigned{kDiacriticSensitive} : 0u);
  bool found = false;
  std::string word;
  *error = index.ForEachString(doc, [&](const Language& language, std::string_view text, double) {
    if (found) return;
    Tokenizer tokenizer(language);
    tokenizer.Reset(text, options);
    while (tokenizer.Next(&word)) {
      if (terms.contains(word)) {
        found = true;
        return;
      }
    }
  });
  return found;
}

bool TextQuery::HasPhrase(bson::DocView doc, const TextIndexSpec& index, const std::string& phrase,
                          absl::Status* error) const {
  bool found = false;
  *error = index.ForEachString(doc, [&](const Language& language, std::string_view text, double) {
    if (found) return;
    std::string haystack = Fold(text, case_sensitive_, diacritic_sensitive_, language.turkish);
    std::string needle = Fold(phrase, case_sensitive_, diacritic_sensitive_, language.turkish);
    found = haystack.find(needle) != std::string::npos;
  });
  return found;
}

absl::StatusOr<bool> TextQuery::Matches(bson::DocView doc, const TextIndexSpec& index, bool from_index) const {
  absl::Status error;
  // Case- and diacritic-insensitive terms are the index's own.
  if (!from_index || case_sensitive_ || diacritic_sensitive_) {
    bool has = HasTerm(doc, index, terms_, &error);
    if (!error.ok()) return error;
    if (!has) return false;
  }
  bool negated = HasTerm(doc, index, negated_terms_, &error);
  if (!error.ok()) return error;
  if (negated) return false;
  for (const std::string& p : phrases_) {
    bool has = HasPhrase(doc, index, p, &error);
    if (!error.ok()) return error;
    if (!has) return false;
  }
  for (const std::string& p : negated_phrases_) {
    bool has = HasPhrase(doc, index, p, &error);
    if (!error.ok()) return error;
    if (has) return false;
  }
  return true;
}

}  // namespace micromongo::text
