// Collation specs: a fuzzed {locale, strength, ...} document parsed by ICU's rules; when it
// parses, strings of a second document compare under it as their collated key strings do.

#include "collation/collation.h"
#include "document/compare.h"
#include "document/key_string.h"
#include "fuzz_util.h"

using namespace micromongo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string spec, strings;
  if (!fuzz::NextDocument(&in, &spec)) return 0;
  auto collator = collation::Parse(bson::DocView(spec));
  if (!collator.ok() || *collator == nullptr) return 0;
  if (!fuzz::NextDocument(&in, &strings)) return 0;
  std::vector<bson::ValueView> values;
  std::vector<std::string> keys;
  for (const bson::ElementView& e : bson::DocView(strings)) {
    if (values.size() == 8) break;
    values.push_back(e.value);
    keys.emplace_back();
    bson::AppendKeyString(e.value, &keys.back(), collator->get());
  }
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < values.size(); ++j) {
      int by_value = fuzz::Sign(bson::CompareValues(values[i], values[j], collator->get()));
      fuzz::Check(by_value == fuzz::Sign(keys[i].compare(keys[j])), "collated key string order is collation order");
    }
  }
  return 0;
}
