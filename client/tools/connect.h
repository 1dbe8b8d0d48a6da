#pragma once

// How a tool reaches a worker: --uri (as MongoClient takes it), --address (as
// WorkerBridge::Connect takes it) or --data-dir (a worker of its own on that directory,
// stopped when the tool ends).

#include <memory>
#include <string>
#include <vector>

#include "flags.h"
#include "micromongo/micromongo.h"

namespace micromongo::tools {

// The flags every command shares.
std::vector<FlagSpec> ConnectionFlags();

class Connection {
 public:
  // Throws UsageError unless exactly one of --uri, --address, --data-dir is given, and
  // micromongo::Error if the worker cannot be reached or started.
  explicit Connection(const Flags& flags);
  ~Connection();

  MongoClient& client() { return *client_; }
  // --db, else the URI's database, else "test".
  std::string database(const Flags& flags) const;

 private:
  std::shared_ptr<WorkerBridge> bridge_;
  std::unique_ptr<MongoClient> client_;
  bool uri_names_db_ = false;
};

}  // namespace micromongo::tools
