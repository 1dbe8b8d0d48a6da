#include "util/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "document/builder.h"
#include "document/json.h"

namespace micromongo {
namespace {

std::atomic<int> log_level{static_cast<int>(LogSeverity::kInfo)};
std::atomic<LogFormat> log_format{LogFormat::kText};
thread_local std::string log_context = "conn";

const char* SeverityLetter(LogSeverity s) {
  switch (s) {
    case LogSeverity::kError: return "E";
    case LogSeverity::kWarning: return "W";
    case LogSeverity::kInfo: return "I";
    case LogSeverity::kDebug: return "D1";
  }
  return "I";
}

const char* ComponentName(LogComponent c) {
  switch (c) {
    case LogComponent::kControl: return "CONTROL";
    case LogComponent::kNetwork: return "NETWORK";
    case LogComponent::kStorage: return "STORAGE";
    case LogComponent::kIndex: return "INDEX";
    case LogComponent::kCommand: return "COMMAND";
    case LogComponent::kQuery: return "QUERY";
    case LogComponent::kWrite: return "WRITE";
  }
  return "-";
}

// ISO-8601 UTC with milliseconds; `offset`: "+00:00" (MongoDB's JSON log) or "Z".
std::string IsoTime(int64_t millis, const char* offset) {
  std::time_t secs = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis % 1000), offset);
  return buf;
}

}  // namespace

std::string Attrs(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  bson::Builder b;
  for (const auto& [k, v] : fields) b.AppendString(k, v);
  return std::move(b).Finish();
}

void SetLogLevel(LogSeverity most_verbose) {
  log_level.store(static_cast<int>(most_verbose), std::memory_order_relaxed);
}
void SetLogFormat(LogFormat format) { log_format.store(format, std::memory_order_relaxed); }

bool LogEnabled(LogSeverity severity) {
  return static_cast<int>(severity) <= log_level.load(std::memory_order_relaxed);
}

void SetLogContext(std::string_view name) { log_context = std::string(name); }

std::string FormatLogLine(LogFormat format, int64_t millis, LogSeverity severity,
                          LogComponent component, std::string_view context,
                          std::string_view message, std::string_view attr_bson) {
  std::string line;
  if (format == LogFormat::kJson) {
    line = "{\"t\":{\"$date\":\"" + IsoTime(millis, "+00:00") + "\"},\"s\":\"" +
           SeverityLetter(severity) + "\",\"c\":\"" + ComponentName(component) + "\",\"ctx\":";
    bson::AppendJsonString(context, &line);
    line += ",\"msg\":";
    bson::AppendJsonString(message, &line);
    if (!attr_bson.empty()) {
      line += ",\"attr\":";
      line += bson::BsonToJson(attr_bson);
    }
    line += '}';
    return line;
  }
  char head[64];
  std::snprintf(head, sizeof head, " %-2s %-8s [", SeverityLetter(severity), ComponentName(component));
  line = IsoTime(millis, "Z") + head;
  line.append(context);
  line += "] ";
  line.append(message);
  if (!attr_bson.empty()) {
    line += ' ';
    line += bson::BsonToJson(attr_bson);
  }
  return line;
}

void Log(LogSeverity severity, LogComponent component, std::string_view message,
         std::string_view attr_bson) {
  if (!LogEnabled(severity)) return;
  int64_t millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::string line = FormatLogLine(log_format.load(std::memory_order_relaxed), millis, severity,
                                   component, log_context, message, attr_bson);
  line.push_back('\n');
  // One fwrite per line: stdio locks the stream, so lines of threads never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace micromongo
