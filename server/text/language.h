#pragma once

// The languages of MongoDB's text search (text index version 3): what each one stems with
// and which words it ignores.

#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"

namespace micromongo::text {

struct Language {
  std::string name;                // "english", ..., "none"
  const char* stemmer = nullptr;   // the Snowball algorithm (null: no stemming)
  bool english = false;            // an apostrophe joins words ("don't") instead of splitting them
  bool turkish = false;            // Turkish casing (I/ı, İ/i)
  absl::flat_hash_set<std::string> stop_words;  // lowercase, diacritics kept
};

// The language named `name`, by its name or its ISO 639-1 code as MongoDB accepts them
// ("english", "en", "none"), case-insensitively. Null when MongoDB does not support it.
const Language* FindLanguage(std::string_view name);

}  // namespace micromongo::text
