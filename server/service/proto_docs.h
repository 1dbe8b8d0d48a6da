#pragma once

// Conversions between the service messages' documents and errors (micromongo.v1.Doc,
// v1.ErrorInfo) and the server's BSON bytes and absl::Status. No gRPC: the operations
// behind both transports use these.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "micromongo/v1/micromongo.pb.h"

namespace micromongo::service {

// The document's validated BSON: BSON as sent (checked), or Extended JSON parsed. An unset
// Doc is the empty document. Errors: 22 (InvalidBSON), 9 (FailedToParse), 10334 (too big).
absl::StatusOr<std::string> DocToBson(const v1::Doc& doc);

// Checks BSON bytes as DocToBson does, without copying them.
absl::Status CheckBsonDoc(std::string_view bson);

// Appends the documents of a BSON document sequence (documents back to back) to `docs`,
// each checked as CheckBsonDoc does; 22 (InvalidBSON) when the lengths do not frame it.
absl::Status SplitDocumentSequence(std::string_view sequence, std::vector<std::string_view>* docs);

// How many documents a document sequence frames (up to where its lengths stop framing it).
size_t CountSequenceDocuments(std::string_view sequence);

// Fills `out` with `bson`, as relaxed Extended JSON when `json`.
void SetDoc(v1::Doc* out, std::string bson, bool json);

void FillErrorInfo(const absl::Status& status, int index, v1::ErrorInfo* info);

}  // namespace micromongo::service
