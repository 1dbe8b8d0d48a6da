#pragma once

// Conversions between the service messages' documents and errors (micromongo.v1.Doc,
// v1.ErrorInfo) and the server's BSON bytes and absl::Status. No gRPC: the operations
// behind both transports use these.

#include <string>

#include "absl/status/statusor.h"
#include "micromongo/v1/micromongo.pb.h"

namespace micromongo::service {

// The document's validated BSON: BSON as sent (checked), or Extended JSON parsed. An unset
// Doc is the empty document. Errors: 22 (InvalidBSON), 9 (FailedToParse), 10334 (too big).
absl::StatusOr<std::string> DocToBson(const v1::Doc& doc);

// Fills `out` with `bson`, as relaxed Extended JSON when `json`.
void SetDoc(v1::Doc* out, std::string bson, bool json);

void FillErrorInfo(const absl::Status& status, int index, v1::ErrorInfo* info);

}  // namespace micromongo::service
