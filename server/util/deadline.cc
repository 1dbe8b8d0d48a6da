#include "util/deadline.h"

#include "document/status.h"

namespace micromongo {

absl::Status Deadline::Check() const {
  if (at_ && std::chrono::steady_clock::now() > *at_) {
    return MongoError(kMaxTimeMSExpired, "operation exceeded time limit");
  }
  return absl::OkStatus();
}

}  // namespace micromongo
