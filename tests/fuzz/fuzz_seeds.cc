// Writes seed corpora for the fuzz targets from MongoDB's specification data:
//   fuzz_seeds <mongodb-specifications dir> <out dir>
// out/<target>/<n> for bson and json (the BSON corpus: valid documents, decode and parse
// errors), filter, update, projection, pipeline and collation (every such argument in the
// unified test suites, with the suites' initial documents), keystring (corpus values mixed
// into documents) and grpc (requests made of the same filters, updates and pipelines).

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "document/builder.h"
#include "document/json.h"
#include "micromongo/v1/micromongo.pb.h"

namespace fs = std::filesystem;
using namespace micromongo;
using bson::DocView;

namespace {

std::map<std::string, std::vector<std::string>> seeds;

void Add(const std::string& target, std::string bytes) { seeds[target].push_back(std::move(bytes)); }

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sub(const bson::ValueView& v) { return std::string(v.Doc().data(), v.Doc().size()); }

// The BSON corpus: {valid: [{canonical_bson, canonical_extjson, relaxed_extjson}],
// decodeErrors: [{bson}], parseErrors: [{string}]}.
void FromCorpusFile(DocView file, std::vector<std::string>* values) {
  bson::ValueView list;
  for (const char* section : {"valid", "decodeErrors", "parseErrors"}) {
    if (!file.Find(section, &list) || !list.IsDocumentLike()) continue;
    for (const bson::ElementView& c : list.Doc()) {
      if (!c.value.IsDocumentLike()) continue;
      bson::ValueView f;
      for (const char* hex_field : {"canonical_bson", "bson", "degenerate_bson"}) {
        if (c.value.Doc().Find(hex_field, &f) && f.type == BsonType::kString) {
          std::string bytes = absl::HexStringToBytes(std::string(f.String()));
          Add("bson", bytes);
          if (bson::Validate(bytes).ok()) {
            for (const bson::ElementView& e : DocView(bytes)) values->push_back(std::string(e.value.bytes()) + char(e.value.type));
          }
        }
      }
      for (const char* json_field : {"canonical_extjson", "relaxed_extjson", "degenerate_extjson", "string"}) {
        if (c.value.Doc().Find(json_field, &f) && f.type == BsonType::kString) Add("json", std::string(f.String()));
      }
    }
  }
}

std::string Request(const google::protobuf::Message& m, int selector) {
  return std::string(1, static_cast<char>(selector)) + m.SerializeAsString();
}

v1::Doc BsonDoc(const std::string& bytes) {
  v1::Doc d;
  d.set_bson(bytes);
  return d;
}

// An OP_MSG carrying `body` plus "$db": "fuzz", and a document sequence `sequence_id` of
// `sequence` when given: a wire protocol seed.
std::string OpMsg(std::string_view body, std::string_view sequence_id = {},
                  const std::vector<std::string>& sequence = {}) {
  bson::Builder b;
  for (const bson::ElementView& e : DocView(body)) {
    if (e.key != "$db") b.AppendView(e.key, e.value);
  }
  b.AppendString("$db", "fuzz");
  std::string doc = std::move(b).Finish();
  std::string m(16, '\0');
  int32_t op = 2013, flags = 0;
  std::memcpy(m.data() + 12, &op, 4);
  m.append(reinterpret_cast<const char*>(&flags), 4);
  m.push_back(0);
  m += doc;
  if (!sequence_id.empty()) {
    std::string payload(sequence_id);
    payload.push_back('\0');
    for (const std::string& d : sequence) payload += d;
    int32_t size = static_cast<int32_t>(payload.size() + 4);
    m.push_back(1);
    m.append(reinterpret_cast<const char*>(&size), 4);
    m += payload;
  }
  int32_t length = static_cast<int32_t>(m.size());
  std::memcpy(m.data(), &length, 4);
  return m;
}

// {<name>: <coll>, <key>: <value>} as BSON.
std::string Command(std::string_view name, std::string_view key, const bson::ValueView& value) {
  bson::Builder b;
  b.AppendString(name, "c");
  b.AppendView(key, value);
  if (name == "aggregate") {
    auto at = b.StartDocument("cursor");
    b.End(at);
  }
  return std::move(b).Finish();
}

// Walks a unified test file for the arguments the targets take.
void Walk(DocView doc, const std::vector<std::string>& initial) {
  for (const bson::ElementView& e : doc) {
    if (!e.value.IsDocumentLike()) continue;
    std::string bytes = Sub(e.value);
    bool is_doc = e.value.type == BsonType::kDocument;
    if (e.key == "filter" && is_doc) {
      for (size_t i = 0; i < initial.size() && i < 3; ++i) Add("filter", bytes + initial[i]);
      if (initial.empty()) Add("filter", bytes);
      v1::FindRequest find;
      find.set_database("fuzz");
      find.set_collection("c");
      *find.mutable_filter() = BsonDoc(bytes);
      Add("grpc", Request(find, 1));
      v1::CountRequest count;
      count.set_database("fuzz");
      count.set_collection("c");
      *count.mutable_filter() = BsonDoc(bytes);
      Add("grpc", Request(count, 4));
      Add("wire", OpMsg(Command("find", "filter", e.value)));
      Add("wire", OpMsg(Command("count", "query", e.value)));
    } else if (e.key == "command" && is_doc) {
      Add("wire", OpMsg(bytes));  // the run-command suite's commands, as sent
    } else if ((e.key == "update" || e.key == "replacement") && is_doc) {
      Add("update", std::string(1, e.key == "replacement" ? 1 : 0) + bytes);
      v1::UpdateRequest update;
      update.set_database("fuzz");
      update.set_collection("d");
      Add("grpc", Request(update, 6));
    } else if (e.key == "projection" && is_doc) {
      Add("projection", bytes);
    } else if (e.key == "pipeline" && !is_doc) {
      Add("pipeline", std::string(1, 0) + bytes);
      v1::AggregateRequest agg;
      agg.set_database("fuzz");
      agg.set_collection("c");
      for (const bson::ElementView& s : e.value.Doc()) {
        if (s.value.type == BsonType::kDocument) *agg.add_pipeline() = BsonDoc(Sub(s.value));
      }
      Add("grpc", Request(agg, 11));
      Add("wire", OpMsg(Command("aggregate", "pipeline", e.value)));
    } else if (e.key == "collation" && is_doc) {
      Add("collation", bytes + *bson::JsonToBson(R"({"0": "a", "1": "B", "2": "é", "3": "e", "4": "10", "5": "9"})"));
    } else if (e.key == "documents" && !is_doc) {
      v1::InsertRequest insert;
      insert.set_database("fuzz");
      insert.set_collection("d");
      for (const bson::ElementView& s : e.value.Doc()) {
        if (s.value.type == BsonType::kDocument) *insert.add_documents() = BsonDoc(Sub(s.value));
      }
      Add("grpc", Request(insert, 0));
      std::vector<std::string> docs;
      for (const bson::ElementView& s : e.value.Doc()) {
        if (s.value.type == BsonType::kDocument) docs.push_back(Sub(s.value));
      }
      bson::Builder insert_body;
      insert_body.AppendString("insert", "d");
      Add("wire", OpMsg(std::move(insert_body).Finish(), "documents", docs));
    }
    Walk(e.value.Doc(), initial);
  }
}

std::vector<std::string> InitialDocuments(DocView file) {
  std::vector<std::string> out;
  bson::ValueView data;
  if (!file.Find("initialData", &data) || !data.IsDocumentLike()) return out;
  for (const bson::ElementView& coll : data.Doc()) {
    bson::ValueView docs;
    if (!coll.value.IsDocumentLike() || !coll.value.Doc().Find("documents", &docs) || !docs.IsDocumentLike()) continue;
    for (const bson::ElementView& d : docs.Doc()) {
      if (d.value.type == BsonType::kDocument) out.push_back(Sub(d.value));
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_seeds <mongodb-specifications dir> <out dir>\n");
    return 2;
  }
  fs::path specs = argv[1], out = argv[2];
  std::vector<std::string> values;  // value bytes + type byte, from the BSON corpus
  for (const auto& f : fs::directory_iterator(specs / "bson-corpus")) {
    if (f.path().extension() != ".json") continue;
    auto file = bson::JsonToBson(Read(f.path()));
    if (file.ok()) FromCorpusFile(DocView(*file), &values);
  }
  // keystring: documents of 8 corpus values each.
  for (size_t i = 0; i + 8 <= values.size(); i += 5) {
    bson::Builder b;
    for (size_t j = 0; j < 8; ++j) {
      const std::string& v = values[i + j];
      bson::ValueView view{static_cast<BsonType>(v.back()), v.data(), static_cast<uint32_t>(v.size() - 1)};
      b.AppendView(std::to_string(j), view);
    }
    Add("keystring", std::move(b).Finish());
  }
  // wire: the handshake a driver opens with, as OP_MSG and as the legacy OP_QUERY.
  for (const char* json : {R"({"hello": 1, "helloOk": true})", R"({"isMaster": 1})",
                           R"({"buildInfo": 1})", R"({"listCollections": 1, "nameOnly": true})",
                           R"({"getMore": {"$numberLong": "1"}, "collection": "c"})"}) {
    Add("wire", OpMsg(*bson::JsonToBson(json)));
  }
  {
    std::string query = *bson::JsonToBson(R"({"isMaster": 1, "helloOk": true})");
    std::string m(16, '\0');
    int32_t op = 2004, flags = 0, skip = 0, n = -1;
    std::memcpy(m.data() + 12, &op, 4);
    m.append(reinterpret_cast<const char*>(&flags), 4);
    m += std::string("admin.$cmd") + '\0';
    m.append(reinterpret_cast<const char*>(&skip), 4);
    m.append(reinterpret_cast<const char*>(&n), 4);
    m += query;
    int32_t length = static_cast<int32_t>(m.size());
    std::memcpy(m.data(), &length, 4);
    Add("wire", m);
  }
  for (const char* suite : {"crud-unified", "index-management", "collection-management", "change-streams",
                            "run-command"}) {
    if (!fs::exists(specs / suite)) continue;
    for (const auto& f : fs::recursive_directory_iterator(specs / suite)) {
      if (f.path().extension() != ".json") continue;
      auto file = bson::JsonToBson(Read(f.path()));
      if (!file.ok()) continue;
      Walk(DocView(*file), InitialDocuments(DocView(*file)));
    }
  }
  size_t total = 0;
  for (const auto& [target, list] : seeds) {
    fs::create_directories(out / target);
    for (size_t i = 0; i < list.size(); ++i) {
      std::ofstream(out / target / std::to_string(i), std::ios::binary) << list[i];
    }
    std::printf("%s: %zu seeds\n", target.c_str(), list.size());
    total += list.size();
  }
  return total > 0 ? 0 : 1;
}
