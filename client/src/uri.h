#pragma once

// mongodb:// connection strings, as far as micro-mongo uses them.

#include <string>
#include <string_view>
#include <vector>

namespace micromongo::internal {

struct ParsedUri {
  std::string host;         // first host, without port
  int port = 0;             // 0 if the URI names none
  std::string database;     // the path's database, "test" if none
  bool use_worker = false;  // ?useWorker=true
};

// Throws Error (code 72, InvalidOptions) on malformed URIs.
ParsedUri ParseUri(std::string_view uri);

}  // namespace micromongo::internal
