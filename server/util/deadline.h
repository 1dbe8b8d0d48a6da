#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace micromongo {

// A server-side time limit (maxTimeMS). Scans call Check() as they go.
class Deadline {
 public:
  Deadline() = default;
  static Deadline After(int64_t millis) {
    Deadline d;
    if (millis > 0) d.at_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
    return d;
  }
  // A deadline that never passes, for references that need one to point at.
  static const Deadline& None() {
    static const Deadline kNone;
    return kNone;
  }
  // Code 50 (MaxTimeMSExpired) once passed; cheap enough to call every few documents.
  absl::Status Check() const;
  // Whole milliseconds left, at most 0 once passed; INT64_MAX without a limit.
  int64_t RemainingMillis() const {
    if (!at_) return INT64_MAX;
    return std::chrono::duration_cast<std::chrono::milliseconds>(*at_ - std::chrono::steady_clock::now()).count();
  }

 private:
  std::optional<std::chrono::steady_clock::time_point> at_;
};

}  // namespace micromongo
