#include "wire/command_runner.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "document/status.h"
#include "micromongo/document.h"
#include "service/change_stream_cursor.h"
#include "service/error_labels.h"
#include "storage/engine.h"
#include "service/request_counters.h"
#include "service/slow_op_log.h"
#include "util/op_debug.h"
#include "wire/handlers.h"

namespace micromongo::wire {
namespace {

// A reply must be valid BSON, and messages can quote what the client sent; bytes of
// invalid UTF-8 are shown as '?'.
std::string ValidUtf8(std::string_view text) {
  std::string out(text);
  if (!bson::IsValidUtf8(out)) {
    for (char& c : out) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
  }
  return out;
}

using service::LabelContext;
using service::ServerLabels;

void AppendLabels(const std::vector<std::string>& labels, bson::Builder* out) {
  if (labels.empty()) return;
  auto at = out->StartArray("errorLabels");
  char key[24];
  for (size_t i = 0; i < labels.size(); ++i) out->AppendString(bson::ArrayKey(i, key), labels[i]);
  out->End(at);
}

void AppendError(const absl::Status& status, const LabelContext& label_context, bson::Builder* out_builder,
                 const std::vector<std::string>* labels_given = nullptr) {
  bson::Builder& out = *out_builder;
  int code = MongoCodeOf(status);
  out.AppendDouble("ok", 0);
  out.AppendString("errmsg", ValidUtf8(std::string(status.message())));
  out.AppendInt32("code", code);
  out.AppendString("codeName", ErrorCodeName(code));
  AppendLabels(labels_given != nullptr ? *labels_given : ServerLabels(code, 0, label_context), &out);
  // keyPattern/keyValue of a duplicate key, errInfo of a validation failure.
  std::string details = ErrorDetailsOf(status);
  if (!details.empty()) {
    for (const bson::ElementView& e : bson::DocView(details)) out.AppendView(e.key, e.value);
  }
}

std::string ErrorReply(const absl::Status& status) {
  bson::Builder out;
  AppendError(status, LabelContext{}, &out);
  return std::move(out).Finish();
}

// A reply with a write concern error (the failCommand fail point's), labelled as MongoDB
// labels it.
std::string WithWriteConcernError(const std::string& reply, const std::string& wce, const LabelContext& ctx) {
  bson::Builder out;
  bson::DocView wce_doc(wce);
  bson::ValueView code;
  int wc_code = wce_doc.Find("code", &code) && code.IsNumber() ? static_cast<int>(code.AsDouble()) : 0;
  for (const bson::ElementView& e : bson::DocView(reply)) {
    if (e.key != "errorLabels") out.AppendView(e.key, e.value);
  }
  out.AppendDocument("writeConcernError", wce_doc);
  AppendLabels(ServerLabels(0, wc_code, ctx), &out);
  return std::move(out).Finish();
}

// MongoDB's lsid uid: the SHA-256 of the user ("user@db"; of "" without a login). Drivers
// send an lsid with every command: the hash (~7k instructions, measured with pymongo's
// find_one by _id) is taken once per user of the connection.
const std::string& SessionUid(const ConnectionInfo& connection) {
  if (connection.user.empty()) {
    static const std::string* const kAnonymous = new std::string(Sha256(""));
    return *kAnonymous;
  }
  if (connection.uid_user != connection.user) {
    connection.uid = Sha256(StrCat(connection.user, "@", kAuthDatabase));
    connection.uid_user = connection.user;
  }
  return connection.uid;
}

// The session fields of a command: lsid, txnNumber, autocommit, startTransaction.
absl::StatusOr<service::SessionFields> SessionFieldsOf(const Command& command, const ConnectionInfo& connection) {
  std::string lsid, lsid_document;
  if (auto value = command.Get("lsid")) {
    if (value->type != BsonType::kDocument) return command.WrongType("lsid", *value, "object");
    bson::ValueView id;
    if (!value->Doc().Find("id", &id)) return MongoError(kFailedToParse, "lsid is missing the required field 'id'");
    lsid = std::string(id.bytes());
    bson::Builder doc;
    doc.AppendView("id", id);
    doc.AppendValue("uid", Value(Binary{0, SessionUid(connection)}));
    lsid_document = std::move(doc).Finish();
  }
  std::optional<int64_t> txn_number;
  std::optional<bool> autocommit, start_transaction;
  if (command.Has("txnNumber")) {
    auto n = command.Integer("txnNumber", 0);
    if (!n.ok()) return n.status();
    txn_number = *n;
  }
  if (command.Has("autocommit")) {
    auto value = command.Bool("autocommit", true);
    if (!value.ok()) return value.status();
    autocommit = *value;
  }
  if (command.Has("startTransaction")) {
    auto value = command.Bool("startTransaction", false);
    if (!value.ok()) return value.status();
    start_transaction = *value;
  }
  return service::MakeSessionFields(std::move(lsid), std::move(lsid_document), txn_number, autocommit,
                                    start_transaction);
}

constexpr int kUnsatisfiableWriteConcern = 100;
constexpr int kNotAReplicaSet = 123;

// Whether a write command asks for more acknowledgements ({w: n}) than the one member of
// the set can give.
bool UnsatisfiableWriteConcern(const Command& command) {
  static constexpr std::string_view kWrites[] = {
      "insert", "update", "delete", "findAndModify", "bulkWrite", "commitTransaction", "abortTransaction",
      "create", "drop", "createIndexes", "dropIndexes", "dropDatabase", "renameCollection", "collMod"};
  if (std::find(std::begin(kWrites), std::end(kWrites), command.name()) == std::end(kWrites)) return false;
  auto wc = command.Get("writeConcern");
  if (!wc || wc->type != BsonType::kDocument) return false;
  bson::ValueView w;
  return wc->Doc().Find("w", &w) && w.IsNumber() && w.AsDouble() > 1;
}

// A command's readConcern {level: "snapshot"} outside a transaction: nullopt for other
// levels; 0 to read as of now; else its atClusterTime. MongoDB serves it on find,
// aggregate and distinct of a replica set member.
absl::StatusOr<std::optional<uint64_t>> SnapshotReadOf(const Command& command, std::string_view db,
                                                       bool replica_set) {
  auto rc = command.Get("readConcern");
  bson::ValueView level, at;
  if (!rc || rc->type != BsonType::kDocument || !rc->Doc().Find("level", &level) ||
      level.type != BsonType::kString || level.String() != "snapshot") {
    return std::nullopt;
  }
  if (!replica_set) {
    return MongoError(kNotAReplicaSet, "node needs to be a replica set member to use readConcern: snapshot");
  }
  std::string_view name = command.name();
  if (name != "find" && name != "aggregate" && name != "distinct") {
    return MongoError(kInvalidOptions,
                      StrCat("Command ", name, " does not support { readConcern: { level: \"snapshot\" } }"));
  }
  if (!rc->Doc().Find("atClusterTime", &at)) return std::optional<uint64_t>(0);
  if (at.type != BsonType::kTimestamp) return command.WrongType("readConcern.atClusterTime", at, "timestamp");
  return std::optional<uint64_t>(static_cast<uint64_t>(at.Int64()));
}

// The reply of a snapshot read names the time it read at: in its cursor (find,
// aggregate), at the top otherwise (distinct).
std::string WithAtClusterTime(const std::string& reply, uint64_t time) {
  Value ts(Timestamp{static_cast<uint32_t>(time >> 32), static_cast<uint32_t>(time)});
  bson::Builder out;
  bool in_cursor = false;
  for (const bson::ElementView& e : bson::DocView(reply)) {
    if (e.key == "cursor" && e.value.type == BsonType::kDocument) {
      auto at = out.StartDocument("cursor");
      for (const bson::ElementView& c : e.value.Doc()) out.AppendView(c.key, c.value);
      out.AppendValue("atClusterTime", ts);
      out.End(at);
      in_cursor = true;
      continue;
    }
    out.AppendView(e.key, e.value);
  }
  if (!in_cursor) out.AppendValue("atClusterTime", ts);
  return std::move(out).Finish();
}

// The first writeErrors entry's code of a write command's reply, or 0.
int FirstWriteErrorCode(bson::DocView reply) {
  bson::ValueView errors;
  if (!reply.Find("writeErrors", &errors) || errors.type != BsonType::kArray) return 0;
  for (const bson::ElementView& e : errors.Doc()) {
    bson::ValueView code;
    if (e.value.type == BsonType::kDocument && e.value.Doc().Find("code", &code) && code.IsNumber()) {
      return static_cast<int>(code.AsDouble());
    }
    return 1;
  }
  return 0;
}

void Count(std::string_view name) {
  auto& c = service::GlobalRequestCounters();
  c.total.fetch_add(1, std::memory_order_relaxed);
  if (name == "find") {
    c.query.fetch_add(1, std::memory_order_relaxed);
  } else if (name == "getMore") {
    c.getmore.fetch_add(1, std::memory_order_relaxed);
  } else if (name != "insert" && name != "update" && name != "delete") {
    // Writes count their documents and statements in their handlers.
    c.command.fetch_add(1, std::memory_order_relaxed);
  }
}

// A slow command's log line: its namespace (the collection it names, or getMore's
// "collection") and filter ("filter", or findAndModify's "query").
void LogSlow(const OpDebug& op, const Command& command, const std::string& db, const absl::Status& status) {
  std::string ns = db;
  bson::ValueView coll = command.value();
  if (coll.type != BsonType::kString) {
    if (auto c = command.Get("collection")) coll = *c;
  }
  if (coll.type == BsonType::kString) ns = StrCat(db, ".", coll.String());
  std::string_view filter;
  for (std::string_view key : {"filter", "query"}) {
    auto f = command.Get(key);
    if (f && f->type == BsonType::kDocument) {
      filter = f->Doc().bytes();
      break;
    }
  }
  std::string_view name = command.name();
  bool returns = name == "find" || name == "getMore" || name == "aggregate";
  service::LogSlowOperation(op, "op_msg", name, ns, filter, returns, status);
}

}  // namespace

absl::Status CommandRunner::SetPassword(std::string_view password) {
  auto credentials = ScramCredentials::Derive(password);
  if (!credentials.ok()) return credentials.status();
  credentials_ = *std::move(credentials);
  return absl::OkStatus();
}

std::string CommandRunner::Run(const Command& command, ConnectionInfo* connection) const {
  std::string reply = RunCommand(command, connection);
  if (connection->close) return reply;  // no reply goes out
  return WithClusterTime(std::move(reply));
}

std::string CommandRunner::RunCommand(const Command& command, ConnectionInfo* connection) const {
  auto& counters = service::GlobalRequestCounters();
  counters.in_flight.fetch_add(1, std::memory_order_relaxed);
  struct Done {
    ~Done() { service::GlobalRequestCounters().in_flight.fetch_sub(1, std::memory_order_relaxed); }
  } done;
  Count(command.name());
  if (command.name().empty()) return ErrorReply(MongoError(kFailedToParse, "Empty command"));
  if (fail_command_ != nullptr && command.name() == "configureFailPoint") {
    FailCommandPoint* point = command.value().type == BsonType::kString &&
                                      command.value().String() == fail_get_more_->name()
                                  ? fail_get_more_.get()
                                  : fail_command_.get();
    if (auto s = point->Configure(command.body()); !s.ok()) return ErrorReply(s);
    bson::Builder ok;
    ok.AppendDouble("ok", 1);
    return std::move(ok).Finish();
  }
  Handler handler = FindHandler(command.name());
  if (handler == nullptr) {
    return ErrorReply(MongoError(kCommandNotFound,
                                 StrCat("no such command: '", command.name(), "'")));
  }
  auto db = command.Database();
  if (!db.ok()) return ErrorReply(db.status());
  if (connection->auth_required && connection->user.empty() &&
      !RunsWithoutAuthentication(command.name())) {
    return ErrorReply(MongoError(kUnauthorized,
                                 StrCat("Command ", command.name(), " requires authentication")));
  }
  if ((command.name() == "commitTransaction" || command.name() == "abortTransaction") && *db != "admin") {
    // Refused before the session is touched: the transaction goes on.
    return ErrorReply(MongoError(kUnauthorized, StrCat(command.name(), " may only be run against the admin database.")));
  }
  const bool transaction_fields =
      command.Has("startTransaction") || command.Has("txnNumber") || command.Has("autocommit");
  if (transaction_fields && sessions_ == nullptr) {
    return ErrorReply(MongoError(kIllegalOperation,
                                 "Transaction numbers are only allowed on a replica set member "
                                 "or mongos"));
  }
  // A replica set's commands with an lsid check their session out (transactions,
  // retryable writes); a standalone ignores lsid, as mongod does.
  std::optional<service::Statement> statement;
  LabelContext label_context;
  label_context.commit_or_abort = command.name() == "commitTransaction" || command.name() == "abortTransaction";
  // The failCommand fail point (test commands only) acts once the command is parsed,
  // before its session is checked out: a failed first statement of a transaction has not
  // started it, a failed statement leaves the transaction as it was, as in MongoDB.
  std::string fail_write_concern;
  if (fail_command_ != nullptr) {
    auto action = fail_command_->Hit(command.name(), connection->app_name);
    bool after_checkout = false;
    if (!action && command.name() == "getMore") {
      action = fail_get_more_->Hit("getMore", connection->app_name);
      after_checkout = action.has_value();
    }
    if (action) {
      if (action->block_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(action->block_ms));
      if (action->close_connection) {
        connection->close = true;
        return std::string();
      }
      if (action->error_code != 0) {
        LabelContext fail_context = label_context;
        if (sessions_ != nullptr) {
          auto fields = SessionFieldsOf(command, *connection);
          if (fields.ok()) {
            fail_context.in_transaction = fields->in_transaction;
            fail_context.retryable_write = fields->txn_number.has_value() && !fields->in_transaction;
          }
        }
        // Only an error raised with the cursor in hand knows it is a change stream's.
        fail_context.change_stream_get_more = after_checkout && IsChangeStreamCursor(command);
        bson::Builder error;
        AppendError(MongoError(action->error_code, "Failing command via 'failCommand' failpoint"), fail_context,
                    &error, action->labels_given ? &action->error_labels : nullptr);
        return std::move(error).Finish();
      }
      fail_write_concern = std::move(action->write_concern_error);
    }
  }
  if (sessions_ != nullptr && (transaction_fields || command.Has("lsid"))) {
    auto fields = SessionFieldsOf(command, *connection);
    if (!fields.ok()) return ErrorReply(fields.status());
    fields->database = *db;
    if (command.name() == "bulkWrite") {
      // Its writes, and so its history, are in its namespaces' databases.
      if (auto namespaces = command.Objects("nsInfo"); namespaces.ok()) {
        for (bson::DocView ns : *namespaces) {
          bson::ValueView name;
          if (ns.Find("ns", &name) && name.type == BsonType::kString) {
            std::string_view full = name.String();
            fields->other_databases.emplace_back(full.substr(0, full.find('.')));
          }
        }
      }
    }
    auto begun = sessions_->Begin(*fields, command.name());
    label_context.in_transaction = fields->in_transaction;
    label_context.retryable_write = fields->txn_number.has_value() && !fields->in_transaction;
    if (!begun.ok()) {
      bson::Builder out;
      AppendError(begun.status(), label_context, &out);
      return std::move(out).Finish();
    }
    statement.emplace(*std::move(begun));
    if (const std::string* reply = statement->retried_reply()) return *reply;
  }
  // A retried write whose reply was lost: answered from what its commits changed.
  const storage::RetryOutcome* lost = statement ? statement->retried_outcome() : nullptr;
  // Snapshot reads outside transactions bind a read-only view for the command.
  std::shared_ptr<storage::Transaction> snapshot_view;  // held while the command reads
  std::optional<storage::TransactionScope> snapshot_scope;
  std::optional<uint64_t> snapshot_time;
  if (!(statement && statement->in_transaction())) {
    auto read_at = SnapshotReadOf(command, *db, replica_set_ != nullptr);
    if (!read_at.ok()) return ErrorReply(read_at.status());
    if (read_at->has_value()) {
      auto view = **read_at == 0 ? snapshots_->Now(*db) : snapshots_->At(**read_at, *db);
      if (!view.ok()) return ErrorReply(view.status());
      snapshot_view = view->txn;
      snapshot_scope.emplace(view->txn.get());
      snapshot_time = view->time;
    }
  }
  HandlerContext context{data_, admin_, connection, *std::move(db),
                         credentials_ ? &*credentials_ : nullptr, replica_set_.get(), sessions_,
                         statement ? &*statement : nullptr};
  if (lost != nullptr) {
    if (std::optional<std::string> reply = RetriedWriteReply(context, command, *lost)) return *std::move(reply);
    // Resumed: the statements its first run committed are answered from the record, the
    // others run (MongoDB's retry of a partly executed batch); else refused.
    if (!statement->ResumeRetriedWrite(command.name())) {
      bson::Builder out;
      AppendError(service::IncompleteHistory(statement->txn_number()), label_context, &out);
      return std::move(out).Finish();
    }
  }
  // The query executors report what they examined into the thread's current OpDebug, for
  // the slow-operation log, as under gRPC.
  auto op = std::make_shared<OpDebug>();
  op->slow = service::SlowOpThreshold();
  SetCurrentOpDebug(op);
  bson::Builder out;
  absl::Status status = handler(context, command, &out);
  op->Finish();
  SetCurrentOpDebug(nullptr);
  if (op->is_slow()) LogSlow(*op, command, context.db, status);
  const bool in_transaction = statement && statement->in_transaction();
  std::string reply;
  if (status.ok()) {
    out.AppendDouble("ok", 1);
    reply = std::move(out).Finish();
    if (in_transaction) {
      // A write error aborts the transaction; a write conflict is the whole command's
      // error, labelled for the client to run the transaction again.
      int code = FirstWriteErrorCode(bson::DocView(reply));
      if (code == kWriteConflict) status = MongoError(kWriteConflict, "Write conflict in a transaction");
      if (code != 0) statement->Failed();
    }
  }
  if (!status.ok()) {
    if (statement) statement->Failed();
    bson::Builder error;
    AppendError(status, label_context, &error);
    return std::move(error).Finish();
  }
  if (!fail_write_concern.empty()) reply = WithWriteConcernError(reply, fail_write_concern, label_context);
  if (replica_set_ != nullptr && UnsatisfiableWriteConcern(command)) {
    // The write happened; the set cannot acknowledge it as asked (MongoDB's answer on a
    // set with fewer data-bearing members than w).
    bson::Builder with_error;
    for (const bson::ElementView& e : bson::DocView(reply)) with_error.AppendView(e.key, e.value);
    auto at = with_error.StartDocument("writeConcernError");
    with_error.AppendInt32("code", kUnsatisfiableWriteConcern);
    with_error.AppendString("codeName", ErrorCodeName(kUnsatisfiableWriteConcern));
    with_error.AppendString("errmsg", "Not enough data-bearing nodes");
    with_error.End(at);
    reply = std::move(with_error).Finish();
  }
  if (snapshot_time) reply = WithAtClusterTime(reply, *snapshot_time);
  // Only a retryable write is answered again from memory (a find's reply is not kept).
  if (statement && label_context.retryable_write) {
    if (absl::Status s = statement->RememberReply(reply); !s.ok()) {
      bson::Builder error;
      AppendError(s, label_context, &error);
      return std::move(error).Finish();
    }
  }
  return reply;
}

void CommandRunner::EnableTestCommands() {
  fail_command_ = std::make_unique<FailCommandPoint>("failCommand");
  fail_get_more_ = std::make_unique<FailCommandPoint>("failGetMoreAfterCursorCheckout");
}

bool CommandRunner::IsChangeStreamCursor(const Command& command) const {
  if (command.value().type != BsonType::kInt64) return false;
  bool json = false;
  int64_t id = command.value().Int64();
  std::unique_ptr<service::Cursor> cursor = data_->cursors()->CheckOut(id, &json);
  if (cursor == nullptr) return false;
  bool change_stream = dynamic_cast<service::ChangeStreamCursor*>(cursor.get()) != nullptr;
  data_->cursors()->CheckIn(id, std::move(cursor));
  return change_stream;
}

void CommandRunner::EnableReplicaSet(std::string name, service::SessionCatalog* sessions,
                                     service::SnapshotHistory* snapshots) {
  session_reaper_.reset();  // it reads the catalog replaced below
  replica_set_ = std::make_unique<ReplicaSetInfo>();
  if (size_t slash = name.find('/'); slash != std::string::npos) {
    // mongod's seed-list form; a single-node set has one member (the first seed).
    std::string seeds = name.substr(slash + 1);
    replica_set_->host = seeds.substr(0, seeds.find(','));
    name.resize(slash);
  }
  replica_set_->name = std::move(name);
  if (snapshots == nullptr) {
    own_snapshots_ = std::make_unique<service::SnapshotHistory>(data_->engine());
    snapshots = own_snapshots_.get();
  }
  snapshots_ = snapshots;
  if (sessions != nullptr) {
    sessions_ = sessions;
    return;
  }
  own_sessions_ = std::make_unique<service::SessionCatalog>();
  sessions_ = own_sessions_.get();
  session_reaper_ = std::make_unique<PeriodicTask>(std::chrono::seconds(1), [this] { sessions_->AbortExpired(); });
}

std::string CommandRunner::WithClusterTime(std::string reply) const {
  if (replica_set_ == nullptr) return reply;
  // The cluster's time is the change clock's: every committed write's time is at or below.
  uint64_t now = data_->engine()->change_clock().Visible();
  Value time(Timestamp{static_cast<uint32_t>(now >> 32), static_cast<uint32_t>(now)});
  bson::Builder out;
  for (const bson::ElementView& e : bson::DocView(reply)) out.AppendView(e.key, e.value);
  auto at = out.StartDocument("$clusterTime");
  out.AppendValue("clusterTime", time);
  auto sig = out.StartDocument("signature");
  out.AppendValue("hash", Value(Binary{0, std::string(20, '\0')}));
  out.AppendInt64("keyId", 0);
  out.End(sig);
  out.End(at);
  out.AppendValue("operationTime", time);
  return std::move(out).Finish();
}

std::string CommandRunner::RunLegacy(bson::DocView query, ConnectionInfo* connection) const {
  // Drivers wrap the command as {$query: {...}, $readPreference: ...} on some paths.
  bson::ValueView inner;
  if (query.Find("$query", &inner) && inner.type == BsonType::kDocument) query = inner.Doc();
  Command command(query, nullptr);
  std::string_view name = command.name();
  if (name != "hello" && name != "isMaster" && name != "ismaster") {
    return ErrorReply(MongoError(kUnsupportedOpQueryCommand,
                                 StrCat("Unsupported OP_QUERY command: ", name,
                                        ". The client driver may require an upgrade.")));
  }
  Count(name);
  HandlerContext context{data_, admin_, connection, "admin", credentials_ ? &*credentials_ : nullptr,
                         replica_set_.get(), sessions_, nullptr};
  bson::Builder out;
  auto hello_ok = command.Bool("helloOk", false);
  AppendHello(context, command, name != "hello", hello_ok.ok() && *hello_ok, &out);
  out.AppendDouble("ok", 1);
  return std::move(out).Finish();
}

}  // namespace micromongo::wire
