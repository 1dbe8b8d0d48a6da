// MongoClient and Database.

#include <cctype>
#include <fstream>
#include <sstream>

#include "client_core.h"
#include "cursor_state.h"
#include "session_state.h"
#include "document/builder.h"
#include "document/status.h"
#include "micromongo/error.h"

namespace micromongo {
namespace internal {

namespace {

// A token file's content without trailing whitespace (as the server reads --auth-token-file).
std::string ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (!in || token.empty()) {
    throw Error(kInvalidOptions, ErrorCodeName(kInvalidOptions),
                StrCat("authTokenFile ", path, " cannot be read or is empty"));
  }
  return token;
}

}  // namespace

std::shared_ptr<WorkerBridge> ClientCore::Bridge() {
  std::lock_guard<std::mutex> l(mu);
  if (closed) {
    throw Error(kIllegalOperation, ErrorCodeName(kIllegalOperation),
                "the MongoClient is closed");
  }
  if (bridge != nullptr) return bridge;
  if (uri.use_worker) {
    WorkerOptions worker = options.worker_options;
    if (uri.mongodb_listener) worker.mongodb_listener = *uri.mongodb_listener;
    bridge = WorkerBridge::Create(worker);
    owns_bridge = true;
  } else if (options.worker_bridge != nullptr) {
    bridge = options.worker_bridge;
  } else if (uri.port != 0) {
    ConnectOptions connect = options.connect_options;
    connect.tls = connect.tls || uri.tls;
    if (connect.tls_ca_file.empty()) connect.tls_ca_file = uri.tls_ca_file;
    if (connect.tls_certificate_key_file.empty()) {
      connect.tls_certificate_key_file = uri.tls_certificate_key_file;
    }
    if (connect.auth_token.empty()) connect.auth_token = uri.auth_token;
    if (connect.auth_token.empty() && !uri.auth_token_file.empty()) {
      connect.auth_token = ReadTokenFile(uri.auth_token_file);
    }
    bridge = WorkerBridge::Connect(uri.host + ":" + std::to_string(uri.port), connect);
    owns_bridge = true;
  } else {
    throw Error(kInvalidOptions, ErrorCodeName(kInvalidOptions),
                "no worker for this client: pass ClientOptions::worker_bridge, add "
                "?useWorker=true to the URI, or name a server's host:port");
  }
  return bridge;
}

void SetBson(v1::Doc* out, const Document& doc) { out->set_bson(doc.ToBson()); }

void SetHint(v1::Hint* out, const std::optional<Hint>& hint) {
  if (!hint) return;
  if (hint->keys) {
    SetBson(out->mutable_keys(), *hint->keys);
  } else {
    out->set_name(hint->name);
  }
}

Document FromDoc(const v1::Doc& doc) {
  auto d = bson::DecodeChecked(doc.bson());
  if (!d.ok()) ThrowMongo(MongoCodeOf(d.status()), "", std::string(d.status().message()));
  return *std::move(d);
}

}  // namespace internal

MongoClient::MongoClient(std::string_view uri, ClientOptions options)
    : core_(std::make_shared<internal::ClientCore>()) {
  core_->uri = internal::ParseUri(uri);
  core_->options = std::move(options);
}

MongoClient::~MongoClient() {
  try {
    Close();
  } catch (...) {
    // Destructors do not throw; Close() only fails on worker shutdown trouble.
  }
}

void MongoClient::Connect() { Ping(); }

void MongoClient::Ping() {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::Empty request, reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncPing, request, &reply);
}

void MongoClient::Close() {
  std::shared_ptr<WorkerBridge> own;
  {
    std::lock_guard<std::mutex> l(core_->mu);
    if (core_->closed) return;
    core_->closed = true;
    if (core_->owns_bridge) own = std::move(core_->bridge);
    core_->bridge.reset();
  }
  if (own != nullptr) own->Terminate();
}

Database MongoClient::Db() const { return Database(core_, core_->uri.database); }
Database MongoClient::Db(std::string_view name) const { return Database(core_, std::string(name)); }

namespace {

// The listDatabases / listCollections request of `options`.
template <typename Request, typename Options>
void SetListing(const Options& options, bool name_only, const internal::ClientCore* core, Request* request) {
  if (options.filter) internal::SetBson(request->mutable_filter(), *options.filter);
  request->set_name_only(name_only);
  internal::SessionAccess::Attach(options.session, core, request);
}

}  // namespace

std::vector<std::string> MongoClient::ListDatabaseNames(const ListDatabasesOptions& options) const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::ListDatabasesRequest request;
  // Without a filter nothing needs the sizes and options the entries would carry.
  SetListing(options, options.name_only || !options.filter, core_.get(), &request);
  v1::ListDatabasesReply reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncListDatabases, request, &reply);
  return {reply.names().begin(), reply.names().end()};
}

std::vector<Document> MongoClient::ListDatabases(const ListDatabasesOptions& options) const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::ListDatabasesRequest request;
  SetListing(options, options.name_only, core_.get(), &request);
  v1::ListDatabasesReply reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncListDatabases, request, &reply);
  std::vector<Document> out;
  for (const v1::Doc& d : reply.databases()) out.push_back(internal::FromDoc(d));
  return out;
}

Document MongoClient::ServerStatus() const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::ServerStatusRequest request;
  v1::ServerStatusReply reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncServerStatus, request, &reply);
  return internal::FromDoc(reply.status());
}

BackupProgress MongoClient::Backup(const std::string& directory,
                                  const std::function<void(const BackupProgress&)>& progress) const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  auto connection = rpc.AcquireForStream();
  grpc::ClientContext context;
  v1::BackupRequest request;
  request.set_directory(directory);
  std::unique_ptr<grpc::ClientReader<v1::BackupProgress>> reader =
      connection->admin->Backup(&context, request);
  v1::BackupProgress reply;
  BackupProgress last;
  while (reader->Read(&reply)) {
    last.database = reply.database();
    last.databases_done = reply.databases_done();
    last.databases_total = reply.databases_total();
    last.bytes = reply.bytes();
    if (!reply.done() && progress) progress(last);
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) rpc.ThrowForStatus(status);
  return last;
}

std::shared_ptr<WorkerBridge> MongoClient::worker_bridge() const {
  std::lock_guard<std::mutex> l(core_->mu);
  return core_->bridge != nullptr ? core_->bridge : core_->options.worker_bridge;
}

micromongo::Collection Database::Collection(std::string_view name) const {
  return micromongo::Collection(core_, name_, std::string(name));
}

std::vector<Document> Database::ListCollections(const ListCollectionsOptions& options) const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::ListCollectionsRequest request;
  request.set_database(name_);
  SetListing(options, options.name_only, core_.get(), &request);
  v1::ListCollectionsReply reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncListCollections, request, &reply);
  std::vector<Document> out;
  for (const v1::Doc& d : reply.collections()) out.push_back(internal::FromDoc(d));
  return out;
}

std::vector<std::string> Database::ListCollectionNames(const ListCollectionsOptions& options) const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::ListCollectionsRequest request;
  request.set_database(name_);
  // Without a filter nothing needs the sizes and options the entries would carry.
  SetListing(options, options.name_only || !options.filter, core_.get(), &request);
  v1::ListCollectionsReply reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncListCollections, request, &reply);
  return {reply.names().begin(), reply.names().end()};
}

namespace {

void SetOptions(v1::CollectionOptions* out, const CollectionOptions& options) {
  if (options.validator) internal::SetBson(out->mutable_validator(), *options.validator);
  out->set_validation_level(options.validation_level);
  out->set_validation_action(options.validation_action);
  out->set_view_on(options.view_on);
  for (const Document& stage : options.pipeline) internal::SetBson(out->add_pipeline(), stage);
  if (options.change_stream_pre_and_post_images) {
    out->set_change_stream_pre_and_post_images(*options.change_stream_pre_and_post_images);
  }
  if (options.clustered_index) internal::SetBson(out->mutable_clustered_index(), *options.clustered_index);
  if (options.expire_after_seconds) out->set_expire_after_seconds(*options.expire_after_seconds);
  if (options.capped) out->set_capped(*options.capped);
  if (options.capped_size) out->set_capped_size(*options.capped_size);
  if (options.capped_max) out->set_capped_max(*options.capped_max);
  if (options.timeseries) internal::SetBson(out->mutable_timeseries(), *options.timeseries);
}

// Create and collMod share their request's shape; `start` picks the RPC.
template <typename Request, typename Start>
void SendCollectionOptions(internal::ClientCore* core, const std::string& db,
                           std::string_view name, const CollectionOptions& options, Start start) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core->Rpc(&keep);
  Request request;
  request.set_database(db);
  request.set_collection(std::string(name));
  SetOptions(request.mutable_options(), options);
  if constexpr (std::is_same_v<Request, v1::CreateCollectionRequest>) {
    internal::SessionAccess::Attach(options.session, core, &request);
  } else if (options.session != nullptr) {
    throw Error(kInvalidOptions, ErrorCodeName(kInvalidOptions), "collMod does not run in a session");
  }
  v1::Empty reply;
  rpc.Unary(start, request, &reply);
}

}  // namespace

void Database::CreateCollection(std::string_view name, const CollectionOptions& options) const {
  SendCollectionOptions<v1::CreateCollectionRequest>(
      core_.get(), name_, name, options, &v1::AdminService::Stub::AsyncCreateCollection);
}

void Database::ModifyCollection(std::string_view name, const CollectionOptions& options) const {
  SendCollectionOptions<v1::ModifyCollectionRequest>(
      core_.get(), name_, name, options, &v1::AdminService::Stub::AsyncModifyCollection);
}

Cursor Database::Aggregate(const std::vector<Document>& pipeline,
                           const AggregateOptions& options) const {
  // The service reads an empty collection name as "database-level".
  return micromongo::Collection(core_, name_, std::string()).Aggregate(pipeline, options);
}

namespace {

// `command` with `session`'s fields as MongoDB's drivers add them (lsid and, in a
// transaction, txnNumber, autocommit and startTransaction); the Session sent, if any.
std::optional<v1::Session> WithSession(internal::ClientCore* core, ClientSession* session, Document* command) {
  std::optional<v1::Session> sent = internal::SessionAccess::Fields(session, core);
  if (!sent) return std::nullopt;
  const v1::Session& fields = *sent;
  command->Append("lsid", Document{{"id", Binary{4, fields.id()}}});
  if (fields.has_txn_number()) command->Append("txnNumber", fields.txn_number());
  if (fields.has_autocommit()) command->Append("autocommit", fields.autocommit());
  if (fields.start_transaction()) command->Append("startTransaction", true);
  if (fields.snapshot()) {
    // A snapshot session's read concern, as the drivers send it with every command of one.
    Document read_concern{{"level", "snapshot"}};
    if (uint64_t t = fields.at_cluster_time(); t != 0) {
      read_concern.Append("atClusterTime", Timestamp{static_cast<uint32_t>(t >> 32), static_cast<uint32_t>(t)});
    }
    if (Value* existing = command->Find("readConcern")) {
      *existing = std::move(read_concern);
    } else {
      command->Append("readConcern", std::move(read_concern));
    }
  }
  return sent;
}

// Runs `command` on database `db` in `session` (null: none) through RunCommand; `keep` holds
// the bridge (for a cursor's GetMores), `sent` receives the Session the command carried.
Document SendCommand(internal::ClientCore* core, const std::string& db, const Document& command,
                     ClientSession* session, std::shared_ptr<WorkerBridge>* keep,
                     std::optional<v1::Session>* sent = nullptr) {
  auto& rpc = core->Rpc(keep);
  v1::RunCommandRequest request;
  request.set_database(db);
  Document body = command;
  std::optional<v1::Session> fields = WithSession(core, session, &body);
  if (sent != nullptr) *sent = std::move(fields);
  internal::SetBson(request.mutable_command(), body);
  v1::RunCommandReply reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncRunCommand, request, &reply);
  Document out = internal::FromDoc(reply.reply());
  if (session != nullptr) {
    // A snapshot read's time: in the cursor (find, aggregate) or at the top (distinct).
    const Value* at = out.Find("atClusterTime");
    if (const Value* cursor = out.Find("cursor"); at == nullptr && cursor != nullptr && cursor->type() == BsonType::kDocument) {
      at = cursor->AsDocument().Find("atClusterTime");
    }
    if (at != nullptr && at->type() == BsonType::kTimestamp) {
      Timestamp ts = at->AsTimestamp();
      internal::SessionAccess::ObserveTime(session, static_cast<uint64_t>(ts.t) << 32 | ts.i);
    }
  }
  return out;
}

}  // namespace

Document Database::RunCommand(const Document& command, const RunCommandOptions& options) const {
  std::shared_ptr<WorkerBridge> keep;
  return SendCommand(core_.get(), name_, command, options.session, &keep);
}

Cursor Database::RunCursorCommand(const Document& command, const RunCursorCommandOptions& options) const {
  auto state = std::make_unique<internal::CursorState>();
  std::optional<v1::Session> session;
  Document result = SendCommand(core_.get(), name_, command, options.session, &state->bridge, &session);
  const Value* cursor = result.Find("cursor");
  const Value* id = cursor != nullptr && cursor->type() == BsonType::kDocument ? cursor->AsDocument().Find("id")
                                                                                  : nullptr;
  const Value* batch = cursor != nullptr && cursor->type() == BsonType::kDocument
                           ? cursor->AsDocument().Find("firstBatch")
                           : nullptr;
  if (id == nullptr || batch == nullptr || batch->type() != BsonType::kArray) {
    throw Error(kBadValue, ErrorCodeName(kBadValue),
                StrCat("the reply to ", command.empty() ? std::string() : command.begin()->first,
                       " holds no cursor"));
  }
  // The first batch, as the worker's own cursor replies give it; getMores go on from it.
  v1::CursorReply first;
  first.set_cursor_id(id->ToInt64());
  for (const Value& d : batch->AsArray()) {
    if (d.type() == BsonType::kDocument) first.add_documents()->set_bson(d.AsDocument().ToBson());
  }
  state->batch_size = options.batch_size;
  state->await_ms = options.max_time_ms;
  state->session = internal::SessionAccess::ForCursor(session ? &*session : nullptr);
  state->prefetch = !options.tailable && !(state->session && state->session->has_txn_number());
  state->Take(&first);
  return Cursor(std::move(state));
}

bool Database::DropCollection(std::string_view name) const {
  return Collection(name).Drop();
}

void Database::RenameCollection(std::string_view from, std::string_view to,
                                bool drop_target) const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::RenameCollectionRequest request;
  request.set_database(name_);
  request.set_from(std::string(from));
  request.set_to(std::string(to));
  request.set_drop_target(drop_target);
  v1::Empty reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncRenameCollection, request, &reply);
}

void Database::CloneCollectionAsCapped(std::string_view from, std::string_view to, int64_t size) const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::CappedCopyRequest request;
  request.set_database(name_);
  request.set_collection(std::string(from));
  request.set_to(std::string(to));
  request.set_size(size);
  v1::Empty reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncCloneCollectionAsCapped, request, &reply);
}

void Database::ConvertToCapped(std::string_view name, int64_t size) const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::CappedCopyRequest request;
  request.set_database(name_);
  request.set_collection(std::string(name));
  request.set_size(size);
  v1::Empty reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncConvertToCapped, request, &reply);
}

void Database::Drop() const {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core_->Rpc(&keep);
  v1::DatabaseRequest request;
  request.set_database(name_);
  v1::DropReply reply;
  rpc.Unary(&v1::AdminService::Stub::AsyncDropDatabase, request, &reply);
}

}  // namespace micromongo
