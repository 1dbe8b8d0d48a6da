#include "service/error_labels.h"

#include <algorithm>

#include "document/status.h"

namespace micromongo::service {
namespace {

// The errors a change stream resumes after (MongoDB's ResumableChangeStreamError codes).
bool ResumableChangeStreamCode(int code) {
  static constexpr int kCodes[] = {6, 7, 89, 91, 133, 150, 189, 234, 262, 9001, 10107, 11600, 11602, 13388,
                                   13435, 13436};
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

// MongoDB's retriable error codes (ErrorCodes::isRetriableError): network and primary
// changes, which a driver retries a retryable write after.
bool RetriableCode(int code) {
  static constexpr int kCodes[] = {6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436};
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

}  // namespace

std::vector<std::string> ServerLabels(int code, int wc_code, const LabelContext& ctx) {
  std::vector<std::string> labels;
  // MongoDB's isTransientTransactionError: conflicts, lock timeouts, snapshot errors and
  // errors of a primary's change (the statement may run again on the new one), and a
  // transaction the server no longer has (except a commit's or abort's, which may have
  // happened).
  bool transient = code == kWriteConflict || code == 24 /* LockTimeout */ || code == 239 /* SnapshotTooOld */ ||
                   code == 246 /* SnapshotUnavailable */ || code == 267 /* PreparedTransactionInProgress */;
  if (ctx.commit_or_abort) {
    transient = transient || (code == kNoSuchTransaction && wc_code == 0);
  } else {
    transient = transient || code == kNoSuchTransaction || RetriableCode(code);
  }
  if (ctx.in_transaction && transient) labels.emplace_back("TransientTransactionError");
  if ((ctx.retryable_write || (ctx.in_transaction && ctx.commit_or_abort)) &&
      (RetriableCode(code) || RetriableCode(wc_code))) {
    labels.emplace_back("RetryableWriteError");
  }
  if (code == kChangeStreamFatalError) labels.emplace_back("NonResumableChangeStreamError");
  if (ctx.change_stream_get_more && ResumableChangeStreamCode(code)) labels.emplace_back("ResumableChangeStreamError");
  return labels;
}

}  // namespace micromongo::service
