// Index key encoding: for every pair of values of a fuzzed document, the order of their key
// strings (memcmp) is the order of MongoDB's BSON comparison, and equal values encode
// identically.

#include <cstring>

#include "document/compare.h"
#include "document/key_string.h"
#include "fuzz_util.h"

using namespace micromongo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string doc;
  if (!fuzz::NextDocument(&in, &doc)) return 0;
  std::vector<bson::ValueView> values;
  std::vector<std::string> keys;
  for (const bson::ElementView& e : bson::DocView(doc)) {
    if (values.size() == 16) break;
    values.push_back(e.value);
    keys.emplace_back();
    bson::AppendKeyString(e.value, &keys.back());
  }
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < values.size(); ++j) {
      int by_value = fuzz::Sign(bson::CompareValues(values[i], values[j]));
      int by_key = fuzz::Sign(keys[i].compare(keys[j]));
      if (by_value != by_key) {
        std::fprintf(stderr, "values %zu and %zu: compare %d, key strings %d\n", i, j, by_value, by_key);
        fuzz::Check(false, "key string order is BSON order");
      }
    }
  }
  return 0;
}
