#pragma once

// What one request did, for the slow-operation log: the plan it ran and how much it read.
// The service installs an OpDebug for each request on the thread that runs it; query
// executors report into the current one (CurrentOpDebug()) without knowing the request.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace micromongo {

struct OpDebug;

// Something that accumulates statistics while a request uses it (a query's executor) and
// reports them into the request's OpDebug.
class OpStatsSource {
 public:
  virtual ~OpStatsSource() = default;
  // Adds what was examined since the last report; sets op->plan_summary if it is empty and
  // `with_summary` (a summary costs a walk of the plan: only slow requests want it).
  virtual void ReportStats(OpDebug* op, bool with_summary) = 0;
};

struct OpDebug {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  // Requests at least this slow are logged; their executors add a plan summary.
  std::chrono::milliseconds slow{100};
  std::string plan_summary;  // MongoDB's: "COLLSCAN", "IXSCAN { a: 1 }", "IDHACK", ...
  int64_t keys_examined = 0;
  int64_t docs_examined = 0;
  int64_t nreturned = 0;
  // The source reporting to this request now (it reports the rest when it goes away or
  // when the request ends, whichever comes first).
  OpStatsSource* live = nullptr;

  bool is_slow() const { return std::chrono::steady_clock::now() - start >= slow; }
  // Takes the final report of the live source (at the end of the request).
  void Finish() {
    if (live != nullptr) live->ReportStats(this, is_slow());
    live = nullptr;
  }
};

// The current thread's request, or nullptr.
OpDebug* CurrentOpDebug();
// Makes `op` the current thread's request (null: none). The thread keeps a reference, so a
// request that ends elsewhere never leaves a dangling one behind.
void SetCurrentOpDebug(std::shared_ptr<OpDebug> op);

// For a source: becomes the live one of the current request (the previous one reports
// first). Cheap when it already is.
inline void ReportToCurrentOp(OpStatsSource* source) {
  OpDebug* op = CurrentOpDebug();
  if (op == nullptr || op->live == source) return;
  if (op->live != nullptr) op->live->ReportStats(op, false);
  op->live = source;
}
// For a source going away: its last report, if it is the live one.
inline void DetachFromCurrentOp(OpStatsSource* source) {
  OpDebug* op = CurrentOpDebug();
  if (op == nullptr || op->live != source) return;
  source->ReportStats(op, op->is_slow());
  op->live = nullptr;
}

}  // namespace micromongo
