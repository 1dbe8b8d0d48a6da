#pragma once

#include <string_view>

namespace micromongo::text {

// The stop words of one of MongoDB's text search languages (its full name, "english"), as
// one string of words each followed by a space; empty for languages without any.
std::string_view StopWordList(std::string_view language);

}  // namespace micromongo::text
