// Calls a running micromongo-server through micromongo.v1.DataService's generated stub:
//   stub_app unix:/path/to/socket
// inserts {"name": "Alice", "age": 30} as Extended JSON and BSON-free, finds it back, and
// prints the reply document.

#include <grpcpp/grpcpp.h>

#include <iostream>

#include "micromongo/v1/micromongo.grpc.pb.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: stub_app ADDRESS\n";
    return 2;
  }
  auto channel = grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());
  auto stub = micromongo::v1::DataService::NewStub(channel);

  micromongo::v1::InsertRequest insert;
  insert.set_database("app");
  insert.set_collection("users");
  insert.add_documents()->set_json(R"({"_id": 1, "name": "Alice", "age": 30})");
  micromongo::v1::InsertReply inserted;
  grpc::ClientContext c1;
  grpc::Status s = stub->Insert(&c1, insert, &inserted);
  if (!s.ok()) {
    std::cerr << "Insert: " << s.error_message() << "\n";
    return 1;
  }
  std::cout << "inserted " << inserted.inserted_count() << "\n";

  micromongo::v1::FindRequest find;
  find.set_database("app");
  find.set_collection("users");
  find.mutable_filter()->set_json(R"({"age": {"$gt": 20}})");
  micromongo::v1::CursorReply found;
  grpc::ClientContext c2;
  s = stub->Find(&c2, find, &found);
  if (!s.ok()) {
    std::cerr << "Find: " << s.error_message() << "\n";
    return 1;
  }
  for (const auto& d : found.documents()) std::cout << "found " << d.json() << "\n";

  // Errors carry MongoDB's code in the status message.
  micromongo::v1::InsertReply dup;
  grpc::ClientContext c3;
  s = stub->Insert(&c3, insert, &dup);
  for (const auto& e : dup.write_errors()) std::cout << "error " << e.code() << " " << e.code_name() << "\n";
  return 0;
}
