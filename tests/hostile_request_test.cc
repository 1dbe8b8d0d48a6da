// Requests a hostile client can send that the C++ API never produces: documents nested far
// past MongoDB's limits in every place a document travels (hints, filters, $expr, pipelines,
// updates, inserts, Extended JSON), and string fields that are not UTF-8. Each must fail
// with MongoDB's error code, and the worker must keep serving with its data unchanged.
// These shapes once overflowed the worker's stack (SIGSEGV), killing it for every client.
//
// The test talks to a real micromongo-server through the generated stubs, building the
// deep documents without recursion (bson::Builder writes nested levels in place).

#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "micromongo/v1/micromongo.grpc.pb.h"
#include "test_util.h"

namespace v1 = micromongo::v1;
using micromongo::StrCat;
using micromongo::bson::Builder;

namespace {

// A server process on a unix socket in a temporary directory.
class Server {
 public:
  explicit Server(const std::string& dir) : socket_(dir + "/s.sock") {
    pid_ = micromongo::testing::SpawnServerOnSocket(MM_SERVER, socket_, dir + "/data");
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel("unix:" + socket_, grpc::InsecureChannelCredentials(),
                                         args);
    data_ = v1::DataService::NewStub(channel_);
    admin_ = v1::AdminService::NewStub(channel_);
  }
  ~Server() {
    // Close the connection first: the server's graceful shutdown waits for open ones.
    data_.reset();
    admin_.reset();
    channel_.reset();
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }

  bool Alive() {
    if (!micromongo::testing::ProcessRunning(pid_)) return false;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.set_wait_for_ready(true);
    v1::Empty in, out;
    return admin_->Ping(&ctx, in, &out).ok();
  }

  v1::DataService::Stub& data() { return *data_; }
  v1::AdminService::Stub& admin() { return *admin_; }

 private:
  std::string socket_;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DataService::Stub> data_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

// The MongoDB code of a failed call (from the ErrorInfo in its details), 0 when it succeeded.
int CodeOf(const grpc::Status& status) {
  if (status.ok()) return 0;
  v1::ErrorInfo info;
  if (!info.ParseFromString(status.error_details())) return -1;
  return info.code();
}

// Nests `depth` levels, each opened by `open` (which starts one or more documents or arrays
// and returns their tokens), around an innermost `leaf`; no recursion.
std::string Nest(int depth, const std::function<void(Builder&, std::vector<size_t>&)>& open,
                 const std::function<void(Builder&)>& leaf) {
  Builder b;
  std::vector<size_t> tokens;
  for (int i = 0; i < depth; ++i) open(b, tokens);
  leaf(b);
  while (!tokens.empty()) {
    b.End(tokens.back());
    tokens.pop_back();
  }
  return std::move(b).Finish();
}

// {"a": [[[ ... [1] ... ]]]} with `depth` arrays.
std::string NestedArrays(int depth) {
  bool first = true;
  return Nest(
      depth,
      [&](Builder& b, std::vector<size_t>& t) {
        t.push_back(b.StartArray(first ? "a" : "0"));
        first = false;
      },
      [](Builder& b) { b.AppendInt32("0", 1); });
}

// {"a": {"a": { ... {"a": 1} ... }}} with `depth` levels below the top.
std::string NestedDocs(int depth) {
  return Nest(
      depth, [](Builder& b, std::vector<size_t>& t) { t.push_back(b.StartDocument("a")); },
      [](Builder& b) { b.AppendInt32("a", 1); });
}

// {"$and": [{"$and": [ ... {"a": 1} ... ]}]}
std::string NestedAnd(int depth) {
  bool first = true;
  return Nest(
      depth,
      [&](Builder& b, std::vector<size_t>& t) {
        if (!first) t.push_back(b.StartDocument("0"));
        t.push_back(b.StartArray("$and"));
        first = false;
      },
      [](Builder& b) {
        size_t t = b.StartDocument("0");
        b.AppendInt32("a", 1);
        b.End(t);
      });
}

// {"$expr": {"$add": [{"$add": [ ... [1, 1] ... , 1]}, 1]}}: `depth` nested $adds.
std::string NestedAddExpr(int depth) {
  Builder b;
  std::vector<size_t> docs, arrays;
  docs.push_back(b.StartDocument("$expr"));
  arrays.push_back(b.StartArray("$add"));
  for (int i = 1; i < depth; ++i) {
    docs.push_back(b.StartDocument("0"));
    arrays.push_back(b.StartArray("$add"));
  }
  b.AppendInt32("0", 1);
  while (!arrays.empty()) {  // each $add gets its second operand, 1, before it closes
    b.AppendInt32("1", 1);
    b.End(arrays.back());
    arrays.pop_back();
    b.End(docs.back());
    docs.pop_back();
  }
  return std::move(b).Finish();
}

v1::Doc Bson(std::string bytes) {
  v1::Doc d;
  d.set_bson(std::move(bytes));
  return d;
}

v1::Doc Json(std::string text) {
  v1::Doc d;
  d.set_json(std::move(text));
  return d;
}

class HostileRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>(dir_.path());
    ASSERT_TRUE(server_->Alive());
    v1::InsertRequest req;
    req.set_database("app");
    req.set_collection("c");
    *req.add_documents() = Json(R"({"_id": 1, "a": 1})");
    *req.add_documents() = Json(R"({"_id": 2, "a": [2, 3]})");
    v1::InsertReply reply;
    grpc::ClientContext ctx;
    ASSERT_TRUE(server_->data().Insert(&ctx, req, &reply).ok());
  }

  int64_t Count() {
    v1::CountRequest req;
    req.set_database("app");
    req.set_collection("c");
    v1::CountReply reply;
    grpc::ClientContext ctx;
    EXPECT_TRUE(server_->data().Count(&ctx, req, &reply).ok());
    return reply.count();
  }

  // The call fails with `code`, the worker still answers, and the collection still holds
  // its two documents.
  void ExpectRefused(const char* what, int code, const grpc::Status& status) {
    SCOPED_TRACE(what);
    EXPECT_EQ(CodeOf(status), code) << status.error_message();
    EXPECT_NE(status.error_code(), grpc::StatusCode::INTERNAL) << status.error_message();
    EXPECT_NE(status.error_code(), grpc::StatusCode::UNKNOWN) << status.error_message();
    ASSERT_TRUE(server_->Alive()) << what << " killed the worker";
    EXPECT_EQ(Count(), 2);
  }

  micromongo::testing::TempDir dir_;
  std::unique_ptr<Server> server_;
};

constexpr int kOverflow = 15;
constexpr int kBadValue = 2;

TEST_F(HostileRequestTest, DeepHintInCount) {
  v1::CountRequest req;
  req.set_database("app");
  req.set_collection("c");
  *req.mutable_hint()->mutable_keys() = Bson(NestedArrays(26000));
  v1::CountReply reply;
  grpc::ClientContext ctx;
  ExpectRefused("hint nested 26,000 levels", kOverflow, server_->data().Count(&ctx, req, &reply));
}

TEST_F(HostileRequestTest, DeepFilters) {
  struct Case {
    const char* name;
    std::string filter;
    int code;
  } cases[] = {
      {"$and nested 100,000 levels", NestedAnd(100000), kOverflow},
      {"$expr of $add nested 8,000 levels", NestedAddExpr(8000), kOverflow},
      {"field path nested 50,000 levels", NestedDocs(50000), kOverflow},
      {"array nested 26,000 levels", NestedArrays(26000), kOverflow},
  };
  for (auto& c : cases) {
    v1::FindRequest req;
    req.set_database("app");
    req.set_collection("c");
    *req.mutable_filter() = Bson(c.filter);
    v1::CursorReply reply;
    grpc::ClientContext ctx;
    ExpectRefused(c.name, c.code, server_->data().Find(&ctx, req, &reply));
  }
  // Nesting within MongoDB's limits still works: 99 levels of $and (199 BSON levels) and an
  // $expr of 60 nested $adds.
  for (const std::string& filter : {NestedAnd(99), NestedAddExpr(60)}) {
    v1::FindRequest req;
    req.set_database("app");
    req.set_collection("c");
    *req.mutable_filter() = Bson(filter);
    v1::CursorReply reply;
    grpc::ClientContext ctx;
    grpc::Status s = server_->data().Find(&ctx, req, &reply);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(reply.documents_size(), filter == NestedAnd(99) ? 1 : 2);
  }
}

TEST_F(HostileRequestTest, DeepPipelines) {
  const std::string stages[] = {
      // {$match: {a: {a: ...}}}
      Nest(
          14500,
          [first = true](Builder& b, std::vector<size_t>& t) mutable {
            t.push_back(b.StartDocument(first ? "$match" : "a"));
            first = false;
          },
          [](Builder& b) { b.AppendInt32("a", 1); }),
      // {$project: {x: {$add: [{$add: [...]}]}}}
      Nest(
          14500,
          [first = true](Builder& b, std::vector<size_t>& t) mutable {
            if (first) {
              t.push_back(b.StartDocument("$project"));
              t.push_back(b.StartDocument("x"));
            } else {
              t.push_back(b.StartDocument("0"));
            }
            t.push_back(b.StartArray("$add"));
            first = false;
          },
          [](Builder& b) { b.AppendInt32("0", 1); }),
  };
  for (const std::string& stage : stages) {
    v1::AggregateRequest req;
    req.set_database("app");
    req.set_collection("c");
    *req.add_pipeline() = Bson(stage);
    v1::CursorReply reply;
    grpc::ClientContext ctx;
    ExpectRefused("pipeline nested 14,500 levels", kOverflow,
                  server_->data().Aggregate(&ctx, req, &reply));
  }
}

// Expressions cannot build values nested past BSON's limit either: each $reduce step wraps
// the accumulated value in one more array.
TEST_F(HostileRequestTest, ExpressionsBuildingDeepValues) {
  auto reduce = [&](int steps) {
    v1::AggregateRequest req;
    req.set_database("app");
    req.set_collection("c");
    *req.add_pipeline() = Json(StrCat(R"({"$project": {"r": {"$reduce": {"input": {"$range": [0, )",
                                      steps, R"(]}, "initialValue": [], "in": ["$$value"]}}}})"));
    v1::CursorReply reply;
    grpc::ClientContext ctx;
    return server_->data().Aggregate(&ctx, req, &reply);
  };
  // [] plus 198 wrappings is 199 levels inside the 200th, the result document.
  EXPECT_TRUE(reduce(198).ok());
  ExpectRefused("$reduce nesting 199 levels", kOverflow, reduce(199));
  ExpectRefused("$reduce nesting 1,000,000 levels", kOverflow, reduce(1000000));
}

TEST_F(HostileRequestTest, TooManyStages) {
  v1::AggregateRequest req;
  req.set_database("app");
  req.set_collection("c");
  for (int i = 0; i < 1001; ++i) *req.add_pipeline() = Json(R"({"$set": {"a": {"x": "$a"}}})");
  v1::CursorReply reply;
  grpc::ClientContext ctx;
  ExpectRefused("1,001 stages", 7749501, server_->data().Aggregate(&ctx, req, &reply));
}

TEST_F(HostileRequestTest, DeepUpdatesAndSorts) {
  {
    v1::UpdateRequest req;
    req.set_database("app");
    req.set_collection("c");
    *req.mutable_filter() = Json("{}");
    Builder b;
    size_t set = b.StartDocument("$set");
    b.AppendDocument("deep", micromongo::bson::DocView(NestedDocs(30000)));
    b.End(set);
    *req.mutable_update() = Bson(std::move(b).Finish());
    req.set_multi(true);
    v1::UpdateReply reply;
    grpc::ClientContext ctx;
    ExpectRefused("$set of a value nested 30,000 levels", kOverflow,
                  server_->data().Update(&ctx, req, &reply));
  }
  {
    v1::FindRequest req;
    req.set_database("app");
    req.set_collection("c");
    *req.mutable_sort() = Bson(NestedDocs(30000));
    *req.mutable_projection() = Bson(NestedDocs(30000));
    v1::CursorReply reply;
    grpc::ClientContext ctx;
    ExpectRefused("sort and projection nested 30,000 levels", kOverflow,
                  server_->data().Find(&ctx, req, &reply));
  }
}

TEST_F(HostileRequestTest, DeepExtendedJson) {
  std::string deep(200000, '[');
  deep = "{\"a\": " + deep + std::string(200000, ']') + "}";
  v1::FindRequest req;
  req.set_database("app");
  req.set_collection("c");
  *req.mutable_filter() = Json(deep);
  v1::CursorReply reply;
  grpc::ClientContext ctx;
  ExpectRefused("Extended JSON nested 200,000 levels", kOverflow,
                server_->data().Find(&ctx, req, &reply));
}

// MongoDB stores no document nested deeper than 100 levels (the top-level document is the
// first); inserts, updates and replacements past it fail with 15 (Overflow).
TEST_F(HostileRequestTest, StoredDocumentsNestAtMost100Levels) {
  auto insert = [&](std::string doc) {
    v1::InsertRequest req;
    req.set_database("app");
    req.set_collection("c");
    *req.add_documents() = Bson(std::move(doc));
    v1::InsertReply reply;
    grpc::ClientContext ctx;
    grpc::Status s = server_->data().Insert(&ctx, req, &reply);
    if (!s.ok()) return CodeOf(s);
    return reply.write_errors_size() == 0 ? 0 : reply.write_errors(0).code();
  };
  EXPECT_EQ(insert(NestedDocs(99)), 0);  // 100 levels
  EXPECT_EQ(insert(NestedDocs(100)), kOverflow);
  EXPECT_EQ(insert(NestedArrays(100)), kOverflow);
  EXPECT_EQ(insert(NestedDocs(10000)), kOverflow);
  EXPECT_EQ(Count(), 3);

  // An update whose result would be 101 levels deep changes nothing.
  v1::UpdateRequest req;
  req.set_database("app");
  req.set_collection("c");
  *req.mutable_filter() = Json(R"({"_id": 1})");
  Builder b;
  size_t set = b.StartDocument("$set");
  b.AppendDocument("deep", micromongo::bson::DocView(NestedDocs(99)));
  b.End(set);
  *req.mutable_update() = Bson(std::move(b).Finish());
  v1::UpdateReply reply;
  grpc::ClientContext ctx;
  EXPECT_EQ(CodeOf(server_->data().Update(&ctx, req, &reply)), kOverflow);
  v1::FindRequest find;
  find.set_database("app");
  find.set_collection("c");
  *find.mutable_filter() = Json(R"({"_id": 1})");
  v1::CursorReply found;
  grpc::ClientContext find_ctx;
  ASSERT_TRUE(server_->data().Find(&find_ctx, find, &found).ok());
  ASSERT_EQ(found.documents_size(), 1);
  EXPECT_EQ(found.documents(0).json(), R"({"_id": 1, "a": 1})");
}

// protobuf rejects string fields that are not UTF-8 before any handler runs; the worker
// answers that as bad input (INVALID_ARGUMENT, 2 BadValue), not as an internal error.
TEST_F(HostileRequestTest, InvalidUtf8InStringFields) {
  v1::CountRequest count;
  count.set_database("app");
  count.set_collection("c");
  std::string wire = count.SerializeAsString();
  // Rewrite the collection name's single byte "c" into 0xFF.
  size_t at = wire.rfind('c');
  ASSERT_NE(at, std::string::npos);
  wire[at] = static_cast<char>(0xFF);

  grpc::GenericStub generic(grpc::CreateChannel(
      "unix:" + dir_.path() + "/s.sock", grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  grpc::Slice slice(wire);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  generic.UnaryCall(&ctx, "/micromongo.v1.DataService/Count", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = std::move(s);
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(CodeOf(status), kBadValue) << status.error_message();
  EXPECT_TRUE(server_->Alive());
}

}  // namespace
