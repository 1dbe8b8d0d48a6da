// The seed's Basic Usage, in C++: spawn a worker, insert, query, print, clean up.

#include <micromongo/micromongo.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace mm = micromongo;

int main() {
  // A throwaway data directory, so the quickstart leaves nothing behind.
  std::string data_dir =
      (std::filesystem::temp_directory_path() / "micromongo-quickstart").string();
  std::filesystem::remove_all(data_dir);

  // 1. Create a worker
  std::shared_ptr<mm::WorkerBridge> bridge =
      mm::WorkerBridge::Create(mm::WorkerOptions{.data_dir = data_dir});
  std::cout << "worker pid " << bridge->pid() << " at " << bridge->address() << "\n";

  // 2. Create a client with the worker
  mm::MongoClient client("mongodb://localhost/mydb", {.worker_bridge = bridge});

  // 3. Connect and use
  client.Connect();
  mm::Database db = client.Db();
  db["users"].InsertOne(mm::Document{{"name", "Alice"}, {"age", 30}});
  db["users"].InsertMany({mm::Document{{"name", "Bob"}, {"age", 25}},
                          mm::Document{{"name", "Carol"}, {"age", 35}}});
  std::cout << "users older than 26, by age:\n";
  for (const mm::Document& user :
       db["users"].Find(mm::Document{{"age", mm::Document{{"$gt", 26}}}},
                        {.projection = mm::Document{{"_id", 0}},
                         .sort = mm::Document{{"age", 1}}})) {
    std::cout << "  " << user.ToJson() << "\n";
  }
  std::cout << "count: " << db["users"].CountDocuments() << "\n";

  // 4. Cleanup
  client.Close();
  bridge->Terminate();
  std::filesystem::remove_all(data_dir);
  return 0;
}
