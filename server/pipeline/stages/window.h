#pragma once

// $setWindowFields internals shared by its parser (window.cc) and its window functions
// (window_functions.cc): the parsed output fields and how a partition is evaluated.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/accumulators/accumulator.h"
#include "pipeline/context.h"
#include "pipeline/expressions/date_time.h"
#include "pipeline/row_store.h"
#include "pipeline/sort_key.h"

namespace micromongo::pipeline::stages::window {

struct Bound {
  enum class Kind { kUnbounded, kCurrent, kOffset } kind = Kind::kUnbounded;
  Value offset;  // documents: an integer; range: a number
};

// A window: documents [lo, hi] relative to the current one, or the documents whose sortBy
// value lies in [value + lo, value + hi] (with `unit`, date arithmetic).
struct Bounds {
  bool range = false;
  Bound lo, hi;
  std::optional<internal::TimeUnit> unit;
  bool whole() const { return !range && lo.kind == Bound::Kind::kUnbounded && hi.kind == Bound::Kind::kUnbounded; }
};

enum class FnKind {
  kAccumulator,
  kDocumentNumber,
  kRank,
  kDenseRank,
  kShift,
  kLocf,
  kLinearFill,
  kExpMovingAvg,
  kDerivative,
  kIntegral,
  kCovariancePop,
  kCovarianceSamp,
};

struct Output {
  std::vector<std::string> field;  // dotted path, split
  FnKind kind = FnKind::kAccumulator;
  std::optional<AccumulatorSpec> accumulator;
  std::shared_ptr<const Expression> input, input2;  // input2: covariance's second operand
  std::shared_ptr<const Expression> default_value;  // $shift
  int64_t by = 0;                                    // $shift
  double alpha = 0;                                  // $expMovingAvg
  std::optional<int64_t> unit_ms;                    // $derivative / $integral over dates
  Bounds bounds;
};

// One partition, in sortBy order.
struct Partition {
  RowStore* rows = nullptr;  // in memory, or on disk past the memory limit
  size_t size = 0;

  // Calls fn(i, row) for each row in order.
  template <typename Fn>
  absl::Status ForEach(Fn fn) const {
    auto reader = rows->Read();
    if (!reader.ok()) return reader.status();
    Row row;
    for (size_t i = 0;; ++i) {
      auto more = reader->Next(&row);
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
      if (absl::Status s = fn(i, row); !s.ok()) return s;
    }
  }

  // The sortBy field's value per row, for range windows and the functions that need it
  // (nullopt where there is no single sortBy field).
  std::vector<std::optional<Value>> sort_values;
  // Sort keys for $rank and $denseRank.
  std::vector<std::string> sort_keys;
};

// Computes `out`'s value for every row of `p` (nullopt: leave the field out).
absl::Status Evaluate(const Output& out, const Partition& p, ExecContext* ctx,
                      std::vector<std::optional<Value>>* values);

}  // namespace micromongo::pipeline::stages::window
