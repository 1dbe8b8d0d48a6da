#pragma once

// A text index's definition (MongoDB's FTSSpec, text index version 3): its key pattern
// ({<prefix fields>, _fts: "text", _ftsx: 1, <suffix fields>}), the weights of its fields
// ("$**": every string), its default language and the field a document names its own
// language in; and the term scores of a document, which its index entries hold.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "text/language.h"

namespace micromongo::text {

inline constexpr int kTextIndexVersion = 3;

// Whether a createIndex key pattern is a text index's: some field's value is "text" (or it
// is the stored form, with _fts).
bool IsTextKeyPattern(bson::DocView keys);

// Whether `option` is one of a text index's own createIndex options.
bool IsTextOption(std::string_view option);

struct TextIndexDefinition {
  std::string key_pattern;  // BSON: the stored key pattern
  std::string options;      // BSON: {weights, default_language, language_override, textIndexVersion}
};

// Validates a text index's key pattern and options as MongoDB does and returns what to
// store, defaults filled in (weights 1, "english", "language", version 3). Errors, with
// MongoDB's codes: 17273 (a non-text key not 1 or -1), 17389 (text fields not adjacent),
// 17289 (_fts/_ftsx as field names), 17283/17284 (weights not numbers / not an object),
// 16674 (a weight outside (0, 100000)), 17294/17291/17292 (bad weight paths), 17263/17264
// (bad default_language), 17136 (bad language_override), 17364 (textIndexVersion not 3).
absl::StatusOr<TextIndexDefinition> BuildTextIndex(bson::DocView keys, bson::DocView options);

class TextIndexSpec {
 public:
  // Reads a stored text index document.
  static absl::StatusOr<std::shared_ptr<const TextIndexSpec>> Parse(bson::DocView index_spec);

  const Language& default_language() const { return *default_language_; }
  const std::string& language_override() const { return language_override_; }
  bool wildcard() const { return wildcard_; }
  const std::map<std::string, double>& weights() const { return weights_; }
  // The key pattern's fields before and after the text fields.
  const std::vector<std::string>& prefix_fields() const { return prefix_; }
  const std::vector<std::string>& suffix_fields() const { return suffix_; }

  // Calls fn(language, text, weight) for every string of `doc` the index covers, as
  // MongoDB's FTSElementIterator walks it: fields named in the weights (and their
  // sub-documents' and arrays' strings; every string for "$**"), in the language of the
  // nearest enclosing document that names one in its language override field. Errors:
  // 17261 (a language override that is not a string), 17262 (an unsupported language).
  absl::Status ForEachString(bson::DocView doc,
                             absl::FunctionRef<void(const Language&, std::string_view, double)> fn) const;

  // The document's term scores (MongoDB's scoreDocument): per string, each term's
  // occurrences count 1, 1/2, 1/4, ...; times the field's weight, times (0.5 + 0.5 * the
  // term's share of the string's terms), times 1.1 when the whole string is the term;
  // summed over the strings. Stop words are left out.
  absl::Status ScoreDocument(bson::DocView doc, absl::flat_hash_map<std::string, double>* scores) const;

 private:
  std::map<std::string, double> weights_;  // without "$**"
  bool wildcard_ = false;
  const Language* default_language_ = nullptr;
  std::string language_override_ = "language";
  std::vector<std::string> prefix_, suffix_;
};

}  // namespace micromongo::text
