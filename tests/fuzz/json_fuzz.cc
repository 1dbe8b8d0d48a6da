// Extended JSON parsing: whatever parses is valid BSON, and its canonical Extended JSON
// parses back to the same bytes.

#include "document/json.h"
#include "fuzz_util.h"

using namespace micromongo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto bson = bson::JsonToBson(in);
  if (!bson.ok()) return 0;
  fuzz::Check(bson::Validate(*bson).ok(), "parsed Extended JSON is valid BSON");
  auto again = bson::JsonToBson(bson::BsonToJson(*bson, /*canonical=*/true));
  fuzz::Check(again.ok(), "canonical Extended JSON parses");
  fuzz::Check(*again == *bson, "canonical Extended JSON round trips");
  (void)bson::BsonToJson(*bson, /*canonical=*/false);
  return 0;
}
