// Updates: an update document (operators, or a replacement when the first byte is odd)
// parsed and applied to every sample document; what an update produces is valid BSON.

#include "fuzz_util.h"
#include "update/update.h"

using namespace micromongo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bool replace = data[0] & 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string update, filters;
  if (!fuzz::NextDocument(&in, &update)) return 0;
  std::optional<bson::DocView> array_filters;
  if (fuzz::NextDocument(&in, &filters)) array_filters = bson::DocView(filters);
  auto u = update::Update::Parse(bson::DocView(update), replace, array_filters);
  if (!u.ok()) return 0;
  for (const std::string& doc : fuzz::SampleDocuments()) {
    std::string out;
    if ((*u)->ApplyToBson(bson::DocView(doc), {}, nullptr, &out).ok()) {
      fuzz::Check(bson::Validate(out).ok(), "an updated document is valid BSON");
    }
  }
  return 0;
}
