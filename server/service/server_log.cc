#include "service/server_log.h"

#include <atomic>
#include <cstdio>
#include <string>

namespace micromongo::service {
namespace {
std::atomic<int> log_level{1};
}  // namespace

void SetLogLevel(int level) { log_level.store(level, std::memory_order_relaxed); }

bool LogEnabled(LogSeverity severity) {
  return static_cast<int>(severity) <= log_level.load(std::memory_order_relaxed);
}

void Log(LogSeverity severity, std::string_view message) {
  if (!LogEnabled(severity)) return;
  // One fwrite per line: stdio locks the stream, so lines of threads never interleave.
  std::string line = "micromongo-server: ";
  line.append(message);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace micromongo::service
