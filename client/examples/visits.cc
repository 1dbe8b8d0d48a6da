// An application attached to a worker that runs elsewhere: the docker-compose file's `app`
// service, which reaches the `micromongo` service by name. It records one visit and prints
// how many there have been, so each run against the same worker counts one more.
//
//   visits [mongodb://HOST:PORT/DB]      (default: $MICROMONGO_URI, else
//                                         mongodb://micromongo:50051/app)

#include <micromongo/micromongo.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

namespace mm = micromongo;

int main(int argc, char** argv) {
  std::string uri = "mongodb://micromongo:50051/app";
  if (const char* env = std::getenv("MICROMONGO_URI")) uri = env;
  if (argc > 1) uri = argv[1];

  mm::MongoClient client(uri);
  // Compose starts services together; the worker may still be starting, so retry for a
  // while before giving up.
  for (int attempt = 1;; ++attempt) {
    try {
      client.Connect();
      break;
    } catch (const mm::Error& e) {
      // A refused token will not change by waiting.
      if (attempt == 60 || e.code() == 18) {
        std::cerr << "visits: cannot reach " << uri << ": " << e.what() << "\n";
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }

  char host[256] = "?";
  gethostname(host, sizeof(host) - 1);
  try {
    mm::Collection visits = client.Db()["visits"];
    visits.InsertOne(mm::Document{{"host", host}, {"at", mm::DateTime::Now()}});
    std::cout << "visits: " << visits.CountDocuments() << "\n";
    auto last = visits.FindOne(mm::Document{}, {.projection = mm::Document{{"_id", 0}},
                                                .sort = mm::Document{{"at", -1}}});
    if (last) std::cout << "last: " << last->ToJson() << "\n";
  } catch (const mm::Error& e) {
    std::cerr << "visits: " << e.code_name() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
