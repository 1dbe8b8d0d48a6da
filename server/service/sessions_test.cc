// SessionCatalog: MongoDB's rules for txnNumber, transactions and retryable writes on one
// session, and the lifetime limit that aborts forgotten transactions.

#include "service/sessions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "document/status.h"
#include "micromongo/document.h"
#include "service/crud.h"
#include "storage/engine.h"

namespace micromongo::service {
namespace {

SessionFields Fields(int64_t txn, bool in_txn, bool start = false) {
  return {.lsid = "s1", .txn_number = txn, .in_transaction = in_txn, .start_transaction = start};
}

TEST(SessionCatalogTest, TransactionNumbersFollowMongoDbsRules) {
  SessionCatalog sessions;
  struct Step {
    SessionFields fields;
    std::string command;
    int code;  // 0: begins
  };
  std::vector<Step> steps = {
      {Fields(1, true), "find", kNoSuchTransaction},  // never started
      {Fields(1, true, true), "commitTransaction", kNoSuchTransaction},
      {Fields(1, true, true), "insert", 0},
      {Fields(1, true), "find", 0},
      {Fields(2, true), "find", kNoSuchTransaction},  // a number never started
      {Fields(1, true, true), "insert", 117},         // started already
      {Fields(1, true), "drop", kOperationNotSupportedInTransaction},
      {Fields(1, true), "find", kNoSuchTransaction},  // ...which aborted it
      {Fields(0, true, true), "insert", kTransactionTooOld},
      {Fields(3, false), "find", 50768},  // not a retryable write
      {Fields(3, false), "insert", 0},
      {Fields(3, false), "update", 0},
      {Fields(3, true), "find", kNoSuchTransaction},  // 3 was a retryable write
      {Fields(2, false), "insert", kTransactionTooOld},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    auto st = sessions.Begin(steps[i].fields, steps[i].command);
    if (steps[i].code == 0) {
      EXPECT_TRUE(st.ok()) << i << ": " << st.status();
    } else {
      EXPECT_EQ(MongoCodeOf(st.status()), steps[i].code) << i << ": " << st.status();
    }
  }
}

TEST(SessionCatalogTest, CommitIsIdempotentAndAbortAfterCommitIsRefused) {
  SessionCatalog sessions;
  ASSERT_TRUE(sessions.Begin(Fields(1, true, true), "insert").ok());
  {
    auto commit = sessions.Begin(Fields(1, true), "commitTransaction");
    ASSERT_TRUE(commit.ok());
    EXPECT_TRUE(commit->CommitTransaction().ok());
  }
  {
    auto again = sessions.Begin(Fields(1, true), "commitTransaction");
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->CommitTransaction().ok());
  }
  EXPECT_EQ(MongoCodeOf(sessions.Begin(Fields(1, true), "abortTransaction").status()), kTransactionCommitted);
  EXPECT_EQ(MongoCodeOf(sessions.Begin(Fields(1, true), "insert").status()), kTransactionCommitted);
}

TEST(SessionCatalogTest, RetriedWriteGetsItsReply) {
  SessionCatalog sessions;
  {
    auto st = sessions.Begin(Fields(7, false), "insert");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->retried_reply(), nullptr);
    EXPECT_TRUE(st->RememberReply("reply-7").ok());
  }
  auto retry = sessions.Begin(Fields(7, false), "insert");
  ASSERT_TRUE(retry.ok());
  ASSERT_NE(retry->retried_reply(), nullptr);
  EXPECT_EQ(*retry->retried_reply(), "reply-7");
}

TEST(SessionCatalogTest, TransactionsPastTheirLifetimeAreAborted) {
  SessionCatalog sessions(std::chrono::milliseconds(20));
  ASSERT_TRUE(sessions.Begin(Fields(1, true, true), "insert").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(MongoCodeOf(sessions.Begin(Fields(1, true), "find").status()), kNoSuchTransaction);
}

TEST(SessionCatalogTest, IdleSessionsAreForgotten) {
  SessionCatalog sessions(std::chrono::seconds(60), std::chrono::milliseconds(20));
  ASSERT_TRUE(sessions.Begin(Fields(1, true, true), "insert").ok());
  EXPECT_EQ(sessions.size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sessions.AbortExpired();
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(SessionCatalogTest, EndForgetsTheSession) {
  SessionCatalog sessions;
  ASSERT_TRUE(sessions.Begin(Fields(5, true, true), "insert").ok());
  EXPECT_EQ(sessions.size(), 1u);
  sessions.End("s1");
  EXPECT_EQ(sessions.size(), 0u);
  ASSERT_TRUE(sessions.Begin(Fields(7, true, true), "insert").ok());
  sessions.EndAll();
  EXPECT_EQ(sessions.size(), 0u);
  // Ending sessions from a command that holds one of them (killAllSessions, endSessions
  // sent with an lsid) does not wait for itself.
  auto held = sessions.Begin(Fields(8, true, true), "insert");
  ASSERT_TRUE(held.ok());
  sessions.EndAll();
  sessions.End("s1");
  EXPECT_EQ(sessions.size(), 0u);
  // A new session under that id starts from scratch.
  EXPECT_TRUE(sessions.Begin(Fields(1, true, true), "insert").ok());
}

}  // namespace
}  // namespace micromongo::service

namespace micromongo::service {
namespace {

TEST(SessionFieldsTest, CheckedAsMongoDbChecksACommandsFields) {
  struct Case {
    const char* what;
    std::string lsid;
    std::optional<int64_t> txn;
    std::optional<bool> autocommit, start;
    int code;  // 0: accepted
  };
  const Case cases[] = {
      {"lsid alone", "s", std::nullopt, std::nullopt, std::nullopt, 0},
      {"a retryable write", "s", 1, std::nullopt, std::nullopt, 0},
      {"a transaction's first statement", "s", 1, false, true, 0},
      {"a later statement", "s", 1, false, std::nullopt, 0},
      {"autocommit true", "s", 1, true, std::nullopt, kInvalidOptions},
      {"autocommit without txnNumber", "s", std::nullopt, false, std::nullopt, kInvalidOptions},
      {"startTransaction false", "s", 1, false, false, kInvalidOptions},
      {"startTransaction without autocommit", "s", 1, std::nullopt, true, kInvalidOptions},
      {"txnNumber without lsid", "", 1, std::nullopt, std::nullopt, kInvalidOptions},
  };
  for (const Case& c : cases) {
    auto fields = MakeSessionFields(c.lsid, "", c.txn, c.autocommit, c.start);
    if (c.code == 0) {
      ASSERT_TRUE(fields.ok()) << c.what << ": " << fields.status();
      EXPECT_EQ(fields->in_transaction, c.autocommit.has_value()) << c.what;
      EXPECT_EQ(fields->start_transaction, c.start.has_value()) << c.what;
    } else {
      EXPECT_EQ(MongoCodeOf(fields.status()), c.code) << c.what;
    }
  }
}

// A retryable write's reply is in one protocol's encoding: a retry through the other is
// refused (217) rather than answered with bytes it cannot read or run a second time.
TEST(SessionCatalogTest, RetriedRepliesAreAnsweredOnlyToTheProtocolThatKeptThem) {
  SessionCatalog sessions;
  SessionFields grpc{.lsid = "s", .txn_number = 1, .protocol = "grpc"};
  SessionFields wire{.lsid = "s", .txn_number = 1, .protocol = "wire"};
  {
    auto first = sessions.Begin(grpc, "insert");
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->retried_reply(), nullptr);
    EXPECT_TRUE(first->RememberReply("grpc reply").ok());
  }
  {
    auto again = sessions.Begin(grpc, "insert");
    ASSERT_TRUE(again.ok());
    ASSERT_NE(again->retried_reply(), nullptr);
    EXPECT_EQ(*again->retried_reply(), "grpc reply");
  }
  EXPECT_EQ(MongoCodeOf(sessions.Begin(wire, "insert").status()), kIncompleteTransactionHistory);
}

// An empty reply (a protobuf whose fields are all defaults, as an update that matched
// nothing answers) is a reply like any other.
TEST(SessionCatalogTest, AnEmptyReplyIsAnsweredAgain) {
  SessionCatalog sessions;
  {
    auto first = sessions.Begin(Fields(3, false), "update");
    ASSERT_TRUE(first.ok());
    EXPECT_TRUE(first->RememberReply("").ok());
  }
  auto again = sessions.Begin(Fields(3, false), "update");
  ASSERT_TRUE(again.ok());
  ASSERT_NE(again->retried_reply(), nullptr);
  EXPECT_EQ(*again->retried_reply(), "");
}

// A retried write whose first run failed (an error, no reply) runs again: it wrote nothing.
TEST(SessionCatalogTest, AWriteThatFailedRunsAgainWhenRetried) {
  SessionCatalog sessions;
  {
    auto first = sessions.Begin(Fields(4, false), "update");
    ASSERT_TRUE(first.ok());
  }
  auto again = sessions.Begin(Fields(4, false), "update");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->retried_reply(), nullptr);
}

// Retryable writes' history in the database they wrote (MongoDB's config.transactions):
// a catalog that starts afresh on the same data, as a restarted worker does, still answers
// a retry from it.
class RetryHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mm-retry-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    Open();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    engine_.reset();
    auto engine = storage::Engine::Open({.data_dir = dir_});
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }
  static SessionFields Retryable(int64_t txn, std::string_view protocol = "wire") {
    return {.lsid = "lsid-1", .txn_number = txn, .protocol = protocol, .database = "db"};
  }
  // Runs an insert of {_id: id} as the session's retryable write `txn` through `sessions`;
  // `reply` (if any) is remembered as its reply.
  absl::Status RunInsert(SessionCatalog* sessions, int64_t txn, int id, std::optional<std::string> reply) {
    auto st = sessions->Begin(Retryable(txn), "insert");
    if (!st.ok()) return st.status();
    if (st->retried_reply() != nullptr) return MongoError(kInternalError, "retried: " + *st->retried_reply());
    auto inserted = Insert(engine_.get(), "db", "c", {Document::JsonToBson(StrCat("{\"_id\": ", id, "}"))}, true);
    if (!inserted.ok()) return inserted.status();
    if (!inserted->write_errors.empty()) return inserted->write_errors.front().status;
    if (reply) return st->RememberReply(*reply);
    return absl::OkStatus();
  }
  int64_t Count() {
    auto db = engine_->GetDatabase("db", false);
    return (*db)->FindCollection("c")->count();
  }

  std::string dir_;
  std::unique_ptr<storage::Engine> engine_;
};

TEST_F(RetryHistoryTest, ARetryAfterARestartIsAnsweredFromTheStoredReply) {
  {
    SessionCatalog sessions;
    sessions.SetHistory(engine_.get());
    ASSERT_TRUE(RunInsert(&sessions, 5, 1, "reply of 5").ok());
  }
  Open();
  SessionCatalog restarted;
  restarted.SetHistory(engine_.get());
  {
    auto retry = restarted.Begin(Retryable(5), "insert");
    ASSERT_TRUE(retry.ok()) << retry.status();
    ASSERT_NE(retry->retried_reply(), nullptr);
    EXPECT_EQ(*retry->retried_reply(), "reply of 5");
  }
  EXPECT_EQ(Count(), 1);
  // Older numbers are too old; the next number is a new write.
  EXPECT_EQ(MongoCodeOf(restarted.Begin(Retryable(4), "insert").status()), kTransactionTooOld);
  ASSERT_TRUE(RunInsert(&restarted, 6, 2, "reply of 6").ok());
  EXPECT_EQ(Count(), 2);
}

TEST_F(RetryHistoryTest, AWriteWhoseReplyWasNotStoredIsNeverRunTwice) {
  {
    SessionCatalog sessions;
    sessions.SetHistory(engine_.get());
    // The worker stops between the commit and the reply's record.
    ASSERT_TRUE(RunInsert(&sessions, 9, 1, std::nullopt).ok());
  }
  Open();
  SessionCatalog restarted;
  restarted.SetHistory(engine_.get());
  {
    // Not run again: the protocol answers from what the commit changed (or refuses).
    auto retry = restarted.Begin(Retryable(9), "insert");
    ASSERT_TRUE(retry.ok()) << retry.status();
    EXPECT_EQ(retry->retried_reply(), nullptr);
    ASSERT_NE(retry->retried_outcome(), nullptr);
    EXPECT_EQ(retry->retried_outcome()->inserted, 1);
    EXPECT_EQ(retry->retried_outcome()->updated, 0);
    EXPECT_EQ(retry->txn_number(), 9);
  }
  EXPECT_EQ(Count(), 1);
  // The other protocol's reply cannot be sent either.
  ASSERT_TRUE(RunInsert(&restarted, 10, 2, "wire reply").ok());
  SessionCatalog again;
  again.SetHistory(engine_.get());
  EXPECT_EQ(MongoCodeOf(again.Begin(Retryable(10, "grpc"), "insert").status()), kIncompleteTransactionHistory);
}

TEST_F(RetryHistoryTest, AWriteThatCommittedNothingLeavesNoHistory) {
  {
    SessionCatalog sessions;
    sessions.SetHistory(engine_.get());
    ASSERT_TRUE(RunInsert(&sessions, 1, 1, "first").ok());
    // A duplicate key: the statement commits nothing, its record stays the last write's.
    EXPECT_EQ(MongoCodeOf(RunInsert(&sessions, 2, 1, std::nullopt)), kDuplicateKey);
  }
  Open();
  SessionCatalog restarted;
  restarted.SetHistory(engine_.get());
  auto retry = restarted.Begin(Retryable(2), "insert");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->retried_reply(), nullptr);  // runs (and fails) again
}

// A write that committed and then failed (here: no reply was remembered, as when a later
// statement fails or the reply cannot be made durable) is not run again as a new write by
// the same worker: its retry resumes from the record, running only what was not done.
TEST_F(RetryHistoryTest, AWriteThatCommittedAndFailedResumesInsteadOfRunningAgain) {
  SessionCatalog sessions;
  sessions.SetHistory(engine_.get());
  ASSERT_TRUE(RunInsert(&sessions, 3, 1, std::nullopt).ok());  // statement 0 inserted {_id: 1}
  {
    auto retry = sessions.Begin(Retryable(3), "insert");
    ASSERT_TRUE(retry.ok()) << retry.status();
    EXPECT_EQ(retry->retried_reply(), nullptr);
    ASSERT_NE(retry->retried_outcome(), nullptr);
    EXPECT_TRUE(retry->retried_outcome()->by_statement);
    EXPECT_FALSE(retry->ResumeRetriedWrite("findAndModify"));  // its reply needs its document
    ASSERT_TRUE(retry->ResumeRetriedWrite("insert"));
    EXPECT_EQ(retry->retried_outcome(), nullptr);
    // The whole command again: statement 0 is done, statement 1 runs.
    auto inserted = Insert(engine_.get(), "db", "c",
                           {Document::JsonToBson(R"({"_id": 1})"), Document::JsonToBson(R"({"_id": 2})")}, true);
    ASSERT_TRUE(inserted.ok()) << inserted.status();
    EXPECT_TRUE(inserted->write_errors.empty());
    EXPECT_EQ(inserted->inserted_count, 2);
    ASSERT_TRUE(retry->RememberReply("resumed reply").ok());
  }
  EXPECT_EQ(Count(), 2);
  auto again = sessions.Begin(Retryable(3), "insert");
  ASSERT_TRUE(again.ok());
  ASSERT_NE(again->retried_reply(), nullptr);
  EXPECT_EQ(*again->retried_reply(), "resumed reply");
}

// Documents without an _id get theirs from the worker. A resumed run (its first run's
// reply lost in a restart) reports, for the documents its first run stored, the ids they
// were stored with, not new ones, and stores the others with ids it would report again.
TEST_F(RetryHistoryTest, AResumedInsertReportsTheIdsItsFirstRunGenerated) {
  auto id_of = [](std::string_view doc) {
    bson::ValueView id;
    EXPECT_TRUE(bson::DocView(doc).Find("_id", &id));
    EXPECT_EQ(id.type, BsonType::kObjectId);
    return std::string(id.data, id.size);
  };
  std::string first_id;
  {
    SessionCatalog sessions;
    sessions.SetHistory(engine_.get());
    auto st = sessions.Begin(Retryable(4), "insert");
    ASSERT_TRUE(st.ok()) << st.status();
    // The first run stores statement 0 and stops (no reply: the worker dies).
    auto inserted = Insert(engine_.get(), "db", "c", {Document::JsonToBson(R"({"a": 0})")}, true);
    ASSERT_TRUE(inserted.ok()) << inserted.status();
    first_id = id_of(inserted->docs[0]);
  }
  Open();
  SessionCatalog restarted;
  restarted.SetHistory(engine_.get());
  std::string second_id;
  {
    auto retry = restarted.Begin(Retryable(4), "insert");
    ASSERT_TRUE(retry.ok()) << retry.status();
    ASSERT_TRUE(retry->ResumeRetriedWrite("insert"));
    auto inserted = Insert(engine_.get(), "db", "c",
                           {Document::JsonToBson(R"({"a": 0})"), Document::JsonToBson(R"({"a": 1})")}, true);
    ASSERT_TRUE(inserted.ok()) << inserted.status();
    EXPECT_EQ(inserted->inserted_count, 2);
    EXPECT_EQ(id_of(inserted->docs[0]), first_id);
    second_id = id_of(inserted->docs[1]);
    EXPECT_NE(second_id, first_id);
  }
  EXPECT_EQ(Count(), 2);
  // What is stored is what was reported; the ids carry the write's time as ObjectIds do.
  auto db = engine_->GetDatabase("db", false);
  ASSERT_TRUE(db.ok());
  std::vector<std::string> stored;
  auto it = (*db)->ScanRecords(*(*db)->FindCollection("c"));
  for (it->SeekToFirst(); it->Valid(); it->Next()) stored.push_back(id_of(it->value()));
  std::sort(stored.begin(), stored.end());
  std::vector<std::string> reported = {first_id, second_id};
  std::sort(reported.begin(), reported.end());
  EXPECT_EQ(stored, reported);
  uint32_t seconds = (static_cast<uint8_t>(first_id[0]) << 24) | (static_cast<uint8_t>(first_id[1]) << 16) |
                     (static_cast<uint8_t>(first_id[2]) << 8) | static_cast<uint8_t>(first_id[3]);
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(std::abs(now - static_cast<int64_t>(seconds)), 60);
}

// A record written before statements were recorded says only what the whole command
// changed: its retry is not resumed (the protocol answers it from the counts or refuses).
TEST_F(RetryHistoryTest, AnOlderRecordIsNotResumed) {
  {
    SessionCatalog sessions;
    sessions.SetHistory(engine_.get());
    ASSERT_TRUE(RunInsert(&sessions, 9, 1, std::nullopt).ok());
  }
  {
    auto db = engine_->GetDatabase("db", false);
    ASSERT_TRUE(db.ok());
    auto record = (*db)->GetRetryRecord("lsid-1");
    ASSERT_TRUE(record.ok() && record->has_value());
    storage::RetryRecord older = **record;
    older.outcome.by_statement = false;
    older.outcome.statements.clear();
    ASSERT_TRUE((*db)->PutRetryRecord("lsid-1", older).ok());
  }
  Open();
  SessionCatalog restarted;
  restarted.SetHistory(engine_.get());
  auto retry = restarted.Begin(Retryable(9), "insert");
  ASSERT_TRUE(retry.ok()) << retry.status();
  ASSERT_NE(retry->retried_outcome(), nullptr);
  EXPECT_FALSE(retry->ResumeRetriedWrite("insert"));
  EXPECT_NE(retry->retried_outcome(), nullptr);
}

TEST_F(RetryHistoryTest, EndingTheSessionOrItsExpiryForgetsItsHistory) {
  {
    SessionCatalog sessions;
    sessions.SetHistory(engine_.get());
    ASSERT_TRUE(RunInsert(&sessions, 3, 1, "r").ok());
    sessions.End("lsid-1");
  }
  auto db = engine_->GetDatabase("db", false);
  ASSERT_TRUE(db.ok());
  auto record = (*db)->GetRetryRecord("lsid-1");
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
  {
    SessionCatalog idle(std::chrono::seconds(60), std::chrono::milliseconds(0));
    idle.SetHistory(engine_.get());
    ASSERT_TRUE(RunInsert(&idle, 4, 2, "r").ok());
    EXPECT_TRUE((*(*db)->GetRetryRecord("lsid-1")).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    idle.AbortExpired();
    EXPECT_FALSE((*(*db)->GetRetryRecord("lsid-1")).has_value());
  }
}

}  // namespace
}  // namespace micromongo::service
