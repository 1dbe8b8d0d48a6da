#pragma once

// The worker's log: one line per event on stderr (WorkerBridge keeps it in worker.log),
// after MongoDB's log format: timestamp, severity, component, context, message and
// attributes, as one JSON object per line (--log-format json) or as text
// ("2026-12-02T19:45:00.123Z I  COMMAND  [conn] Slow query {...}"). Filtered by
// --log-level. Thread-safe; lines of different threads never interleave.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <string_view>

namespace micromongo {

enum class LogSeverity { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };
enum class LogFormat { kText, kJson };

// MongoDB's log components, for the ones the worker writes.
enum class LogComponent { kControl, kNetwork, kStorage, kIndex, kCommand, kQuery, kWrite };

// Set once at startup: the most verbose severity written (info by default), and the format.
void SetLogLevel(LogSeverity most_verbose);
void SetLogFormat(LogFormat format);
bool LogEnabled(LogSeverity severity);

// The context the current thread's lines name ("main", "conn", "TTLMonitor"); "conn" unless
// set.
void SetLogContext(std::string_view name);

// Writes one line if `severity` is enabled. `attr_bson`: the attributes as a BSON document
// (empty: none).
void Log(LogSeverity severity, LogComponent component, std::string_view message,
         std::string_view attr_bson = {});

// Attributes with string values, as Log takes them: Attrs({{"ns", ns}, {"error", why}}).
std::string Attrs(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

// The line Log writes, without the newline (for tests). `millis`: the timestamp.
std::string FormatLogLine(LogFormat format, int64_t millis, LogSeverity severity,
                          LogComponent component, std::string_view context,
                          std::string_view message, std::string_view attr_bson);

}  // namespace micromongo
