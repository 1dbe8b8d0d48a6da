#pragma once

// The crash torture's retryable writer: through the wire protocol, as a driver with
// retryWrites, one session (the same lsid in every round) sends retryable writes 1, 2, 3,
// ..., each an ordered update of kCounters statements incrementing kCounters counters
// with $inc (a statement per counter, each its own commit). After each restart it first
// retries the write the kill cut off, with the same txnNumber, as a driver does once the
// server is back. Every counter must then equal the writes acknowledged: the statements a
// cut write had committed are answered from the history stored with the data
// (retry_history.h), never applied twice; the others run now.

#include <atomic>
#include <cstdint>
#include <string>

namespace micromongo::torture {

inline constexpr const char* kRetryDb = "torture_r";
inline constexpr const char* kRetryColl = "r";
inline constexpr int kCounters = 3;

struct RetryableModel {
  std::string lsid;          // the session's id (16 bytes), fixed over rounds
  int64_t next_txn = 1;      // the next write's txnNumber
  int64_t acknowledged = 0;  // increments acknowledged (the counter's value)
  int64_t in_flight = 0;     // the txnNumber of the write cut by the kill (0: none)
  // Cut writes that had committed: answered from the history (the stored reply, or the
  // commit's counts when the kill came before the reply's record), not run again.
  int64_t retried_from_history = 0;
  int64_t retried_ran = 0;  // cut writes that had not: run by the retry
  // Cut between its statements: the retry answered those done and ran the others.
  int64_t retried_resumed = 0;
};

// Runs increments over the worker's unix socket until the connection fails after `killed`
// is set. "" when all went as it should; else the failure.
std::string RunRetryableWriter(const std::string& socket_path, RetryableModel* model,
                               const std::atomic<bool>* killed);

// After a restart: retries the cut write and checks the counter; "" if all is well.
std::string CheckRetryable(const std::string& socket_path, RetryableModel* model);

}  // namespace micromongo::torture
