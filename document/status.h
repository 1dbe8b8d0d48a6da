#pragma once

// absl::Status carrying MongoDB error codes. Storage and server code never throws; they
// return these, and the service maps them onto gRPC statuses (and the client onto
// micromongo::Error exceptions).

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace micromongo {

// absl::StrCat that also takes std::string_view (Debian's Abseil has its own string_view).
inline absl::string_view CatArg(std::string_view s) { return {s.data(), s.size()}; }
template <typename T>
const T& CatArg(const T& v) {
  return v;
}
template <typename... Args>
std::string StrCat(const Args&... args) {
  return absl::StrCat(CatArg(args)...);
}

// MongoDB's error codes (src/mongo/base/error_codes.yml) that micro-mongo uses.
enum ErrorCode : int {
  kInternalError = 1,
  kBadValue = 2,
  kNoSuchKey = 4,
  kHostUnreachable = 6,
  kFailedToParse = 9,
  kTypeMismatch = 14,
  kOverflow = 15,
  kInvalidLength = 16,
  kAuthenticationFailed = 18,
  kIllegalOperation = 20,
  kInvalidBSON = 22,
  kNamespaceNotFound = 26,
  kIndexNotFound = 27,
  kCannotIndexParallelArrays = 171,
  kIndexOptionsConflict = 85,
  kIndexKeySpecsConflict = 86,
  kCannotCreateIndex = 67,
  kGraphContainsCycle = 5,
  kPathNotViable = 28,
  kConflictingUpdateOperators = 40,
  kCursorNotFound = 43,
  kCappedPositionLost = 136,
  kQueryPlanKilled = 175,
  kLockBusy = 46,
  kNamespaceExists = 48,
  kMaxTimeMSExpired = 50,
  kDollarPrefixedFieldName = 52,
  kEmptyFieldName = 56,
  kImmutableField = 66,
  kInvalidOptions = 72,
  kInvalidIndexSpecificationOption = 197,
  kInvalidNamespace = 73,
  kInterrupted = 11601,
  kShutdownInProgress = 91,
  kOperationFailed = 96,
  kBSONObjectTooLarge = 10334,
  kDuplicateKey = 11000,
  kDocumentValidationFailure = 121,
  kCommandNotSupportedOnView = 166,
  kOptionNotSupportedOnView = 167,
  kNotImplemented = 238,
  kInvalidPipelineOperator = 168,
  kConversionFailure = 241,
  kExceededMemoryLimit = 146,
  kQueryExceededMemoryLimitNoDiskUseAllowed = 292,
  kNoQueryExecutionPlans = 291,
  kNoMatchingDocument = 47,
  kInvalidResumeToken = 260,
  kChangeStreamFatalError = 280,
  kChangeStreamHistoryLost = 286,
  kResumeOptionsConflict = 40674,
  kDataCorruptionDetected = 301,
  kOutOfDiskSpace = 14031,
  kProtocolError = 17,
  kCommandNotFound = 59,
  kUnsupportedOpQueryCommand = 352,
  kUnauthorized = 13,
  kMechanismUnavailable = 334,
  kWriteConflict = 112,
  kTransactionTooOld = 225,
  kIncompleteTransactionHistory = 217,
  kNoSuchTransaction = 251,
  kTransactionCommitted = 256,
  kOperationNotSupportedInTransaction = 263,
  kTransactionExceededLifetimeLimitSeconds = 290,
  kUnknownBsonField = 40415,  // IDL: a command field MongoDB does not know (Location40415)
};

// MongoDB's name of `code` ("DuplicateKey"), or "Location<code>" for codes that MongoDB
// raises from one place only and leaves unnamed ("Location31254").
std::string ErrorCodeName(int code);

// A non-OK status with MongoDB `code`, mapped onto the closest absl canonical code.
absl::Status MongoError(int code, std::string_view message);
// The same with extra fields of MongoDB's error response as a BSON document (keyPattern and
// keyValue of a DuplicateKey, errInfo of a DocumentValidationFailure).
absl::Status MongoError(int code, std::string_view message, std::string details_bson);
// The extra fields a status carries (empty if none).
std::string ErrorDetailsOf(const absl::Status& status);

// The MongoDB code a status carries: its payload, or one derived from its canonical code.
int MongoCodeOf(const absl::Status& status);

// Largest BSON document MongoDB stores (16 MiB).
inline constexpr size_t kMaxBsonObjectSize = 16 * 1024 * 1024;

// Nesting limits, counting the top-level document as the first level. Requests may nest
// documents and arrays kMaxBsonDepth levels (MongoDB's maxBSONDepth default); stored
// documents kMaxStorageDepth (the manual's limit for BSON documents). Every recursive parser
// and evaluator relies on these bounds: input deeper than this is refused before anything
// recurses over it.
inline constexpr int kMaxBsonDepth = 200;
inline constexpr int kMaxStorageDepth = 100;

}  // namespace micromongo
