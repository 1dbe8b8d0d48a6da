// Aggregation pipelines: a document whose values are the stages, parsed and run over a
// collection of the sample documents in a temporary database (with a time limit).

#include "document/builder.h"
#include "fuzz_util.h"
#include "service/aggregation.h"

using namespace micromongo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bool database_level = data[0] & 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string stages;
  if (!fuzz::NextDocument(&in, &stages)) return 0;
  service::AggregateCommand command;
  command.db = "fuzz";
  command.collection = database_level ? "" : "c";
  command.deadline = Deadline::After(1000);
  for (const bson::ElementView& e : bson::DocView(stages)) {
    if (e.value.type != BsonType::kDocument) return 0;
    command.pipeline.push_back(bson::Decode(e.value.Doc()));
  }
  auto out = service::AggregateAll(fuzz::SharedEngine(), command);
  if (out.ok()) {
    for (const std::string& doc : *out) fuzz::Check(bson::Validate(doc).ok(), "a pipeline's output is valid BSON");
  }
  return 0;
}
