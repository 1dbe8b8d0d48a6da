// The seed's Basic Usage against an installed micro-mongo; prints the worker's pid so the
// test can check which server binary ran.
#include <micromongo/micromongo.h>

#include <iostream>

namespace mm = micromongo;

int main(int argc, char** argv) {
  auto bridge = mm::WorkerBridge::Create({.data_dir = argv[1]});
  std::cout << "pid " << bridge->pid() << std::endl;
  mm::MongoClient client("mongodb://localhost/mydb", {.worker_bridge = bridge});
  client.Connect();
  mm::Database db = client.Db();
  db["users"].InsertOne(mm::Document{{"name", "Alice"}});
  auto alice = db["users"].FindOne(mm::Document{{"name", "Alice"}});
  std::cout << "found " << alice->GetString("name") << std::endl;
  std::cin.get();  // the test inspects the running worker, then closes stdin
  client.Close();
  bridge->Terminate();
  return 0;
}
