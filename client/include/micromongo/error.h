#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "micromongo/results.h"

namespace micromongo {

// The base of every exception the client library throws. `code()` and `code_name()` are
// MongoDB's (e.g. 11000 / "DuplicateKey"); errors that are not MongoDB's own (a worker that
// died, a malformed URI) use the codes MongoDB drivers use for them where one exists.
class Error : public std::runtime_error {
 public:
  Error(int code, std::string code_name, const std::string& message, Document details = {});

  int code() const noexcept { return code_; }
  const std::string& code_name() const noexcept { return code_name_; }
  // Further fields of the server's error response, empty when there are none: keyPattern
  // and keyValue for DuplicateKey (11000), errInfo ({failingDocumentId, details}) for
  // DocumentValidationFailure (121).
  const Document& details() const noexcept { return details_; }
  // MongoDB's error labels: "TransientTransactionError" (the whole transaction may be run
  // again), "UnknownTransactionCommitResult" (the commit may be retried: whether it
  // happened is not known), and the others MongoDB's servers and drivers give.
  const std::vector<std::string>& error_labels() const noexcept { return labels_; }
  bool HasErrorLabel(std::string_view label) const noexcept;
  void AddErrorLabel(std::string label);

 private:
  int code_;
  std::string code_name_;
  Document details_;
  std::vector<std::string> labels_;
};

// A write conflicted with an existing value of a unique key (code 11000).
class DuplicateKeyError : public Error {
 public:
  using Error::Error;
};

// The worker process cannot be reached: it died, was terminated, or never answered.
// code() is 6 (HostUnreachable); the message says which of these happened.
class WorkerError : public Error {
 public:
  using Error::Error;
};

// One per-document failure inside an insertMany / bulk write.
struct WriteError {
  int index = 0;  // position of the failing document in the request
  int code = 0;
  std::string code_name;
  std::string message;
  Document details;  // as Error::details()
};

// An InsertMany or BulkWrite in which some writes failed. What succeeded stays written;
// `result()` says what it was.
class BulkWriteError : public Error {
 public:
  BulkWriteError(std::vector<WriteError> errors, BulkWriteResult result);

  const std::vector<WriteError>& write_errors() const noexcept { return errors_; }
  const BulkWriteResult& result() const noexcept { return result_; }
  int64_t inserted_count() const noexcept { return result_.inserted_count; }

 private:
  std::vector<WriteError> errors_;
  BulkWriteResult result_;
};

}  // namespace micromongo
