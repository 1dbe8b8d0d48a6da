#include "wire/message.h"

#include <array>
#include <cstring>

#include "document/status.h"

namespace micromongo::wire {
namespace {

int32_t ReadInt32At(std::string_view bytes, size_t at) {
  int32_t v;
  std::memcpy(&v, bytes.data() + at, 4);
  return v;
}

void PutInt32(std::string* out, int32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

void PutInt32At(std::string* out, size_t at, int32_t v) { std::memcpy(out->data() + at, &v, 4); }

absl::Status Protocol(std::string_view what) { return MongoError(kProtocolError, what); }

// A BSON document at the front of `rest`, validated; advances `rest` past it.
absl::StatusOr<bson::DocView> TakeDocument(std::string_view* rest, std::string_view what) {
  if (rest->size() < 5) return Protocol(StrCat(what, ": truncated document"));
  int32_t size = ReadInt32At(*rest, 0);
  if (size < 5 || static_cast<size_t>(size) > rest->size()) {
    return Protocol(StrCat(what, ": document length ", size, " outside the message"));
  }
  std::string_view bytes = rest->substr(0, size);
  if (auto s = bson::Validate(bytes); !s.ok()) return s;
  rest->remove_prefix(size);
  return bson::DocView(bytes);
}

// A NUL-terminated string at the front of `rest`; advances past the NUL.
absl::StatusOr<std::string_view> TakeCString(std::string_view* rest, std::string_view what) {
  size_t nul = rest->find('\0');
  if (nul == std::string_view::npos) return Protocol(StrCat(what, ": unterminated string"));
  std::string_view s = rest->substr(0, nul);
  rest->remove_prefix(nul + 1);
  return s;
}

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

uint32_t Crc32c(std::string_view bytes) {
  // Byte-wise table lookup: checksums are optional and drivers rarely send them, so
  // this is off the hot path.
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

absl::StatusOr<Header> ParseHeader(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) return Protocol("message shorter than its header");
  Header h{ReadInt32At(bytes, 0), ReadInt32At(bytes, 4), ReadInt32At(bytes, 8),
           ReadInt32At(bytes, 12)};
  if (h.length < static_cast<int32_t>(kHeaderBytes)) {
    return Protocol(StrCat("message length ", h.length, " is shorter than a header"));
  }
  if (h.length > kMaxMessageBytes) {
    return Protocol(StrCat("message length ", h.length, " exceeds the maximum of ",
                           kMaxMessageBytes));
  }
  return h;
}

absl::StatusOr<OpMsg> ParseOpMsg(std::string_view message) {
  auto header = ParseHeader(message);
  if (!header.ok()) return header.status();
  if (static_cast<size_t>(header->length) != message.size()) {
    return Protocol("OP_MSG length does not match its bytes");
  }
  if (message.size() < kHeaderBytes + 4) return Protocol("OP_MSG without flags");
  OpMsg msg;
  msg.flags = static_cast<uint32_t>(ReadInt32At(message, kHeaderBytes));
  constexpr uint32_t kKnownRequired = kChecksumPresent | kMoreToCome;
  if (uint32_t unknown = msg.flags & 0xFFFF & ~kKnownRequired; unknown != 0) {
    return Protocol(StrCat("OP_MSG has unsupported required flag bits ", unknown));
  }
  std::string_view rest = message.substr(kHeaderBytes + 4);
  if (msg.flags & kChecksumPresent) {
    if (rest.size() < 4) return Protocol("OP_MSG checksum missing");
    uint32_t sent = static_cast<uint32_t>(ReadInt32At(rest, rest.size() - 4));
    if (sent != Crc32c(message.substr(0, message.size() - 4))) {
      return Protocol("OP_MSG checksum does not match its contents");
    }
    rest.remove_suffix(4);
  }
  bool have_body = false;
  while (!rest.empty()) {
    char kind = rest[0];
    rest.remove_prefix(1);
    if (kind == 0) {
      if (have_body) return Protocol("OP_MSG has more than one body section");
      auto body = TakeDocument(&rest, "OP_MSG body");
      if (!body.ok()) return body.status();
      msg.body = *body;
      have_body = true;
    } else if (kind == 1) {
      if (rest.size() < 4) return Protocol("OP_MSG document sequence truncated");
      int32_t size = ReadInt32At(rest, 0);
      if (size < 5 || static_cast<size_t>(size) > rest.size()) {
        return Protocol("OP_MSG document sequence length outside the message");
      }
      std::string_view section = rest.substr(4, size - 4);
      rest.remove_prefix(size);
      DocumentSequence seq;
      auto id = TakeCString(&section, "OP_MSG document sequence");
      if (!id.ok()) return id.status();
      if (!bson::IsValidUtf8(*id)) return Protocol("OP_MSG document sequence identifier is not UTF-8");
      seq.identifier = *id;
      while (!section.empty()) {
        auto doc = TakeDocument(&section, "OP_MSG document sequence");
        if (!doc.ok()) return doc.status();
        seq.documents.push_back(*doc);
      }
      for (const DocumentSequence& other : msg.sequences) {
        if (other.identifier == seq.identifier) {
          return Protocol(StrCat("OP_MSG has two document sequences named ", seq.identifier));
        }
      }
      msg.sequences.push_back(std::move(seq));
    } else {
      return Protocol(StrCat("OP_MSG has a section of unknown kind ", static_cast<int>(kind)));
    }
  }
  if (!have_body) return Protocol("OP_MSG without a body section");
  return msg;
}

absl::StatusOr<OpQuery> ParseOpQuery(std::string_view message) {
  auto header = ParseHeader(message);
  if (!header.ok()) return header.status();
  if (static_cast<size_t>(header->length) != message.size()) {
    return Protocol("OP_QUERY length does not match its bytes");
  }
  std::string_view rest = message.substr(kHeaderBytes);
  if (rest.size() < 4) return Protocol("OP_QUERY truncated");
  OpQuery q;
  q.flags = ReadInt32At(rest, 0);
  rest.remove_prefix(4);
  auto name = TakeCString(&rest, "OP_QUERY");
  if (!name.ok()) return name.status();
  q.full_collection_name = *name;
  if (rest.size() < 8) return Protocol("OP_QUERY truncated");
  q.number_to_skip = ReadInt32At(rest, 0);
  q.number_to_return = ReadInt32At(rest, 4);
  rest.remove_prefix(8);
  auto query = TakeDocument(&rest, "OP_QUERY query");
  if (!query.ok()) return query.status();
  q.query = *query;
  if (!rest.empty()) {  // the optional returnFieldsSelector
    auto fields = TakeDocument(&rest, "OP_QUERY returnFieldsSelector");
    if (!fields.ok()) return fields.status();
  }
  if (!rest.empty()) return Protocol("OP_QUERY has bytes after its documents");
  return q;
}

std::string BuildOpMsg(int32_t request_id, int32_t response_to, uint32_t flags,
                       std::string_view body) {
  std::string out;
  out.reserve(kHeaderBytes + 5 + body.size());
  PutInt32(&out, 0);
  PutInt32(&out, request_id);
  PutInt32(&out, response_to);
  PutInt32(&out, kOpMsg);
  PutInt32(&out, static_cast<int32_t>(flags & ~kChecksumPresent));
  out.push_back(0);
  out.append(body);
  PutInt32At(&out, 0, static_cast<int32_t>(out.size()));
  return out;
}

std::string BuildOpReply(int32_t request_id, int32_t response_to, std::string_view document) {
  std::string out;
  out.reserve(kHeaderBytes + 20 + document.size());
  PutInt32(&out, 0);
  PutInt32(&out, request_id);
  PutInt32(&out, response_to);
  PutInt32(&out, kOpReply);
  PutInt32(&out, 0);  // responseFlags
  int64_t cursor_id = 0;
  out.append(reinterpret_cast<const char*>(&cursor_id), 8);
  PutInt32(&out, 0);  // startingFrom
  PutInt32(&out, 1);  // numberReturned
  out.append(document);
  PutInt32At(&out, 0, static_cast<int32_t>(out.size()));
  return out;
}

}  // namespace micromongo::wire
