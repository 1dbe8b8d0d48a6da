#pragma once

// The crash torture's retryable writer: through the wire protocol, as a driver with
// retryWrites, one session (the same lsid in every round) increments a counter with $inc
// as retryable writes 1, 2, 3, ... After each restart it first retries the write the kill
// cut off, with the same txnNumber, as a driver does once the server is back. The counter
// must then equal the number of increments acknowledged: a cut write that had committed is
// answered from the history stored with the data (retry_history.h), never applied twice;
// one that had not runs now.

#include <atomic>
#include <cstdint>
#include <string>

namespace micromongo::torture {

inline constexpr const char* kRetryDb = "torture_r";
inline constexpr const char* kRetryColl = "r";

struct RetryableModel {
  std::string lsid;          // the session's id (16 bytes), fixed over rounds
  int64_t next_txn = 1;      // the next write's txnNumber
  int64_t acknowledged = 0;  // increments acknowledged (the counter's value)
  int64_t in_flight = 0;     // the txnNumber of the write cut by the kill (0: none)
  // Cut writes that had committed: answered from the history (the stored reply, or the
  // commit's counts when the kill came before the reply's record), not run again.
  int64_t retried_from_history = 0;
  int64_t retried_ran = 0;  // cut writes that had not: run by the retry
};

// Runs increments over the worker's unix socket until the connection fails after `killed`
// is set. "" when all went as it should; else the failure.
std::string RunRetryableWriter(const std::string& socket_path, RetryableModel* model,
                               const std::atomic<bool>* killed);

// After a restart: retries the cut write and checks the counter; "" if all is well.
std::string CheckRetryable(const std::string& socket_path, RetryableModel* model);

}  // namespace micromongo::torture
