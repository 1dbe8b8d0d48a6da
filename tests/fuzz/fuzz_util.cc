#include "fuzz_util.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "document/json.h"
#include "service/crud.h"
#include "service/indexes.h"

namespace micromongo::fuzz {

bool NextDocument(std::string_view* data, std::string* doc) {
  if (data->size() < 5) return false;
  uint32_t n;
  std::memcpy(&n, data->data(), 4);
  if (n < 5 || n > data->size()) return false;
  std::string_view bytes = data->substr(0, n);
  data->remove_prefix(n);
  if (!bson::Validate(bytes).ok()) return false;
  doc->assign(bytes);
  return true;
}

const std::vector<std::string>& SampleDocuments() {
  static const std::vector<std::string>* docs = [] {
    const char* json[] = {
        R"({"_id": 1, "a": 1, "b": "x"})",
        R"({"_id": 2, "a": [1, [2, [3]]], "b": null})",
        R"({"_id": 3, "a": {"b": [{"c": 1}, {"c": [2]}]}, "c": {"$numberDecimal": "1.50"}})",
        R"({"_id": 4, "a": null, "b": {"$numberLong": "9007199254740993"}})",
        R"({"_id": 5, "b": [], "a": [{}, [], null, {"b": null}]})",
        R"({"_id": 6, "a": 2.5, "b": {"$numberDecimal": "-0"}, "d": {"$date": "2020-01-01T00:00:00Z"}})",
        R"({"_id": 7, "a": "str", "0": {"1": [10, 20]}, "a.b": 1})",
        R"({"_id": 8, "a": [[42]], "b": [{"0": 5}, 5], "e": {"$regex": "^a", "$options": "i"}})",
        R"({"_id": {"x": 1}, "a": {"$numberDouble": "NaN"}, "b": true, "f": {"$oid": "5f0000000000000000000001"}})",
    };
    auto* out = new std::vector<std::string>;
    for (const char* j : json) {
      auto b = bson::JsonToBson(j);
      Check(b.ok(), "sample document parses");
      out->push_back(*b);
    }
    return out;
  }();
  return *docs;
}

namespace {

std::string* temp_dir = nullptr;

void RemoveTempDir() {
  if (temp_dir != nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(*temp_dir, ec);
  }
}

}  // namespace

namespace {

storage::Engine* shared_engine = nullptr;

void OpenSharedEngine() {
  if (temp_dir == nullptr) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mm-fuzz-XXXXXX").string();
    Check(mkdtemp(tmpl.data()) != nullptr, "temporary directory");
    temp_dir = new std::string(tmpl);
    std::atexit(RemoveTempDir);
  }
  storage::EngineOptions options;
  options.data_dir = *temp_dir;
  options.kv.block_cache_bytes = 8 << 20;
  options.kv.write_buffer_bytes = 8 << 20;
  auto opened = storage::Engine::Open(options);
  Check(opened.ok(), "engine opens");
  storage::Engine* e = opened->release();
  for (const char* keys : {R"({"a": 1})", R"({"a": 1, "b": -1})", R"({"a.b": 1})"}) {
    auto k = bson::JsonToBson(keys);
    Check(service::CreateIndex(e, "fuzz", "c", bson::DocView(*k), bson::DocView(std::string("\5\0\0\0\0", 5))).ok(),
          "index");
  }
  Check(service::Insert(e, "fuzz", "c", SampleDocuments(), /*ordered=*/true).ok(), "insert");
  Check(service::Insert(e, "fuzz", "d", SampleDocuments(), /*ordered=*/true).ok(), "insert");
  shared_engine = e;
}

}  // namespace

storage::Engine* SharedEngine() {
  if (shared_engine == nullptr) OpenSharedEngine();
  return shared_engine;
}

bool SharedEngineOutgrown() {
  static uint64_t inputs = 0;
  if (shared_engine == nullptr || ++inputs % 256 != 0) return false;
  return shared_engine->OpenDatabases().size() > 16;
}

void RenewSharedEngine() {
  delete shared_engine;
  shared_engine = nullptr;
  std::error_code ec;
  std::filesystem::remove_all(*temp_dir, ec);
  std::filesystem::create_directory(*temp_dir, ec);
  OpenSharedEngine();
}

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

}  // namespace micromongo::fuzz
