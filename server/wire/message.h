#pragma once

// MongoDB's wire protocol messages: the standard header, OP_MSG (sections of kind 0 and 1,
// the checksum), the legacy OP_QUERY handshake and its OP_REPLY. Parsing checks every
// length against the bytes it has and every document with bson::Validate, so a message
// from the network is either parsed into views of its own bytes or refused with
// ProtocolError (17) / InvalidBSON (22); nothing here reads past the buffer.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"

namespace micromongo::wire {

enum OpCode : int32_t {
  kOpReply = 1,
  kOpQuery = 2004,
  kOpCompressed = 2012,
  kOpMsg = 2013,
};

inline constexpr size_t kHeaderBytes = 16;
// MongoDB's maxMessageSizeBytes: the largest message either side sends.
inline constexpr int32_t kMaxMessageBytes = 48'000'000;

// OP_MSG flag bits. Bits 0-15 are "required": a receiver must refuse ones it does not know.
inline constexpr uint32_t kChecksumPresent = 1u << 0;
inline constexpr uint32_t kMoreToCome = 1u << 1;
inline constexpr uint32_t kExhaustAllowed = 1u << 16;

struct Header {
  int32_t length = 0;
  int32_t request_id = 0;
  int32_t response_to = 0;
  int32_t op_code = 0;
};

// The header at the start of `bytes` (at least kHeaderBytes of them). Refuses lengths
// shorter than a header or longer than kMaxMessageBytes.
absl::StatusOr<Header> ParseHeader(std::string_view bytes);

// A kind-1 section: documents under an identifier ("documents" of an insert).
struct DocumentSequence {
  std::string_view identifier;
  std::vector<bson::DocView> documents;
};

// An OP_MSG; the views point into the message's bytes.
struct OpMsg {
  uint32_t flags = 0;
  bson::DocView body;
  std::vector<DocumentSequence> sequences;
};

// Parses a whole OP_MSG message (header included): exactly one body section, any number
// of document sequences, the CRC-32C checksum verified when flagged.
absl::StatusOr<OpMsg> ParseOpMsg(std::string_view message);

// The legacy OP_QUERY, which clients still send for their first hello.
struct OpQuery {
  int32_t flags = 0;
  std::string_view full_collection_name;  // "admin.$cmd" for a command
  int32_t number_to_skip = 0;
  int32_t number_to_return = 0;
  bson::DocView query;
};

absl::StatusOr<OpQuery> ParseOpQuery(std::string_view message);

// An OP_MSG reply carrying one body document.
std::string BuildOpMsg(int32_t request_id, int32_t response_to, uint32_t flags,
                       std::string_view body);

// An OP_REPLY carrying one document (the answer to an OP_QUERY command).
std::string BuildOpReply(int32_t request_id, int32_t response_to, std::string_view document);

// CRC-32C (Castagnoli), the OP_MSG checksum.
uint32_t Crc32c(std::string_view bytes);

}  // namespace micromongo::wire
