// Find projections: a projection document parsed and applied to every sample document
// (with an optional filter for the positional $); results are valid BSON.

#include "fuzz_util.h"
#include "query/matcher.h"
#include "query/projection.h"

using namespace micromongo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string spec, filter;
  if (!fuzz::NextDocument(&in, &spec) || bson::DocView(spec).empty()) return 0;
  std::unique_ptr<query::Matcher> matcher;
  if (fuzz::NextDocument(&in, &filter)) {
    auto m = query::Matcher::Parse(filter);
    if (m.ok()) matcher = *std::move(m);
  }
  auto p = query::Projection::ParseFind(bson::DocView(spec));
  if (!p.ok()) return 0;
  for (const std::string& doc : fuzz::SampleDocuments()) {
    auto out = (*p)->Apply(bson::DocView(doc), matcher.get());
    if (out.ok()) fuzz::Check(bson::Validate(*out).ok(), "a projected document is valid BSON");
  }
  return 0;
}
