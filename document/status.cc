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

std::string_view ErrorCodeName(int code) {
  switch (code) {
    case 0: return "OK";
    case kInternalError: return "InternalError";
    case kBadValue: return "BadValue";
    case kNoSuchKey: return "NoSuchKey";
    case kHostUnreachable: return "HostUnreachable";
    case kFailedToParse: return "FailedToParse";
    case kTypeMismatch: return "TypeMismatch";
    case kOverflow: return "Overflow";
    case kInvalidLength: return "InvalidLength";
    case kIllegalOperation: return "IllegalOperation";
    case kInvalidBSON: return "InvalidBSON";
    case kNamespaceNotFound: return "NamespaceNotFound";
    case kIndexNotFound: return "IndexNotFound";
    case kCannotIndexParallelArrays: return "CannotIndexParallelArrays";
    case kIndexOptionsConflict: return "IndexOptionsConflict";
    case kIndexKeySpecsConflict: return "IndexKeySpecsConflict";
    case kCannotCreateIndex: return "CannotCreateIndex";
    case kGraphContainsCycle: return "GraphContainsCycle";
    case kPathNotViable: return "PathNotViable";
    case kConflictingUpdateOperators: return "ConflictingUpdateOperators";
    case kCursorNotFound: return "CursorNotFound";
    case kLockBusy: return "LockBusy";
    case kNamespaceExists: return "NamespaceExists";
    case kMaxTimeMSExpired: return "MaxTimeMSExpired";
    case kDollarPrefixedFieldName: return "DollarPrefixedFieldName";
    case kEmptyFieldName: return "EmptyFieldName";
    case kImmutableField: return "ImmutableField";
    case kInvalidOptions: return "InvalidOptions";
    case kInvalidNamespace: return "InvalidNamespace";
    case kInterrupted: return "Interrupted";
    case kShutdownInProgress: return "ShutdownInProgress";
    case kOperationFailed: return "OperationFailed";
    case kBSONObjectTooLarge: return "BSONObjectTooLarge";
    case kDuplicateKey: return "DuplicateKey";
    case kDocumentValidationFailure: return "DocumentValidationFailure";
    case kCommandNotSupportedOnView: return "CommandNotSupportedOnView";
    case kOptionNotSupportedOnView: return "OptionNotSupportedOnView";
    case kNotImplemented: return "NotImplemented";
    default: return "UnknownError";
  }
}

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
