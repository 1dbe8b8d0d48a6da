#include "document/json.h"

#include <bson/bson.h>

#include "absl/strings/str_cat.h"
#include "document/status.h"

namespace micromongo::bson {

absl::StatusOr<std::string> JsonToBson(std::string_view json) {
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || json[first] != '{') {
    return MongoError(kFailedToParse, "Extended JSON: expected a JSON object");
  }
  bson_t doc;
  bson_error_t error;
  if (!bson_init_from_json(&doc, json.data(), static_cast<ssize_t>(json.size()), &error)) {
    return MongoError(kFailedToParse, StrCat("Extended JSON: ", error.message));
  }
  std::string bytes(reinterpret_cast<const char*>(bson_get_data(&doc)), doc.len);
  bson_destroy(&doc);
  return bytes;
}

std::string BsonToJson(std::string_view bytes, bool canonical) {
  bson_t doc;
  if (!bson_init_static(&doc, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) {
    return "{}";
  }
  size_t len = 0;
  char* text = canonical ? bson_as_canonical_extended_json(&doc, &len)
                         : bson_as_relaxed_extended_json(&doc, &len);
  if (text == nullptr) return "{}";
  std::string out(text, len);
  bson_free(text);
  return out;
}

}  // namespace micromongo::bson
