#pragma once

// The worker's log: one line per event on stderr (WorkerBridge keeps it in worker.log),
// filtered by --log-level. Thread-safe.

#include <string_view>

namespace micromongo::service {

enum class LogSeverity { kError = 0, kInfo = 1, kDebug = 2 };

// Set once at startup from --log-level (0 error, 1 info, 2 debug); info by default.
void SetLogLevel(int level);
bool LogEnabled(LogSeverity severity);
// Writes "micromongo-server: <message>" as one line, if `severity` is enabled.
void Log(LogSeverity severity, std::string_view message);

}  // namespace micromongo::service
