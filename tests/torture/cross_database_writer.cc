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

int64_t Count(bench::WireClient* wire, const char* db, const Document& filter) {
  Reply r = Run(wire, Document{{"count", kCrossColl}, {"query", filter}, {"$db", db}});
  if (!r.error.empty()) throw std::runtime_error(r.error);
  return r.doc.GetInt64("n");
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
      const int64_t id = model->acknowledged + 1;
      model->in_flight = id;
      Document doc{{"_id", id}};
      std::vector<Document> steps = {
          Document{{"insert", kCrossColl}, {"documents", Array{doc}}, {"lsid", lsid}, {"txnNumber", txn},
                   {"startTransaction", true}, {"autocommit", false}, {"$db", kCrossDbA}},
          Document{{"insert", kCrossColl}, {"documents", Array{doc}}, {"lsid", lsid}, {"txnNumber", txn},
                   {"autocommit", false}, {"$db", kCrossDbB}},
          Document{{"commitTransaction", 1}, {"lsid", lsid}, {"txnNumber", txn}, {"autocommit", false},
                   {"$db", "admin"}},
      };
      for (const Document& step : steps) {
        Reply r = Run(&wire, step);
        if (!r.error.empty()) return killed->load() ? "" : "before the kill, " + r.error;
      }
      model->acknowledged = id;
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
    const int64_t acked = model->acknowledged;
    for (const char* db : {kCrossDbA, kCrossDbB}) {
      int64_t kept = Count(&wire, db, Document{{"_id", Document{{"$lte", acked}}}});
      if (kept != acked) {
        return std::string(db) + " holds " + std::to_string(kept) + " of the " + std::to_string(acked) +
               " committed transactions' documents";
      }
    }
    if (model->in_flight != 0) {
      Document cut{{"_id", model->in_flight}};
      int64_t a = Count(&wire, kCrossDbA, cut), b = Count(&wire, kCrossDbB, cut);
      if (a != b) {
        return "the transaction cut by the kill (_id " + std::to_string(model->in_flight) +
               ") is in one database only: " + kCrossDbA + " " + std::to_string(a) + ", " + kCrossDbB + " " +
               std::to_string(b);
      }
      ++model->cut;
      if (a == 1) {
        ++model->cut_applied;
        model->acknowledged = model->in_flight;
      }
      model->in_flight = 0;
    }
    for (const char* db : {kCrossDbA, kCrossDbB}) {
      int64_t all = Count(&wire, db, Document{});
      if (all != model->acknowledged) {
        return std::string(db) + " holds " + std::to_string(all) + " documents; " +
               std::to_string(model->acknowledged) + " were committed";
      }
    }
  } catch (const std::exception& e) {
    return std::string("checking the cross-database transactions: ") + e.what();
  }
  return "";
}

}  // namespace micromongo::torture
