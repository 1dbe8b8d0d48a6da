// The Insert operation's request forms: documents one message each, as one BSON document
// sequence (documents back to back, as OP_MSG carries them), or both. What is stored, the
// write error indexes and the answer to a sequence whose lengths do not frame it.

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "document/builder.h"
#include "document/status.h"
#include "service/crud.h"
#include "service/data_operations.h"
#include "service/proto_docs.h"
#include "service/service_test_util.h"

namespace micromongo::service {
namespace {

using testing_util::Bson;

std::string Int32Bytes(int32_t n) { return std::string(reinterpret_cast<const char*>(&n), 4); }

TEST(SplitDocumentSequenceTest, FramesDocumentsBackToBack) {
  const std::string a = Bson(R"({"_id": 1})"), b = Bson(R"({"x": [[1]], "y": null})"), empty = Bson("{}");
  struct Case {
    const char* name;
    std::string sequence;
    std::vector<std::string> docs;  // expected; empty with `code` set for a failure
    int code = 0;
  };
  const std::vector<Case> cases = {
      {"nothing", "", {}},
      {"one", a, {a}},
      {"three, the last empty", a + b + empty, {a, b, empty}},
      {"a length past the end", a + b.substr(0, b.size() - 1), {}, kInvalidBSON},
      {"fewer than four bytes left", a + std::string("\x05\x00", 2), {}, kInvalidBSON},
      {"a length under five", Int32Bytes(4) + std::string(1, '\0'), {}, kInvalidBSON},
      {"a negative length", Int32Bytes(-7) + a, {}, kInvalidBSON},
      {"a framed document that is not BSON", a + Int32Bytes(6) + std::string("\x01\x00", 2), {}, kInvalidBSON},
  };
  for (const Case& c : cases) {
    std::vector<std::string_view> docs;
    absl::Status s = SplitDocumentSequence(c.sequence, &docs);
    if (c.code != 0) {
      EXPECT_EQ(MongoCodeOf(s), c.code) << c.name << ": " << s;
      continue;
    }
    ASSERT_TRUE(s.ok()) << c.name << ": " << s;
    ASSERT_EQ(docs.size(), c.docs.size()) << c.name;
    for (size_t i = 0; i < docs.size(); ++i) EXPECT_EQ(docs[i], c.docs[i]) << c.name << " #" << i;
  }
}

TEST(SplitDocumentSequenceTest, CountsWhatTheLengthsFrame) {
  const std::string a = Bson(R"({"_id": 1})");
  EXPECT_EQ(CountSequenceDocuments(""), 0u);
  EXPECT_EQ(CountSequenceDocuments(a + a + a), 3u);
  EXPECT_EQ(CountSequenceDocuments(a + a.substr(0, 6)), 1u);
  EXPECT_EQ(CountSequenceDocuments(Int32Bytes(3) + a), 0u);
}

class InsertRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mm-insert-request-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    auto engine = storage::Engine::Open({.data_dir = dir_});
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    ops_ = std::make_unique<DataOperations>(engine_.get(), &cursors_);
  }
  void TearDown() override {
    ops_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  v1::InsertRequest Request(const std::vector<std::string>& documents, const std::vector<std::string>& sequence,
                            bool ordered = true) {
    v1::InsertRequest req;
    req.set_database("db");
    req.set_collection("c");
    req.set_unordered(!ordered);
    for (const std::string& d : documents) req.add_documents()->set_bson(d);
    for (const std::string& d : sequence) req.mutable_document_sequence()->append(d);
    return req;
  }

  // The stored documents in _id order, as BSON.
  std::vector<std::string> Stored() {
    v1::FindRequest find;
    find.set_database("db");
    find.set_collection("c");
    find.mutable_sort()->set_bson(Bson(R"({"_id": 1})"));
    v1::CursorReply reply;
    EXPECT_TRUE(ops_->Find(&find, &reply).ok());
    std::vector<std::string> out;
    for (const v1::Doc& d : reply.documents()) out.push_back(d.bson());
    return out;
  }

  std::string dir_;
  std::unique_ptr<storage::Engine> engine_;
  CursorManager cursors_{std::chrono::minutes(10)};
  std::unique_ptr<DataOperations> ops_;
};

TEST_F(InsertRequestTest, SequenceFollowsDocumentsInRequestOrder) {
  v1::InsertRequest req = Request({Bson(R"({"_id": 1, "a": [[2]]})")},
                                  {Bson(R"({"_id": 2, "a": null})"), Bson(R"({"a": {"$numberDecimal": "1.5"}, "_id": 3})")});
  v1::InsertReply reply;
  ASSERT_TRUE(ops_->Insert(&req, &reply).ok());
  EXPECT_EQ(reply.inserted_count(), 3);
  EXPECT_EQ(reply.write_errors_size(), 0);
  EXPECT_EQ(reply.inserted_ids().bson(), Bson(R"({"0": 1, "1": 2, "2": 3})"));
  // Stored as sent, _id moved first where it was not.
  EXPECT_EQ(Stored(), (std::vector<std::string>{Bson(R"({"_id": 1, "a": [[2]]})"), Bson(R"({"_id": 2, "a": null})"),
                                                Bson(R"({"_id": 3, "a": {"$numberDecimal": "1.5"}})")}));
}

TEST_F(InsertRequestTest, SequenceDocumentsWithoutIdGetOne) {
  v1::InsertRequest req = Request({}, {Bson(R"({"x": 1})"), Bson(R"({"x": 2})")});
  v1::InsertReply reply;
  ASSERT_TRUE(ops_->Insert(&req, &reply).ok());
  EXPECT_EQ(reply.inserted_count(), 2);
  std::vector<std::string> stored = Stored();
  ASSERT_EQ(stored.size(), 2u);
  for (const std::string& d : stored) {
    bson::DocView view(d);
    ASSERT_NE(view.begin(), view.end());
    EXPECT_EQ(view.begin()->key, "_id");
    EXPECT_EQ(view.begin()->value.type, BsonType::kObjectId);
  }
}

TEST_F(InsertRequestTest, WriteErrorIndexesCountDocumentsFirst) {
  // Index 0 in documents, 1 and 2 in the sequence; 2 repeats _id 1.
  for (bool ordered : {true, false}) {
    SCOPED_TRACE(ordered ? "ordered" : "unordered");
    TearDown();
    SetUp();
    v1::InsertRequest req = Request({Bson(R"({"_id": 1})")},
                                    {Bson(R"({"_id": 2})"), Bson(R"({"_id": 1})"), Bson(R"({"_id": 4})")}, ordered);
    v1::InsertReply reply;
    ASSERT_TRUE(ops_->Insert(&req, &reply).ok());
    ASSERT_EQ(reply.write_errors_size(), 1);
    EXPECT_EQ(reply.write_errors(0).index(), 2);
    EXPECT_EQ(reply.write_errors(0).code(), kDuplicateKey);
    EXPECT_EQ(reply.inserted_count(), ordered ? 2 : 3);
    EXPECT_EQ(Stored().size(), ordered ? 2u : 3u);
  }
}

TEST_F(InsertRequestTest, BadSequenceStoresNothing) {
  v1::InsertRequest req = Request({Bson(R"({"_id": 1})")}, {Bson(R"({"_id": 2})")});
  req.mutable_document_sequence()->append(Int32Bytes(200) + "\x10" "a");  // cut short
  v1::InsertReply reply;
  absl::Status s = ops_->Insert(&req, &reply);
  EXPECT_EQ(MongoCodeOf(s), kInvalidBSON) << s;
  EXPECT_TRUE(Stored().empty());
}

}  // namespace
}  // namespace micromongo::service
