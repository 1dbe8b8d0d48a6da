#pragma once

// The values KvBatch::Merge combines: a sequence of fields, each an int64 with the rule
// that combines it with the same field of another value (a sum, or the larger of the
// two). Sums and maxima are associative and commutative, so merges of concurrent
// batches give the same value in any order, and partial merges (RocksDB's compactions
// combine operands before the base value is known) give it too.
//
// Encoding: per field, one byte naming its rule ('+' sum, '>' maximum) then the int64,
// little-endian. Where one value has fewer fields than the other, the other's fields past
// its end are kept as they are (an absent field combines as the identity).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace micromongo::storage {

struct Counter {
  enum class Rule : char { kSum = '+', kMax = '>' };
  Rule rule = Rule::kSum;
  int64_t value = 0;
  friend bool operator==(const Counter&, const Counter&) = default;
};

std::string EncodeCounters(const std::vector<Counter>& counters);

// False when `in` is not a counters value.
bool DecodeCounters(std::string_view in, std::vector<Counter>* counters);

// `*out` = `a` combined with `b` field by field (sums wrap around on overflow rather
// than being undefined). False when either is not a counters value or a field's rules
// differ.
bool CombineCounters(std::string_view a, std::string_view b, std::string* out);

}  // namespace micromongo::storage
