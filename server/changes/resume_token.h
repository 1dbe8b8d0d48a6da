#pragma once

// Change-stream resume tokens: {_data: "<hex>"}, as MongoDB's are (opaque hex strings that
// sort in event order). Ours hold the event's cluster time (16 hex digits) and a kind
// (2 hex digits): an event, the invalidate that follows a drop or rename, or a high-water
// mark (no event: the stream has seen every change up to the time).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "document/bson_view.h"

namespace micromongo::changes {

struct ResumeToken {
  enum class Kind : uint8_t { kEvent = 0, kInvalidate = 1, kHighWaterMark = 2 };
  uint64_t time = 0;  // cluster time (seconds << 32 | increment)
  Kind kind = Kind::kEvent;

  // {_data: "..."} as BSON.
  std::string ToBson() const;
  // Errors: 9 (FailedToParse) for a document that is not one of our tokens.
  static absl::StatusOr<ResumeToken> Parse(bson::DocView token);
};

}  // namespace micromongo::changes
