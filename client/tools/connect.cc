#include "connect.h"

namespace micromongo::tools {

std::vector<FlagSpec> ConnectionFlags() {
  return {
      {"uri", true, "mongodb://host:port/db, or mongodb://localhost/db?useWorker=true"},
      {"address", true, "a running worker: host:port or unix:/path/to/socket"},
      {"data-dir", true, "start a worker of the tool's own on this data directory"},
      {"quiet", false, "no progress and no summary", "q"},
  };
}

namespace {

// "mongodb://host/db?x" -> whether a database is named.
bool UriNamesDatabase(const std::string& uri) {
  size_t scheme = uri.find("://");
  size_t slash = uri.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return false;
  return slash + 1 < uri.size() && uri[slash + 1] != '?';
}

}  // namespace

Connection::Connection(const Flags& flags) {
  int given = flags.Has("uri") + flags.Has("address") + flags.Has("data-dir");
  if (given != 1) throw UsageError("name the worker with one of --uri, --address, --data-dir");
  if (flags.Has("uri")) {
    std::string uri = flags.Get("uri");
    uri_names_db_ = UriNamesDatabase(uri);
    client_ = std::make_unique<MongoClient>(uri);
  } else {
    if (flags.Has("address")) {
      bridge_ = WorkerBridge::Connect(flags.Get("address"));
    } else {
      WorkerOptions options;
      options.data_dir = flags.Get("data-dir");
      bridge_ = WorkerBridge::Create(options);
    }
    client_ = std::make_unique<MongoClient>("mongodb://localhost/",
                                            ClientOptions{.worker_bridge = bridge_});
  }
  client_->Connect();
}

Connection::~Connection() {
  client_->Close();
  if (bridge_ != nullptr) bridge_->Terminate();
}

std::string Connection::database(const Flags& flags) const {
  if (flags.Has("db")) return flags.Get("db");
  if (uri_names_db_) return client_->Db().name();
  return "test";
}

}  // namespace micromongo::tools
