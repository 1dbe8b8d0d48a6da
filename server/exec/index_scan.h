#pragma once

// IXSCAN: the entries of one index within a plan node's bounds, in index order or its
// reverse. As DISTINCT_SCAN, only the first entry of each value of the first key field. Bounds become key ranges: every combination of the point lists of the leading
// fields (up to a limit), each with the next field's intervals; fields after those are
// checked entry by entry. A multikey index yields each record once. The pseudo index 0
// (`_id_`) scans the records themselves, whose keys are their _ids.

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "exec/plan_stage.h"

namespace micromongo::exec {

// Byte ranges [first, second) of full storage keys, in key order.
using KeyRanges = std::vector<std::pair<std::string, std::string>>;

// The key ranges of `bounds` (per key field, ascending key strings) for an index whose
// entries start with `prefix`; `*checked_from` gets the first field the ranges do not
// decide.
KeyRanges MakeKeyRanges(const std::string& prefix, const std::vector<planner::IntervalList>& bounds,
                        const std::vector<bool>& descending, size_t* checked_from);

std::string PrefixSuccessor(std::string prefix);

class IndexScanStage final : public PlanStage {
 public:
  IndexScanStage(const planner::PlanNode& node, const ExecContext& ctx);
  // For a scan of the _id pseudo index (records in _id order): the lowest and highest _id
  // its bounds admit, as a clustered collection's explain shows them (minRecord,
  // maxRecord). False for other indexes, and for bounds that admit every _id.
  bool RecordRange(Value* min, Value* max) const;
  int direction() const { return node_.direction; }

 protected:
  absl::StatusOr<State> DoWork(Member* out) override;
  void AddExplain(Document* out, bool stats) const override;

 private:
  bool InBounds(std::string_view key_values) const;
  void Position();
  void ContinueInto(const std::string& prev_start, const std::string& prev_end);
  // DISTINCT_SCAN: moves past the entries whose first field has the value just returned.
  void SkipPastFirstField(std::string_view key_values);

  const planner::PlanNode& node_;
  ExecContext ctx_;
  bool id_index_;
  std::vector<bool> descending_;
  KeyRanges ranges_;
  size_t checked_from_ = 0;
  size_t range_ = 0;
  bool positioned_ = false;
  // Steps tried before a seek to reach the next range (ContinueInto).
  static constexpr int kMaxSteps = 8;
  bool step_pending_ = false;  // the iterator still stands on the entry last returned
  std::unique_ptr<storage::KvIterator> it_;
  std::string index_prefix_, record_prefix_;
  std::set<std::string> seen_;  // records already returned by a multikey index
};

}  // namespace micromongo::exec
