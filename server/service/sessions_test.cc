// SessionCatalog: MongoDB's rules for txnNumber, transactions and retryable writes on one
// session, and the lifetime limit that aborts forgotten transactions.

#include "service/sessions.h"

#include <gtest/gtest.h>

#include <thread>

#include "document/status.h"

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
    st->RememberReply("reply-7");
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

// A retryable write's reply is in one protocol's encoding: a retry through the other runs
// as a new write (it would fail as a duplicate, say) rather than read bytes it cannot.
TEST(SessionCatalogTest, RetriedRepliesAreAnsweredOnlyToTheProtocolThatKeptThem) {
  SessionCatalog sessions;
  SessionFields grpc{.lsid = "s", .txn_number = 1, .protocol = "grpc"};
  SessionFields wire{.lsid = "s", .txn_number = 1, .protocol = "wire"};
  {
    auto first = sessions.Begin(grpc, "insert");
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->retried_reply(), nullptr);
    first->RememberReply("grpc reply");
  }
  {
    auto again = sessions.Begin(grpc, "insert");
    ASSERT_TRUE(again.ok());
    ASSERT_NE(again->retried_reply(), nullptr);
    EXPECT_EQ(*again->retried_reply(), "grpc reply");
  }
  auto other = sessions.Begin(wire, "insert");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->retried_reply(), nullptr);
}

}  // namespace
}  // namespace micromongo::service
