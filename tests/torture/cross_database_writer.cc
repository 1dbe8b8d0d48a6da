#include "cross_database_writer.h"

#include <micromongo/micromongo.h>

#include <random>
#include <stdexcept>
#include <vector>

#include "wire_client.h"

namespace micromongo::torture {
namespace {

using micromongo::Document;

// Runs `command` (with its "$db"); the reply, or the reason it failed.
struct Reply {
  Document doc;
  std::string error;  // "" when ok: 1
};

Reply Run(bench::WireClient* wire, const Document& command) {
  Document reply = Document::FromBson(wire->Run(command.ToBson()));
  const Value* ok = reply.Find("ok");
  if (ok != nullptr && ok->ToDouble() == 1) return {std::move(reply), ""};
  return {std::move(reply), "failed: " + command.ToJson() + " -> " + reply.ToJson()};
}

}  // namespace

std::string RunCrossDatabaseWriter(const std::string& socket_path, CrossDatabaseModel* model,
                                   const std::atomic<bool>* killed) {
  std::random_device random;
  std::string uuid;
  for (int i = 0; i < 16; ++i) uuid.push_back(static_cast<char>(random()));
  const Document lsid{{"id", Binary{4, uuid}}};
  try {
    bench::WireClient wire(socket_path);
    for (int64_t txn = 1;; ++txn) {
      const int64_t n = model->acknowledged + 1;
      model->in_flight = n;
      // The same document in both databases, set to the transaction's number.
      Document update{{"q", Document{{"_id", 0}}}, {"u", Document{{"$set", Document{{"n", n}}}}}, {"upsert", true}};
      std::vector<Document> steps = {
          Document{{"update", kCrossColl}, {"updates", Array{update}}, {"lsid", lsid}, {"txnNumber", txn},
                   {"startTransaction", true}, {"autocommit", false}, {"$db", kCrossDbA}},
          Document{{"update", kCrossColl}, {"updates", Array{update}}, {"lsid", lsid}, {"txnNumber", txn},
                   {"autocommit", false}, {"$db", kCrossDbB}},
          Document{{"commitTransaction", 1}, {"lsid", lsid}, {"txnNumber", txn}, {"autocommit", false},
                   {"$db", "admin"}},
      };
      for (const Document& step : steps) {
        Reply r = Run(&wire, step);
        if (!r.error.empty()) return killed->load() ? "" : "before the kill, " + r.error;
      }
      model->acknowledged = n;
      model->in_flight = 0;
    }
  } catch (const std::exception& e) {
    if (killed->load()) return "";
    return std::string("cross-database writer, before the kill: ") + e.what();
  }
}

std::string CheckCrossDatabase(const std::string& socket_path, CrossDatabaseModel* model) {
  try {
    bench::WireClient wire(socket_path);
    int64_t n[2];
    for (int i = 0; i < 2; ++i) {
      const char* db = i == 0 ? kCrossDbA : kCrossDbB;
      Reply r = Run(&wire, Document{{"find", kCrossColl}, {"filter", Document{{"_id", 0}}}, {"$db", db}});
      if (!r.error.empty()) return r.error;
      const Array& batch = r.doc.GetDocument("cursor").GetArray("firstBatch");
      n[i] = batch.empty() ? 0 : batch[0].AsDocument().GetInt64("n");
    }
    if (n[0] != n[1]) {
      return "a transaction is in one database only: " + std::string(kCrossDbA) + " holds n = " +
             std::to_string(n[0]) + ", " + kCrossDbB + " n = " + std::to_string(n[1]);
    }
    const bool cut = model->in_flight != 0;
    if (n[0] != model->acknowledged && !(cut && n[0] == model->in_flight)) {
      return "both databases hold n = " + std::to_string(n[0]) + "; committed: " +
             std::to_string(model->acknowledged) + (cut ? ", cut by the kill: " + std::to_string(model->in_flight) : "");
    }
    if (cut) {
      ++model->cut;
      if (n[0] == model->in_flight) ++model->cut_applied;
    }
    model->committed = n[0];  // transactions are numbered on across rounds
    model->acknowledged = n[0];
    model->in_flight = 0;
  } catch (const std::exception& e) {
    return std::string("checking the cross-database transactions: ") + e.what();
  }
  return "";
}

}  // namespace micromongo::torture
