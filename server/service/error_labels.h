#pragma once

// MongoDB's error labels (its ErrorLabelBuilder): what a client may do after an error —
// run the whole transaction again, retry the write, resume a change stream or not. The
// MongoDB wire protocol and the gRPC services label errors the same way.

#include <string>
#include <vector>

namespace micromongo::service {

// What the labels depend on besides the codes.
struct LabelContext {
  bool in_transaction = false;          // a statement of a multi-statement transaction
  bool retryable_write = false;         // txnNumber without autocommit
  bool commit_or_abort = false;         // commitTransaction / abortTransaction
  bool change_stream_get_more = false;  // a getMore of a change stream's cursor
};

// The labels MongoDB's server puts on an error (`code`) or a write concern error
// (`wc_code`, 0 for none): TransientTransactionError, RetryableWriteError,
// NonResumableChangeStreamError, ResumableChangeStreamError.
std::vector<std::string> ServerLabels(int code, int wc_code, const LabelContext& ctx);

}  // namespace micromongo::service
