#pragma once

// MongoDB Extended JSON v2 <-> BSON, through libbson's parser and printer.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace micromongo::bson {

// Parses one JSON object (canonical or relaxed Extended JSON). Errors carry code 9
// (FailedToParse) and libbson's description.
absl::StatusOr<std::string> JsonToBson(std::string_view json);

// Prints validated BSON as relaxed (or canonical) Extended JSON.
std::string BsonToJson(std::string_view bson, bool canonical = false);

}  // namespace micromongo::bson
