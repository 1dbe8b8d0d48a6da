// Runs every case of MongoDB's BSON corpus (../shared/conformance/mongodb-specifications/
// bson-corpus/*.json) through the project's document library and prints
//   bson-corpus: N passed, N failed, N skipped
// Exit status is non-zero if any case failed. Known failures are listed below with their
// reason and still count as failed.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "micromongo/document.h"

namespace fs = std::filesystem;
using micromongo::Document;
namespace bson = micromongo::bson;

namespace {

// "<file>: <case description>" -> why it is not expected to pass (yet).
const std::map<std::string, std::string> kKnownFailures = {};

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string ToHex(const std::string& bytes) {
  static const char* d = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string Str(bson::DocView doc, const char* key) {
  bson::ValueView v;
  if (!doc.Find(key, &v) || v.type != micromongo::BsonType::kString) return "";
  return std::string(v.String());
}

bool Has(bson::DocView doc, const char* key) {
  bson::ValueView v;
  return doc.Find(key, &v);
}

bool Flag(bson::DocView doc, const char* key) {
  bson::ValueView v;
  return doc.Find(key, &v) && v.type == micromongo::BsonType::kBool && v.Bool();
}

std::string Normal(const std::string& json) {
  auto n = bson::NormalizeJson(json);
  return n.ok() ? *n : "<unparseable: " + json + ">";
}

struct Counts {
  int passed = 0, failed = 0, skipped = 0;
};

}  // namespace

int main(int argc, char** argv) {
  fs::path root = argc > 1 ? fs::path(argv[1])
                           : fs::path("../shared/conformance/mongodb-specifications/bson-corpus");
  if (!fs::is_directory(root)) {
    std::fprintf(stderr, "bson-corpus: no corpus at %s\n", root.c_str());
    return 2;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  Counts counts;
  std::set<std::string> known_seen;

  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto suite_bytes = bson::JsonToBson(ss.str());
    if (!suite_bytes.ok()) {
      std::printf("FAIL %s: cannot read: %s\n", file.filename().c_str(),
                  std::string(suite_bytes.status().message()).c_str());
      ++counts.failed;
      continue;
    }
    bson::DocView suite(*suite_bytes);
    std::string type = Str(suite, "bson_type");
    auto report = [&](const std::string& description, const std::string& error) {
      std::string name = file.filename().string() + ": " + description;
      bool known = kKnownFailures.count(name) > 0;
      if (error.empty()) {
        ++counts.passed;
        if (known) std::printf("NOTE %s passes now; remove it from kKnownFailures\n", name.c_str());
        return;
      }
      ++counts.failed;
      if (known) known_seen.insert(name);
      std::printf("FAIL %s%s: %s\n", name.c_str(), known ? " (known)" : "", error.c_str());
    };

    bson::ValueView list;
    if (suite.Find("valid", &list)) {
      for (const bson::ElementView& e : list.Doc()) {
        bson::DocView c = e.value.Doc();
        std::string description = Str(c, "description");
        std::string cb = FromHex(Str(c, "canonical_bson"));
        std::string cej = Str(c, "canonical_extjson");
        std::string error;
        auto check_json = [&](const std::string& bytes, bool canonical, const std::string& want,
                              const char* what) {
          if (!error.empty()) return;
          if (auto s = bson::Validate(bytes); !s.ok()) {
            error = std::string(what) + ": does not validate: " + std::string(s.message());
            return;
          }
          std::string got = bson::BsonToJson(bytes, canonical);
          if (Normal(got) != Normal(want)) error = std::string(what) + ": got " + got + " want " + want;
        };
        auto check_parse = [&](const std::string& json, const std::string& want, const char* what) {
          if (!error.empty()) return;
          auto got = bson::JsonToBson(json);
          if (!got.ok()) {
            error = std::string(what) + ": " + std::string(got.status().message());
          } else if (*got != want) {
            error = std::string(what) + ": got " + ToHex(*got) + " want " + ToHex(want);
          }
        };
        check_json(cb, true, cej, "cB->cEJ");
        if (Has(c, "relaxed_extjson")) check_json(cb, false, Str(c, "relaxed_extjson"), "cB->rEJ");
        if (Has(c, "degenerate_bson")) {
          std::string db = FromHex(Str(c, "degenerate_bson"));
          check_json(db, true, cej, "dB->cEJ");
        }
        if (!Flag(c, "lossy")) {
          check_parse(cej, cb, "cEJ->cB");
          if (Has(c, "degenerate_extjson")) check_parse(Str(c, "degenerate_extjson"), cb, "dEJ->cB");
        }
        if (Has(c, "relaxed_extjson") && error.empty()) {
          std::string rej = Str(c, "relaxed_extjson");
          auto parsed = bson::JsonToBson(rej);
          if (!parsed.ok()) {
            error = "rEJ->BSON: " + std::string(parsed.status().message());
          } else if (Normal(bson::BsonToJson(*parsed, false)) != Normal(rej)) {
            error = "rEJ->rEJ: got " + bson::BsonToJson(*parsed, false) + " want " + rej;
          }
        }
        // The C++ Document type round-trips every type.
        if (error.empty()) {
          auto doc = bson::DecodeChecked(cb);
          if (!doc.ok()) {
            error = "Document decode: " + std::string(doc.status().message());
          } else if (doc->ToBson() != cb) {
            error = "Document round trip: got " + ToHex(doc->ToBson());
          }
        }
        report(description, error);
      }
    }
    if (suite.Find("decodeErrors", &list)) {
      for (const bson::ElementView& e : list.Doc()) {
        bson::DocView c = e.value.Doc();
        std::string bytes = FromHex(Str(c, "bson"));
        report(Str(c, "description"),
               bson::Validate(bytes).ok() ? "invalid BSON accepted: " + Str(c, "bson") : "");
      }
    }
    if (suite.Find("parseErrors", &list)) {
      for (const bson::ElementView& e : list.Doc()) {
        bson::DocView c = e.value.Doc();
        std::string input = Str(c, "string");
        std::string json = type == "0x13" ? "{\"d\": {\"$numberDecimal\": \"" + input + "\"}}" : input;
        auto parsed = bson::JsonToBson(json);
        report(Str(c, "description"), parsed.ok() ? "accepted: " + input : "");
      }
    }
  }
  for (const auto& [name, why] : kKnownFailures) {
    if (!known_seen.count(name)) continue;
    std::printf("known failure: %s -- %s\n", name.c_str(), why.c_str());
  }
  std::printf("bson-corpus: %d passed, %d failed, %d skipped\n", counts.passed, counts.failed,
              counts.skipped);
  return counts.failed == 0 ? 0 : 1;
}
