#pragma once

// MongoDB Extended JSON v2 <-> BSON, through libbson's parser and printer.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace micromongo::bson {

// Parses one JSON object (canonical or relaxed Extended JSON). Errors carry code 9
// (FailedToParse) and libbson's description.
absl::StatusOr<std::string> JsonToBson(std::string_view json);

// Re-prints JSON text compactly (no insignificant whitespace, strings unescaped and
// re-escaped one way, numbers as written, key order kept) so two texts can be compared.
absl::StatusOr<std::string> NormalizeJson(std::string_view json);

// Appends `s` as a JSON string literal (quotes, escapes for '"', '\\' and controls).
void AppendJsonString(std::string_view s, std::string* out);

// Prints validated BSON as relaxed (or canonical) Extended JSON: {"a": 1, "b": {"$oid": ...}}.
std::string BsonToJson(std::string_view bson, bool canonical = false);

// A document as MongoDB's BSONObj::toString writes it, the form its error messages quote
// documents in: `{ _id: 1, name: "Ada", at: new Date(0), id: ObjectId('...') }`.
std::string BsonToShellText(std::string_view bson);

}  // namespace micromongo::bson
