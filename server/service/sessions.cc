#include "service/sessions.h"

#include <algorithm>
#include <array>

#include "document/builder.h"
#include "document/status.h"
#include "micromongo/document.h"

namespace micromongo::service {

namespace {

constexpr int kConflictingOperationInProgress = 117;
// MongoDB's error for txnNumber on a command that is neither a retryable write nor a
// transaction statement.
constexpr int kNotRetryableWrite = 50768;

// What a multi-statement transaction may run (MongoDB's list: create and createIndexes only
// make new collections, which storage/transaction.h describes).
bool AllowedInTransaction(std::string_view command) {
  static constexpr std::array<std::string_view, 14> kAllowed = {
      "find", "getMore", "killCursors", "insert", "update", "delete", "findAndModify",
      "aggregate", "distinct", "bulkWrite", "create", "createIndexes", "commitTransaction", "abortTransaction"};
  return std::find(kAllowed.begin(), kAllowed.end(), command) != kAllowed.end();
}

bool RetryableWrite(std::string_view command) {
  return command == "insert" || command == "update" || command == "delete" || command == "findAndModify" ||
         command == "bulkWrite";
}

}  // namespace

absl::StatusOr<SessionFields> MakeSessionFields(std::string lsid, std::string lsid_document,
                                                std::optional<int64_t> txn_number, std::optional<bool> autocommit,
                                                std::optional<bool> start_transaction) {
  SessionFields fields;
  fields.lsid = std::move(lsid);
  fields.lsid_document = std::move(lsid_document);
  fields.txn_number = txn_number;
  if (autocommit.has_value()) {
    if (*autocommit) return MongoError(kInvalidOptions, "autocommit must be false");
    if (!fields.txn_number) {
      return MongoError(kInvalidOptions, "'autocommit' field requires a transaction number to also be specified");
    }
    fields.in_transaction = true;
  }
  if (start_transaction.has_value()) {
    if (!*start_transaction) return MongoError(kInvalidOptions, "startTransaction must be true");
    if (!fields.in_transaction) {
      return MongoError(kInvalidOptions, "txnNumber and autocommit: false must accompany startTransaction");
    }
    fields.start_transaction = true;
  }
  if (fields.txn_number && fields.lsid.empty()) {
    return MongoError(kInvalidOptions, "Transaction number requires a session ID to also be specified");
  }
  return fields;
}

std::string LsidDocument(std::string_view id, std::string_view uid) {
  bson::Builder doc;
  doc.AppendValue("id", Value(Binary{4, std::string(id)}));
  doc.AppendValue("uid", Value(Binary{0, std::string(uid)}));
  return std::move(doc).Finish();
}

class Session {
 public:
  enum class State { kNone, kInProgress, kCommitted, kAborted };
  std::mutex mu;
  int64_t txn_number = -1;
  State state = State::kNone;
  std::unique_ptr<storage::Transaction> txn;
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point last_use;
  // The last retryable write run under txn_number, and its reply (none while it did not
  // succeed; an empty one is a reply: a protobuf of default fields).
  std::string retry_command;
  std::optional<std::string> retry_reply;
  // The last retryable write committed but its reply is not known (a restart came between):
  // its retry is answered from what its commits changed if that determines the reply, and
  // refused otherwise, never run twice.
  bool retry_reply_lost = false;
  storage::RetryOutcome retry_outcome;
  // The databases holding this session's history records (deleted when it is forgotten).
  std::vector<std::weak_ptr<storage::Database>> history;

  void AbortTransaction() {
    if (txn != nullptr) txn->Abort();
    txn.reset();
    if (state == State::kInProgress) state = State::kAborted;
  }
};

Statement::Statement(std::shared_ptr<Session> session, std::unique_lock<std::mutex> lock, bool in_transaction)
    : session_(std::move(session)), lock_(std::move(lock)), in_transaction_(in_transaction) {
  if (in_transaction_ && session_->txn != nullptr) {
    scope_ = std::make_unique<storage::TransactionScope>(session_->txn.get());
  }
}

Statement::~Statement() {
  // A retryable write that committed and then failed (a later statement's error, a reply
  // that could not be made durable) has no reply to send again; run again as a new write it
  // would apply its commits twice. Its retry is treated as one after a restart: answered
  // or resumed from the record, or refused.
  if (session_ != nullptr && retry_scope_ != nullptr && retry_scope_->wrote() && !session_->retry_reply) {
    session_->retry_reply_lost = true;
    session_->retry_outcome = retry_scope_->outcome();
  }
}

bool Statement::ResumeRetriedWrite(std::string_view command) {
  if (retried_outcome_ == nullptr || !retried_outcome_->by_statement || !RetryableWrite(command) ||
      command == "findAndModify") {
    return false;
  }
  storage::RetryRecord record;
  record.txn_number = session_->txn_number;
  record.command = session_->retry_command;
  record.outcome = *retried_outcome_;
  retry_scope_ = std::make_unique<storage::RetryScope>(lsid_, std::move(record));
  retried_outcome_ = nullptr;
  return true;
}

int64_t Statement::txn_number() const { return session_ != nullptr ? session_->txn_number : -1; }

void Statement::BindRetryScope(std::string_view lsid, int64_t txn_number, const std::string& command) {
  lsid_ = std::string(lsid);
  retry_scope_ = std::make_unique<storage::RetryScope>(std::string(lsid), txn_number, command);
}

void Statement::Failed() {
  if (!in_transaction_ || session_ == nullptr) return;
  scope_.reset();
  session_->AbortTransaction();
}

absl::Status Statement::CommitTransaction() {
  if (session_->state == Session::State::kCommitted) return absl::OkStatus();  // a retried commit
  scope_.reset();
  absl::Status s = session_->txn->Commit();
  session_->txn.reset();
  session_->state = s.ok() ? Session::State::kCommitted : Session::State::kAborted;
  return s;
}

absl::Status Statement::AbortTransaction() {
  scope_.reset();
  session_->AbortTransaction();
  return absl::OkStatus();
}

absl::Status IncompleteHistory(int64_t txn_number) {
  return MongoError(kIncompleteTransactionHistory,
                    StrCat("Incomplete history detected for transaction ", txn_number,
                           " on session: the write committed and its reply cannot be sent again"));
}

absl::Status Statement::RememberReply(std::string reply) {
  if (session_ == nullptr || in_transaction_) return absl::OkStatus();
  if (retry_scope_ != nullptr && retry_scope_->wrote()) {
    // A reply record that could not be written leaves the record saying the write ran (a
    // retry after a restart is then refused, not run again); writes that could not be
    // made durable fail the command.
    if (absl::Status s = retry_scope_->RecordReply(reply); !s.ok()) return s;
    for (const std::weak_ptr<storage::Database>& db : retry_scope_->written()) {
      storage::AddDatabaseOnce(&session_->history, db);
    }
  }
  session_->retry_reply = std::move(reply);
  session_->retry_reply_lost = false;
  return absl::OkStatus();
}

SessionCatalog::SessionCatalog(std::chrono::milliseconds transaction_lifetime, std::chrono::milliseconds idle_timeout)
    : lifetime_(transaction_lifetime), idle_timeout_(idle_timeout), last_sweep_(std::chrono::steady_clock::now()) {}

SessionCatalog::~SessionCatalog() = default;

std::shared_ptr<Session> SessionCatalog::Get(std::string_view lsid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(lsid);
  if (it != sessions_.end()) return it->second;
  auto session = std::make_shared<Session>();
  sessions_.emplace(std::string(lsid), session);
  return session;
}

size_t SessionCatalog::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return sessions_.size();
}

void SessionCatalog::End(std::string_view lsid) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = sessions_.find(lsid);
    if (it == sessions_.end()) return;
    session = it->second;
    sessions_.erase(it);
  }
  // In use (the caller's own command may name it): aborted when released, as in EndAll.
  std::unique_lock<std::mutex> l(session->mu, std::try_to_lock);
  if (l.owns_lock()) {
    session->AbortTransaction();
    DropHistory(session.get(), lsid);
  }
}

void SessionCatalog::DropHistory(Session* s, std::string_view lsid) {
  for (const std::weak_ptr<storage::Database>& w : s->history) {
    if (std::shared_ptr<storage::Database> db = w.lock()) (void)db->DeleteRetryRecord(lsid);
  }
  s->history.clear();
}

absl::Status SessionCatalog::LoadHistory(Session* s, const SessionFields& fields) {
  if (engine_ == nullptr) return absl::OkStatus();
  // Each database a write committed in holds its record: the newest one is the session's.
  std::optional<storage::RetryRecord> newest;
  std::vector<std::string_view> names;
  if (!fields.database.empty()) names.push_back(fields.database);
  for (const std::string& name : fields.other_databases) names.push_back(name);
  for (size_t i = 0; i < names.size(); ++i) {
    auto db = engine_->GetDatabase(names[i], /*create=*/false);
    // A bad name among the others is the command's to report (it writes nothing there).
    if (!db.ok() && i == 0 && !fields.database.empty()) return db.status();
    if (!db.ok() || *db == nullptr) continue;
    auto record = (*db)->GetRetryRecord(fields.lsid);
    if (!record.ok()) return record.status();
    if (!record->has_value()) continue;
    storage::AddDatabaseOnce(&s->history, *db);
    if (!newest || (*record)->txn_number > newest->txn_number) {
      newest = **std::move(record);
    } else if ((*record)->txn_number == newest->txn_number) {
      // One write in several databases: each holds the statements that committed there;
      // the latest record has its totals.
      if ((*record)->written_ms > newest->written_ms) std::swap(*newest, **record);
      newest->outcome.MergeStatements((*record)->outcome);
    }
  }
  if (!newest) return absl::OkStatus();
  const storage::RetryRecord& r = *newest;
  if (r.txn_number < *fields.txn_number) return absl::OkStatus();
  s->txn_number = r.txn_number;
  s->retry_command = r.command;
  s->retry_reply = r.reply;
  s->retry_reply_lost = !r.reply.has_value();
  s->retry_outcome = r.outcome;
  return absl::OkStatus();
}

void SessionCatalog::EndAll() {
  std::map<std::string, std::shared_ptr<Session>, std::less<>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    all.swap(sessions_);
  }
  for (auto& [id, session] : all) {
    // A session in use (the caller's own, whose command is this one, or another
    // connection's) is not waited for: its transaction is aborted when its last command
    // lets go of it (~Transaction), and its lsid starts afresh meanwhile.
    std::unique_lock<std::mutex> l(session->mu, std::try_to_lock);
    if (l.owns_lock()) session->AbortTransaction();
  }
}

void SessionCatalog::AbortExpired() {
  std::vector<std::pair<std::string, std::shared_ptr<Session>>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    last_sweep_ = std::chrono::steady_clock::now();
    for (auto& [id, s] : sessions_) all.emplace_back(id, s);
  }
  auto now = std::chrono::steady_clock::now();
  std::vector<std::string> idle;
  for (auto& [id, s] : all) {
    std::unique_lock<std::mutex> l(s->mu, std::try_to_lock);
    if (!l.owns_lock()) continue;  // in use: its next command checks
    if (s->state == Session::State::kInProgress && now - s->started > lifetime_) s->AbortTransaction();
    // MongoDB forgets a session unused for logicalSessionTimeoutMinutes.
    if (now - s->last_use > idle_timeout_) {
      s->AbortTransaction();
      DropHistory(s.get(), id);
      idle.push_back(id);
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  for (const std::string& id : idle) {
    auto it = sessions_.find(id);
    // Still idle: nobody checked it out since (a checkout holds a reference).
    if (it != sessions_.end() && it->second.use_count() <= 2) sessions_.erase(it);
  }
}

absl::StatusOr<Statement> SessionCatalog::Begin(const SessionFields& fields, std::string_view command) {
  bool sweep;
  {
    std::lock_guard<std::mutex> l(mu_);
    sweep = std::chrono::steady_clock::now() - last_sweep_ > std::chrono::seconds(1);
  }
  if (sweep) AbortExpired();
  std::shared_ptr<Session> s = Get(fields.lsid);
  std::unique_lock<std::mutex> lock(s->mu);
  s->last_use = std::chrono::steady_clock::now();
  if (s->state == Session::State::kInProgress && std::chrono::steady_clock::now() - s->started > lifetime_) {
    s->AbortTransaction();
  }
  if (!fields.txn_number.has_value()) return Statement(s, std::move(lock), false);
  const int64_t n = *fields.txn_number;
  if (s->txn_number < 0 && s->state == Session::State::kNone && !fields.in_transaction && RetryableWrite(command)) {
    if (auto loaded = LoadHistory(s.get(), fields); !loaded.ok()) return loaded;
  }
  if (n < s->txn_number) {
    return MongoError(kTransactionTooOld, StrCat("Cannot start transaction ", n, " on session because a newer ",
                                                 "transaction ", s->txn_number, " has already started."));
  }
  if (!fields.in_transaction) {
    if (!RetryableWrite(command)) {
      return MongoError(kNotRetryableWrite,
                        StrCat("txnNumber may only be provided for multi-document transactions and retryable "
                               "write commands. autocommit:false was not provided, and ",
                               command, " is not a retryable write command."));
    }
    if (n == s->txn_number) {
      if (s->state != Session::State::kNone) {
        return MongoError(kIllegalOperation,
                          StrCat("Retryable write with txnNumber ", n,
                                 " is prohibited on session because a transaction with txnNumber ", n,
                                 " has been started"));
      }
      // The write committed: answered with its reply, never run again. When that reply is
      // unknown (a restart came between the commit and the reply's record), the protocol
      // answers from what the commits changed, or refuses; another request's reply (the
      // other protocol's encoding) is refused.
      std::string mine = StrCat(fields.protocol, ":", command);
      if ((s->retry_reply_lost || s->retry_reply) && s->retry_command != mine) return IncompleteHistory(n);
      Statement st(s, std::move(lock), false);
      if (s->retry_reply_lost) {
        st.retried_outcome_ = &s->retry_outcome;
        st.lsid_ = fields.lsid;
      } else if (s->retry_reply) {
        st.retried_ = &*s->retry_reply;
      } else {
        // The first run failed: it wrote nothing, and runs again.
        s->retry_command = std::move(mine);
        st.BindRetryScope(fields.lsid, n, s->retry_command);
      }
      return st;
    }
    s->AbortTransaction();
    s->txn_number = n;
    s->state = Session::State::kNone;
    s->retry_command = StrCat(fields.protocol, ":", command);
    s->retry_reply.reset();
    s->retry_reply_lost = false;
    Statement st(s, std::move(lock), false);
    st.BindRetryScope(fields.lsid, n, s->retry_command);
    return st;
  }
  if (fields.start_transaction) {
    if (n == s->txn_number) {
      return MongoError(kConflictingOperationInProgress,
                        StrCat("Cannot start transaction ", n,
                               " on session because a transaction or retryable write with this number "
                               "already ran"));
    }
    if (command == "commitTransaction" || command == "abortTransaction") {
      return MongoError(kNoSuchTransaction, StrCat("Transaction ", n, " has not been started"));
    }
    s->AbortTransaction();
    s->txn_number = n;
    s->state = Session::State::kInProgress;
    s->txn = std::make_unique<storage::Transaction>();
    s->txn->ReadAllDatabasesAtOnce();
    s->txn->SetOrigin(fields.lsid_document, n);
    s->started = std::chrono::steady_clock::now();
    s->retry_command.clear();
    s->retry_reply.reset();
    s->retry_reply_lost = false;
  } else {
    if (n > s->txn_number || s->state == Session::State::kNone) {
      return MongoError(kNoSuchTransaction,
                        StrCat("Given transaction number ", n,
                               " does not match any in-progress transactions. The active transaction number is ",
                               s->txn_number));
    }
    if (s->state == Session::State::kCommitted) {
      if (command == "commitTransaction") return Statement(s, std::move(lock), true);
      return MongoError(kTransactionCommitted, StrCat("Transaction ", n, " has been committed."));
    }
    if (s->state == Session::State::kAborted) {
      return MongoError(kNoSuchTransaction, StrCat("Transaction with { txnNumber: ", n, " } has been aborted."));
    }
  }
  if (!AllowedInTransaction(command)) {
    s->AbortTransaction();
    return MongoError(kOperationNotSupportedInTransaction,
                      StrCat("Cannot run '", command, "' in a multi-document transaction."));
  }
  return Statement(s, std::move(lock), true);
}

}  // namespace micromongo::service
