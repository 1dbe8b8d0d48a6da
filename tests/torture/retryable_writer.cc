#include "retryable_writer.h"

#include <micromongo/micromongo.h>

#include <stdexcept>

#include "wire_client.h"

namespace micromongo::torture {
namespace {

using micromongo::Document;

Document Increment(const RetryableModel& model, int64_t txn) {
  Document update{{"q", Document{{"_id", 0}}}, {"u", Document{{"$inc", Document{{"n", 1}}}}}, {"upsert", true}};
  return Document{{"update", kRetryColl},
                  {"updates", Array{update}},
                  {"lsid", Document{{"id", Binary{4, model.lsid}}}},
                  {"txnNumber", txn},
                  {"$db", kRetryDb}};
}

// The reply's error code (0 for ok: 1), and whether it reports one document written.
struct Outcome {
  int code = 0;
  bool one = false;
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
  out.one = n != nullptr && n->ToDouble() == 1 && reply.Find("writeErrors") == nullptr;
  return out;
}

int64_t Counter(bench::WireClient* wire) {
  Document reply = Document::FromBson(
      wire->Run(Document{{"find", kRetryColl}, {"filter", Document{{"_id", 0}}}, {"$db", kRetryDb}}.ToBson()));
  const Array& batch = reply.GetDocument("cursor").GetArray("firstBatch");
  return batch.empty() ? 0 : batch[0].AsDocument().Find("n")->ToInt64();
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
    int64_t before = Counter(&wire);
    const int64_t cut = model->in_flight;
    if (cut == 0) {
      if (before != model->acknowledged) {
        return "the retryable counter is " + std::to_string(before) + ", " + std::to_string(model->acknowledged) +
               " increments were acknowledged";
      }
      return "";
    }
    const bool committed = before == model->acknowledged + 1;
    if (!committed && before != model->acknowledged) {
      return "the retryable counter is " + std::to_string(before) + " after a kill; acknowledged " +
             std::to_string(model->acknowledged) + ", one more was in flight";
    }
    Outcome r = Send(&wire, Increment(*model, cut));
    // A single-document update's reply is always known again: 217 would be a failure.
    if (r.code != 0 || !r.one) {
      return "the retry of write " + std::to_string(cut) + " (" + (committed ? "committed" : "not committed") +
             " before the kill) answered " + r.text;
    } else {
      ++(committed ? model->retried_from_history : model->retried_ran);
    }
    int64_t after = Counter(&wire);
    if (after != model->acknowledged + 1) {
      return "after retrying write " + std::to_string(cut) + " the counter is " + std::to_string(after) +
             ", expected " + std::to_string(model->acknowledged + 1) + (committed ? " (applied twice)" : "");
    }
    model->acknowledged = after;
    model->in_flight = 0;
    model->next_txn = cut + 1;
  } catch (const std::exception& e) {
    return std::string("checking the retryable writes: ") + e.what();
  }
  return "";
}

}  // namespace micromongo::torture
