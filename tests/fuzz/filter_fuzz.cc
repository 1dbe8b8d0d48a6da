// Query filters: a filter document (and optionally one more document) from the fuzz bytes,
// parsed and matched against the sample documents.

#include "fuzz_util.h"
#include "query/matcher.h"

using namespace micromongo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string filter, extra;
  if (!fuzz::NextDocument(&in, &filter)) return 0;
  auto m = query::Matcher::Parse(filter);
  if (!m.ok()) return 0;
  for (const std::string& doc : fuzz::SampleDocuments()) (void)(*m)->Matches(bson::DocView(doc));
  if (fuzz::NextDocument(&in, &extra)) (void)(*m)->Matches(bson::DocView(extra));
  return 0;
}
