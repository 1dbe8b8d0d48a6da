#include "wire/message.h"

#include <gtest/gtest.h>

#include <cstring>

#include "document/json.h"
#include "document/status.h"

namespace micromongo::wire {
namespace {

std::string Bson(std::string_view json) { return *bson::JsonToBson(json); }

void PutInt32(std::string* out, int32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

// An OP_MSG from raw sections (each already prefixed by its kind byte).
std::string Msg(uint32_t flags, const std::vector<std::string>& sections, bool checksum = false) {
  std::string m;
  PutInt32(&m, 0);
  PutInt32(&m, 7);
  PutInt32(&m, 0);
  PutInt32(&m, kOpMsg);
  PutInt32(&m, static_cast<int32_t>(flags | (checksum ? kChecksumPresent : 0)));
  for (const std::string& s : sections) m += s;
  int32_t length = static_cast<int32_t>(m.size() + (checksum ? 4 : 0));
  std::memcpy(m.data(), &length, 4);
  if (checksum) PutInt32(&m, static_cast<int32_t>(Crc32c(m)));
  return m;
}

std::string Body(std::string_view json) { return std::string(1, '\0') + Bson(json); }

std::string Sequence(std::string_view id, const std::vector<std::string>& docs) {
  std::string payload(id);
  payload.push_back('\0');
  for (const std::string& d : docs) payload += d;
  std::string s(1, '\1');
  PutInt32(&s, static_cast<int32_t>(payload.size() + 4));
  return s + payload;
}

TEST(Crc32c, KnownVectors) {
  // RFC 3720's check value for CRC-32C over "123456789".
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
}

TEST(ParseOpMsg, BodyAndSequences) {
  std::string m = Msg(0, {Body(R"({"insert": "c", "$db": "d"})"),
                          Sequence("documents", {Bson(R"({"a": 1})"), Bson(R"({"a": 2})")})});
  auto msg = ParseOpMsg(m);
  ASSERT_TRUE(msg.ok()) << msg.status();
  EXPECT_EQ(msg->body.begin()->key, "insert");
  ASSERT_EQ(msg->sequences.size(), 1u);
  EXPECT_EQ(msg->sequences[0].identifier, "documents");
  EXPECT_EQ(msg->sequences[0].documents.size(), 2u);
}

TEST(ParseOpMsg, ChecksumVerifiedWhenPresent) {
  std::string good = Msg(0, {Body(R"({"ping": 1})")}, /*checksum=*/true);
  EXPECT_TRUE(ParseOpMsg(good).ok());
  std::string bad = good;
  bad[bad.size() - 1] ^= 1;
  EXPECT_EQ(MongoCodeOf(ParseOpMsg(bad).status()), kProtocolError);
}

TEST(ParseOpMsg, MalformedMessagesAreRefused) {
  std::string ping = Body(R"({"ping": 1})");
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::string length_lie = Msg(0, {ping});
  int32_t longer = static_cast<int32_t>(length_lie.size() + 10);
  std::memcpy(length_lie.data(), &longer, 4);
  std::string truncated_doc = Msg(0, {ping.substr(0, ping.size() - 2)});
  std::string sequence_overrun = Msg(0, {ping, Sequence("documents", {Bson("{}")})});
  int32_t huge = 1000;
  std::memcpy(sequence_overrun.data() + 21 + ping.size(), &huge, 4);
  std::vector<Case> cases = {
      {"no body", Msg(0, {Sequence("documents", {Bson("{}")})})},
      {"two bodies", Msg(0, {ping, ping})},
      {"unknown section kind", Msg(0, {std::string(1, '\2') + Bson("{}")})},
      {"unknown required flag", Msg(1u << 5, {ping})},
      {"length does not match", length_lie},
      {"truncated document", truncated_doc},
      {"sequence past the end", sequence_overrun},
      {"duplicate sequences", Msg(0, {ping, Sequence("a", {}), Sequence("a", {})})},
      {"identifier not UTF-8", Msg(0, {ping, Sequence("docum\xd5nts", {Bson("{}")})})},
      {"checksum flag without checksum", Msg(kChecksumPresent, {})},
      {"header only", Msg(0, {}).substr(0, 16)},
  };
  for (const Case& c : cases) {
    auto msg = ParseOpMsg(c.bytes);
    EXPECT_FALSE(msg.ok()) << c.name;
  }
  // Optional flag bits (16 and up) that the receiver does not know are ignored.
  EXPECT_TRUE(ParseOpMsg(Msg(kExhaustAllowed | (1u << 20), {ping})).ok());
}

TEST(ParseOpMsg, InvalidBsonIsInvalidBson) {
  std::string doc = Bson(R"({"s": "x"})");
  doc[doc.size() - 2] = 'y';  // the string's terminating NUL
  auto msg = ParseOpMsg(Msg(0, {std::string(1, '\0') + doc}));
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(MongoCodeOf(msg.status()), kInvalidBSON);
}

TEST(ParseHeader, Bounds) {
  std::string h;
  PutInt32(&h, 15);
  PutInt32(&h, 1);
  PutInt32(&h, 0);
  PutInt32(&h, kOpMsg);
  EXPECT_FALSE(ParseHeader(h).ok());
  int32_t too_big = kMaxMessageBytes + 1;
  std::memcpy(h.data(), &too_big, 4);
  EXPECT_FALSE(ParseHeader(h).ok());
  int32_t ok = kMaxMessageBytes;
  std::memcpy(h.data(), &ok, 4);
  EXPECT_TRUE(ParseHeader(h).ok());
  EXPECT_FALSE(ParseHeader(h.substr(0, 10)).ok());
}

TEST(ParseOpQuery, LegacyHello) {
  std::string m;
  PutInt32(&m, 0);
  PutInt32(&m, 3);
  PutInt32(&m, 0);
  PutInt32(&m, kOpQuery);
  PutInt32(&m, 0);
  m += std::string("admin.$cmd") + '\0';
  PutInt32(&m, 0);
  PutInt32(&m, -1);
  m += Bson(R"({"isMaster": 1})");
  int32_t length = static_cast<int32_t>(m.size());
  std::memcpy(m.data(), &length, 4);
  auto q = ParseOpQuery(m);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->full_collection_name, "admin.$cmd");
  EXPECT_EQ(q->number_to_return, -1);
  EXPECT_EQ(q->query.begin()->key, "isMaster");
  EXPECT_FALSE(ParseOpQuery(m.substr(0, m.size() - 3)).ok());
}

TEST(Build, RepliesParseBack) {
  std::string body = Bson(R"({"ok": 1.0})");
  std::string reply = BuildOpMsg(5, 9, 0, body);
  auto header = ParseHeader(reply);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->length, static_cast<int32_t>(reply.size()));
  EXPECT_EQ(header->request_id, 5);
  EXPECT_EQ(header->response_to, 9);
  auto msg = ParseOpMsg(reply);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->body.bytes(), body);

  std::string legacy = BuildOpReply(6, 10, body);
  ASSERT_EQ(legacy.size(), 16 + 20 + body.size());
  int32_t op, returned;
  std::memcpy(&op, legacy.data() + 12, 4);
  std::memcpy(&returned, legacy.data() + 32, 4);
  EXPECT_EQ(op, kOpReply);
  EXPECT_EQ(returned, 1);
  EXPECT_EQ(legacy.substr(36), body);
}

}  // namespace
}  // namespace micromongo::wire
