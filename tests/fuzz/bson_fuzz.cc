// BSON decoding: validation, decoding into a Document and encoding back, Extended JSON
// output. Valid BSON must decode, encode to an equal document, and print as canonical
// Extended JSON that parses again (when no key starts with $).

#include "document/builder.h"
#include "document/compare.h"
#include "document/json.h"
#include "fuzz_util.h"
#include "micromongo/document.h"

using namespace micromongo;

namespace {

// Extended JSON cannot tell a key such as "$oid" or "$date" from a type wrapper, so
// documents with $-prefixed keys need not print as JSON that parses back (the spec's rule).
bool HasDollarKey(bson::DocView doc) {
  for (const bson::ElementView& e : doc) {
    if (!e.key.empty() && e.key[0] == '$') return true;
    if (e.value.IsDocumentLike() && HasDollarKey(e.value.Doc())) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (!bson::Validate(in).ok()) return 0;
  auto doc = bson::DecodeChecked(in);
  fuzz::Check(doc.ok(), "valid BSON decodes");
  // Encoding is canonical (degenerate input, such as array keys other than "0", "1", ...,
  // is normalized): what it produces decodes to the same document and encodes the same.
  std::string encoded = doc->ToBson();
  fuzz::Check(bson::Validate(encoded).ok(), "an encoded document is valid BSON");
  auto again = bson::DecodeChecked(encoded);
  fuzz::Check(again.ok() && again->ToBson() == encoded, "encoding is stable");
  fuzz::Check(bson::CompareDocuments(bson::DocView(encoded), bson::DocView(in)) == 0,
              "the encoded document equals the input");
  std::string canonical = bson::BsonToJson(in, /*canonical=*/true);
  (void)bson::BsonToJson(in, /*canonical=*/false);
  if (!HasDollarKey(bson::DocView(in))) {
    fuzz::Check(bson::JsonToBson(canonical).ok(), "canonical Extended JSON of valid BSON parses");
  }
  return 0;
}
