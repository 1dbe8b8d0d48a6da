// Sessions over gRPC through the generated stubs, as applications linking the stubs and
// grpcurl users send them (v1::Session): retryable writes answered once, the transaction
// fields checked as MongoDB checks a command's, and the errors' labels in ErrorInfo.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <string>

#include "micromongo/v1/micromongo.grpc.pb.h"
#include "test_util.h"

namespace {

namespace v1 = micromongo::v1;

class SessionRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.path() + "/s.sock";
    Start();
  }
  void Start() {
    pid_ = micromongo::testing::SpawnServerOnSocket(MM_SERVER, socket_, dir_.path() + "/data");
    data_ = v1::DataService::NewStub(grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
  }
  // kill -9, then a new worker on the same data.
  void KillAndRestart() {
    data_.reset();
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    unlink(socket_.c_str());
    Start();
  }
  void TearDown() override {
    data_.reset();
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  // The call's ErrorInfo (code 0 when it succeeded).
  template <typename Request, typename Reply, typename Method>
  v1::ErrorInfo Call(Method method, const Request& request, Reply* reply) {
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status s = (data_.get()->*method)(&ctx, request, reply);
    v1::ErrorInfo info;
    if (!s.ok()) {
      EXPECT_TRUE(info.ParseFromString(s.error_details())) << s.error_message();
    }
    return info;
  }
  v1::InsertRequest Insert(const std::string& json) {
    v1::InsertRequest r;
    r.set_database("db");
    r.set_collection("c");
    r.add_documents()->set_bson(micromongo::Document::JsonToBson(json));
    return r;
  }
  int64_t Count() {
    v1::CountRequest r;
    r.set_database("db");
    r.set_collection("c");
    v1::CountReply reply;
    EXPECT_EQ(Call(&v1::DataService::Stub::Count, r, &reply).code(), 0);
    return reply.count();
  }
  static v1::Session Session(char id, std::optional<int64_t> txn = std::nullopt) {
    v1::Session s;
    s.set_id(std::string(16, id));
    if (txn) s.set_txn_number(*txn);
    return s;
  }

  micromongo::testing::TempDir dir_;
  std::string socket_;
  pid_t pid_ = -1;
  std::unique_ptr<v1::DataService::Stub> data_;
};

TEST_F(SessionRpcTest, ARetriedWriteIsAnsweredFromTheFirstRunWithoutWritingAgain) {
  v1::InsertRequest insert = Insert(R"({"_id": 1})");
  *insert.mutable_session() = Session('a', 1);
  v1::InsertReply first, retry;
  EXPECT_EQ(Call(&v1::DataService::Stub::Insert, insert, &first).code(), 0);
  EXPECT_EQ(first.inserted_count(), 1);
  // The same txn_number again: the first reply, no duplicate key error, one document.
  EXPECT_EQ(Call(&v1::DataService::Stub::Insert, insert, &retry).code(), 0);
  EXPECT_EQ(retry.inserted_count(), 1);
  EXPECT_EQ(Count(), 1);
  // A new number is a new write: now the key is a duplicate.
  insert.mutable_session()->set_txn_number(2);
  v1::InsertReply again;
  EXPECT_EQ(Call(&v1::DataService::Stub::Insert, insert, &again).code(), 0);
  ASSERT_EQ(again.write_errors_size(), 1);
  EXPECT_EQ(again.write_errors(0).code(), 11000);
  // An older number than the session's: 225 TransactionTooOld.
  insert.mutable_session()->set_txn_number(1);
  EXPECT_EQ(Call(&v1::DataService::Stub::Insert, insert, &again).code(), 225);
}

// MongoDB refuses a multi-document update or delete in a retryable write (72
// InvalidOptions): a retry could not tell which of its documents were done. In a bulk
// write only those models fail; without a txn_number they run.
TEST_F(SessionRpcTest, RetryableWritesRefuseMultiDocumentUpdatesAndDeletes) {
  for (int id : {1, 2, 3}) {
    v1::InsertReply inserted;
    EXPECT_EQ(Call(&v1::DataService::Stub::Insert, Insert("{\"_id\": " + std::to_string(id) + ", \"x\": 2}"), &inserted)
                  .code(),
              0);
  }
  v1::UpdateRequest update;
  update.set_database("db");
  update.set_collection("c");
  update.mutable_filter()->set_bson(micromongo::Document::JsonToBson(R"({"x": 2})"));
  update.mutable_update()->set_bson(micromongo::Document::JsonToBson(R"({"$set": {"y": 1}})"));
  update.set_multi(true);
  *update.mutable_session() = Session('m', 1);
  v1::UpdateReply updated;
  v1::ErrorInfo refused = Call(&v1::DataService::Stub::Update, update, &updated);
  EXPECT_EQ(refused.code(), 72);
  EXPECT_EQ(refused.message(), "Cannot use (or request) retryable writes with multi=true");
  v1::DeleteRequest del;
  del.set_database("db");
  del.set_collection("c");
  del.mutable_filter()->set_bson(micromongo::Document::JsonToBson("{}"));
  del.set_multi(true);
  *del.mutable_session() = Session('m', 2);
  v1::DeleteReply deleted;
  EXPECT_EQ(Call(&v1::DataService::Stub::Delete, del, &deleted).code(), 72);
  EXPECT_EQ(Count(), 3);

  v1::BulkWriteRequest bulk;
  bulk.set_database("db");
  bulk.set_collection("c");
  bulk.set_unordered(true);
  auto* one = bulk.add_models()->mutable_update();
  one->mutable_filter()->set_bson(micromongo::Document::JsonToBson(R"({"_id": 1})"));
  one->mutable_update()->set_bson(micromongo::Document::JsonToBson(R"({"$inc": {"n": 1}})"));
  auto* many = bulk.add_models()->mutable_update();
  *many = *one;
  many->set_multi(true);
  auto* all = bulk.add_models()->mutable_delete_();
  all->mutable_filter()->set_bson(micromongo::Document::JsonToBson("{}"));
  all->set_multi(true);
  bulk.add_models()->mutable_insert_one()->mutable_document()->set_bson(micromongo::Document::JsonToBson(R"({"_id": 4})"));
  *bulk.mutable_session() = Session('m', 3);
  v1::BulkWriteReply written;
  ASSERT_EQ(Call(&v1::DataService::Stub::BulkWrite, bulk, &written).code(), 0);
  EXPECT_EQ(written.modified_count(), 1);
  EXPECT_EQ(written.inserted_count(), 1);
  ASSERT_EQ(written.write_errors_size(), 2);
  EXPECT_EQ(written.write_errors(0).index(), 1);
  EXPECT_EQ(written.write_errors(0).code(), 72);
  EXPECT_EQ(written.write_errors(1).index(), 2);
  EXPECT_EQ(written.write_errors(1).code(), 72);
  // Retried: the first run's reply, nothing applied twice.
  v1::BulkWriteReply again;
  ASSERT_EQ(Call(&v1::DataService::Stub::BulkWrite, bulk, &again).code(), 0);
  EXPECT_EQ(again.modified_count(), 1);
  EXPECT_EQ(again.write_errors_size(), 2);
  EXPECT_EQ(Count(), 4);
  // Without a txn_number the multi-document delete runs.
  del.clear_session();
  EXPECT_EQ(Call(&v1::DataService::Stub::Delete, del, &deleted).code(), 0);
  EXPECT_EQ(deleted.deleted_count(), 4);
}

// A driver retries a write whose reply a crash cut off once the worker is back: the
// history stored with the data (MongoDB's config.transactions) answers it, so a $inc is not
// applied twice and a findAndModify returns what it returned the first time.
TEST_F(SessionRpcTest, RetriesAfterTheWorkerWasKilledAreAnsweredFromTheStoredHistory) {
  v1::InsertRequest insert = Insert(R"({"_id": 1, "n": 0})");
  *insert.mutable_session() = Session('k', 1);
  v1::InsertReply inserted;
  ASSERT_EQ(Call(&v1::DataService::Stub::Insert, insert, &inserted).code(), 0);
  v1::UpdateRequest inc;
  inc.set_database("db");
  inc.set_collection("c");
  inc.mutable_filter()->set_bson(micromongo::Document::JsonToBson(R"({"_id": 1})"));
  inc.mutable_update()->set_bson(micromongo::Document::JsonToBson(R"({"$inc": {"n": 1}})"));
  *inc.mutable_session() = Session('k', 2);
  v1::UpdateReply updated;
  ASSERT_EQ(Call(&v1::DataService::Stub::Update, inc, &updated).code(), 0);
  EXPECT_EQ(updated.modified_count(), 1);
  v1::FindAndModifyRequest fam;
  fam.set_database("db");
  fam.set_collection("c");
  fam.mutable_filter()->set_bson(micromongo::Document::JsonToBson(R"({"_id": 1})"));
  fam.mutable_update()->set_bson(micromongo::Document::JsonToBson(R"({"$inc": {"n": 10}})"));
  fam.set_return_new(true);
  *fam.mutable_session() = Session('k', 3);
  v1::FindAndModifyReply modified;
  ASSERT_EQ(Call(&v1::DataService::Stub::FindAndModify, fam, &modified).code(), 0);

  KillAndRestart();

  v1::FindAndModifyReply fam_again;
  ASSERT_EQ(Call(&v1::DataService::Stub::FindAndModify, fam, &fam_again).code(), 0);
  EXPECT_EQ(fam_again.SerializeAsString(), modified.SerializeAsString());
  EXPECT_EQ(micromongo::Document::FromBson(fam_again.value().bson()).ToJson(),
            micromongo::Document::FromBson(micromongo::Document::JsonToBson(R"({"_id": 1, "n": 11})")).ToJson());
  // The session's older numbers are too old now.
  v1::UpdateReply too_old;
  EXPECT_EQ(Call(&v1::DataService::Stub::Update, inc, &too_old).code(), 225);
  // Another session's last write, retried after the restart, is answered too.
  v1::InsertRequest other = Insert(R"({"_id": 2})");
  *other.mutable_session() = Session('m', 1);
  v1::InsertReply first_other;
  ASSERT_EQ(Call(&v1::DataService::Stub::Insert, other, &first_other).code(), 0);
  KillAndRestart();
  v1::InsertReply retried_other;
  ASSERT_EQ(Call(&v1::DataService::Stub::Insert, other, &retried_other).code(), 0);
  EXPECT_EQ(retried_other.inserted_count(), 1);
  EXPECT_EQ(retried_other.write_errors_size(), 0);
  EXPECT_EQ(Count(), 2);
}

TEST_F(SessionRpcTest, TransactionFieldsAreCheckedAsMongoDbChecksThem) {
  struct Case {
    const char* what;
    v1::Session session;
    int code;
  };
  v1::Session no_number = Session('b');
  no_number.set_autocommit(false);
  v1::Session autocommit_true = Session('b', 1);
  autocommit_true.set_autocommit(true);
  v1::Session start_without_autocommit = Session('b', 1);
  start_without_autocommit.set_start_transaction(true);
  v1::Session short_id = Session('b', 1);
  short_id.set_id("short");
  v1::Session not_started = Session('b', 7);
  not_started.set_autocommit(false);
  for (const Case& c : {Case{"autocommit without txn_number", no_number, 72},
                        Case{"autocommit true", autocommit_true, 72},
                        Case{"start_transaction without autocommit", start_without_autocommit, 72},
                        Case{"an id that is not a UUID", short_id, 2},
                        Case{"a statement of a transaction never started", not_started, 251}}) {
    v1::InsertRequest insert = Insert(R"({"_id": 1})");
    *insert.mutable_session() = c.session;
    v1::InsertReply reply;
    v1::ErrorInfo e = Call(&v1::DataService::Stub::Insert, insert, &reply);
    EXPECT_EQ(e.code(), c.code) << c.what << ": " << e.message();
    if (c.code == 251) {
      ASSERT_EQ(e.error_labels_size(), 1) << c.what;
      EXPECT_EQ(e.error_labels(0), "TransientTransactionError");
    }
  }
  EXPECT_EQ(Count(), 0);
  // Commit and abort need a transaction's fields.
  v1::TransactionRequest commit;
  v1::Empty empty;
  EXPECT_EQ(Call(&v1::DataService::Stub::CommitTransaction, commit, &empty).code(), 72);
  *commit.mutable_session() = Session('c');
  EXPECT_EQ(Call(&v1::DataService::Stub::AbortTransaction, commit, &empty).code(), 72);
}

TEST_F(SessionRpcTest, ATransactionByHandCommitsAndEndSessionsAbortsAnother) {
  v1::Session start = Session('d', 1);
  start.set_autocommit(false);
  start.set_start_transaction(true);
  v1::InsertRequest insert = Insert(R"({"_id": 1})");
  *insert.mutable_session() = start;
  v1::InsertReply reply;
  EXPECT_EQ(Call(&v1::DataService::Stub::Insert, insert, &reply).code(), 0);
  EXPECT_EQ(Count(), 0);
  v1::TransactionRequest commit;
  *commit.mutable_session() = start;
  commit.mutable_session()->clear_start_transaction();
  v1::Empty empty;
  EXPECT_EQ(Call(&v1::DataService::Stub::CommitTransaction, commit, &empty).code(), 0);
  EXPECT_EQ(Count(), 1);
  // A statement after the commit: 256 TransactionCommitted.
  *insert.mutable_session() = commit.session();
  EXPECT_EQ(Call(&v1::DataService::Stub::Insert, insert, &reply).code(), 256);

  // Another session's open transaction, ended by EndSessions: its write is gone and the
  // session starts afresh.
  v1::Session other = Session('e', 1);
  other.set_autocommit(false);
  other.set_start_transaction(true);
  v1::InsertRequest second = Insert(R"({"_id": 2})");
  *second.mutable_session() = other;
  EXPECT_EQ(Call(&v1::DataService::Stub::Insert, second, &reply).code(), 0);
  v1::EndSessionsRequest end;
  end.add_ids(other.id());
  EXPECT_EQ(Call(&v1::DataService::Stub::EndSessions, end, &empty).code(), 0);
  v1::TransactionRequest commit_other;
  *commit_other.mutable_session() = other;
  commit_other.mutable_session()->clear_start_transaction();
  EXPECT_EQ(Call(&v1::DataService::Stub::CommitTransaction, commit_other, &empty).code(), 251);
  EXPECT_EQ(Count(), 1);
}

}  // namespace
