#include "document/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace micromongo {
namespace {

constexpr char kCodePayload[] = "type.micromongo/mongo-code";
constexpr char kDetailsPayload[] = "type.micromongo/error-details";

absl::StatusCode CanonicalCode(int code) {
  switch (code) {
    case kDuplicateKey:
    case kNamespaceExists:
      return absl::StatusCode::kAlreadyExists;
    case kNamespaceNotFound:
    case kCursorNotFound:
    case kNoSuchKey:
      return absl::StatusCode::kNotFound;
    case kMaxTimeMSExpired:
      return absl::StatusCode::kDeadlineExceeded;
    case kLockBusy:
      return absl::StatusCode::kFailedPrecondition;
    case kHostUnreachable:
    case kShutdownInProgress:
      return absl::StatusCode::kUnavailable;
    case kInterrupted:
      return absl::StatusCode::kCancelled;
    case kNotImplemented:
      return absl::StatusCode::kUnimplemented;
    case kInternalError:
    case kOperationFailed:
      return absl::StatusCode::kInternal;
    default:
      return absl::StatusCode::kInvalidArgument;
  }
}

}  // namespace

absl::Status MongoError(int code, std::string_view message) {
  absl::Status status(CanonicalCode(code), CatArg(message));
  status.SetPayload(kCodePayload, absl::Cord(std::to_string(code)));
  return status;
}

absl::Status MongoError(int code, std::string_view message, std::string details_bson) {
  absl::Status status = MongoError(code, message);
  status.SetPayload(kDetailsPayload, absl::Cord(std::move(details_bson)));
  return status;
}

std::string ErrorDetailsOf(const absl::Status& status) {
  auto payload = status.GetPayload(kDetailsPayload);
  return payload ? std::string(*payload) : std::string();
}

int MongoCodeOf(const absl::Status& status) {
  if (status.ok()) return 0;
  if (auto payload = status.GetPayload(kCodePayload)) {
    int code = 0;
    if (absl::SimpleAtoi(std::string(*payload), &code)) return code;
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return kBadValue;
    case absl::StatusCode::kNotFound: return kNamespaceNotFound;
    case absl::StatusCode::kAlreadyExists: return kDuplicateKey;
    case absl::StatusCode::kUnavailable: return kHostUnreachable;
    case absl::StatusCode::kDeadlineExceeded: return kMaxTimeMSExpired;
    case absl::StatusCode::kUnimplemented: return kNotImplemented;
    default: return kInternalError;
  }
}

}  // namespace micromongo
