#include "service/slow_op_log.h"

#include <atomic>

#include "document/builder.h"
#include "service/request_counters.h"
#include "util/log.h"

namespace micromongo::service {
namespace {
std::atomic<int64_t> slow_ms{100};
}  // namespace

void SetSlowOpThreshold(std::chrono::milliseconds threshold) {
  slow_ms.store(threshold.count(), std::memory_order_relaxed);
}

std::chrono::milliseconds SlowOpThreshold() {
  return std::chrono::milliseconds(slow_ms.load(std::memory_order_relaxed));
}

void LogSlowOperation(const OpDebug& op, std::string_view protocol, std::string_view command,
                      std::string_view ns, std::string_view filter, bool returns_documents,
                      const absl::Status& status) {
  GlobalRequestCounters().slow.fetch_add(1, std::memory_order_relaxed);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - op.start).count();
  bson::Builder attr;
  attr.AppendString("type", "command");
  if (!ns.empty()) attr.AppendString("ns", ns);
  attr.AppendString("command", command);
  if (!filter.empty() && bson::Validate(filter).ok()) attr.AppendDocument("filter", bson::DocView(filter));
  if (!op.plan_summary.empty()) attr.AppendString("planSummary", op.plan_summary);
  attr.AppendInt64("keysExamined", op.keys_examined);
  attr.AppendInt64("docsExamined", op.docs_examined);
  if (op.nreturned > 0 || returns_documents) attr.AppendInt64("nreturned", op.nreturned);
  if (status.ok()) {
    attr.AppendInt32("ok", 1);
  } else {
    attr.AppendInt32("ok", 0);
    attr.AppendString("error", std::string(status.message()));
  }
  attr.AppendInt64("durationMillis", millis);
  attr.AppendString("protocol", protocol);
  Log(LogSeverity::kInfo, LogComponent::kCommand, "Slow query", std::move(attr).Finish());
}

}  // namespace micromongo::service
