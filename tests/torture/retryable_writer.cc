#include "retryable_writer.h"

#include <micromongo/micromongo.h>

#include <stdexcept>
#include <vector>

#include "wire_client.h"

namespace micromongo::torture {
namespace {

using micromongo::Document;

// One write: an ordered batch of kCounters statements, statement i incrementing counter i
// (each its own commit, so a kill may cut the batch between them).
Document Increment(const RetryableModel& model, int64_t txn) {
  Array updates;
  for (int i = 0; i < kCounters; ++i) {
    updates.push_back(
        Document{{"q", Document{{"_id", i}}}, {"u", Document{{"$inc", Document{{"n", 1}}}}}, {"upsert", true}});
  }
  return Document{{"update", kRetryColl},
                  {"updates", std::move(updates)},
                  {"lsid", Document{{"id", Binary{4, model.lsid}}}},
                  {"txnNumber", txn},
                  {"$db", kRetryDb}};
}

// The reply's error code (0 for ok: 1), and whether it reports every statement done.
struct Outcome {
  int code = 0;
  bool one = false;  // n == kCounters, no write errors
  std::string text;
};

Outcome Send(bench::WireClient* wire, const Document& command) {
  Document reply = Document::FromBson(wire->Run(command.ToBson()));
  Outcome out;
  out.text = reply.ToJson();
  const Value* ok = reply.Find("ok");
  if (ok == nullptr || ok->ToDouble() != 1) {
    const Value* code = reply.Find("code");
    out.code = code != nullptr ? static_cast<int>(code->ToDouble()) : -1;
    return out;
  }
  const Value* n = reply.Find("n");
  out.one = n != nullptr && n->ToDouble() == kCounters && reply.Find("writeErrors") == nullptr;
  return out;
}

// The counters' values (0 for one not yet upserted).
std::vector<int64_t> Counters(bench::WireClient* wire) {
  Document reply = Document::FromBson(wire->Run(
      Document{{"find", kRetryColl}, {"sort", Document{{"_id", 1}}}, {"$db", kRetryDb}}.ToBson()));
  std::vector<int64_t> values(kCounters, 0);
  for (const Value& v : reply.GetDocument("cursor").GetArray("firstBatch")) {
    int64_t id = v.AsDocument().Find("_id")->ToInt64();
    if (id >= 0 && id < kCounters) values[id] = v.AsDocument().Find("n")->ToInt64();
  }
  return values;
}

std::string Show(const std::vector<int64_t>& values) {
  std::string out;
  for (int64_t v : values) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return "[" + out + "]";
}

}  // namespace

std::string RunRetryableWriter(const std::string& socket_path, RetryableModel* model,
                               const std::atomic<bool>* killed) {
  try {
    bench::WireClient wire(socket_path);
    for (;;) {
      const int64_t txn = model->next_txn;
      model->in_flight = txn;
      Outcome r = Send(&wire, Increment(*model, txn));
      if (r.code != 0 || !r.one) {
        return killed->load() ? "" : "before the kill, retryable write " + std::to_string(txn) + ": " + r.text;
      }
      ++model->acknowledged;
      model->in_flight = 0;
      ++model->next_txn;
    }
  } catch (const std::exception& e) {
    if (killed->load()) return "";
    return std::string("retryable writer, before the kill: ") + e.what();
  }
}

std::string CheckRetryable(const std::string& socket_path, RetryableModel* model) {
  try {
    bench::WireClient wire(socket_path);
    std::vector<int64_t> before = Counters(&wire);
    const int64_t acked = model->acknowledged;
    const int64_t cut = model->in_flight;
    // Each counter holds the writes acknowledged, and the cut one's statements that had
    // committed: a prefix of the ordered batch.
    int done = 0;
    while (done < kCounters && before[done] == acked + 1) ++done;
    for (int i = 0; i < kCounters; ++i) {
      if (before[i] != acked + (i < done ? 1 : 0) || (cut == 0 && done > 0)) {
        return "the retryable counters are " + Show(before) + " after a kill; acknowledged " + std::to_string(acked) +
               (cut != 0 ? ", one more was in flight" : "");
      }
    }
    if (cut == 0) return "";
    Outcome r = Send(&wire, Increment(*model, cut));
    // Every statement's outcome is known again (the batch is resumed): 217 is a failure.
    if (r.code != 0 || !r.one) {
      return "the retry of write " + std::to_string(cut) + " (" + std::to_string(done) + " of its " +
             std::to_string(kCounters) + " statements committed before the kill) answered " + r.text;
    }
    ++(done == kCounters ? model->retried_from_history : done == 0 ? model->retried_ran : model->retried_resumed);
    std::vector<int64_t> after = Counters(&wire);
    for (int i = 0; i < kCounters; ++i) {
      if (after[i] != acked + 1) {
        return "after retrying write " + std::to_string(cut) + " (" + std::to_string(done) +
               " statements committed before the kill) the counters are " + Show(after) + ", expected " +
               std::to_string(acked + 1) + " each";
      }
    }
    model->acknowledged = acked + 1;
    model->in_flight = 0;
    model->next_txn = cut + 1;
  } catch (const std::exception& e) {
    return std::string("checking the retryable writes: ") + e.what();
  }
  return "";
}

}  // namespace micromongo::torture
