#include "geo/grid.h"

#include <algorithm>
#include <cmath>

#include "document/status.h"

namespace micromongo::geo {
namespace {

// x's bits at the even positions, y's at the odd ones.
uint64_t Interleave(uint32_t x, uint32_t y) {
  uint64_t code = 0;
  for (int b = 0; b < 32; ++b) {
    code |= static_cast<uint64_t>((x >> b) & 1) << (2 * b);
    code |= static_cast<uint64_t>((y >> b) & 1) << (2 * b + 1);
  }
  return code;
}

// Codes as int64s in the same order (the top bit flipped: 32-bit grids use all 64).
int64_t AsKey(uint64_t code) { return static_cast<int64_t>(code ^ (uint64_t{1} << 63)); }

}  // namespace

void Grid2d::CellCenter(int64_t key, double* x, double* y) const {
  uint64_t code = static_cast<uint64_t>(key) ^ (uint64_t{1} << 63);
  uint32_t cx = 0, cy = 0;
  for (int b = 0; b < 32; ++b) {
    cx |= static_cast<uint32_t>((code >> (2 * b)) & 1) << b;
    cy |= static_cast<uint32_t>((code >> (2 * b + 1)) & 1) << b;
  }
  double cell = (max - min) / std::ldexp(1.0, bits);
  *x = min + (cx + 0.5) * cell;
  *y = min + (cy + 0.5) * cell;
}

absl::StatusOr<int64_t> Grid2d::Key(double x, double y) const {
  if (!(x >= min && x < max && y >= min && y < max)) {
    return MongoError(13027, StrCat("point not in interval of [ ", min, ", ", max, " ) :: caused by :: { 0: ", x,
                                    ", 1: ", y, " }"));
  }
  double cells = std::ldexp(1.0, bits);
  auto q = [&](double v) {
    double c = std::floor((v - min) / (max - min) * cells);
    return static_cast<uint32_t>(std::clamp(c, 0.0, cells - 1));
  };
  return AsKey(Interleave(q(x), q(y)));
}

KeyRanges64 Grid2d::BoxRanges(double min_x, double min_y, double max_x, double max_y) const {
  min_x = std::max(min_x, min);
  min_y = std::max(min_y, min);
  max_x = std::min(max_x, max);
  max_y = std::min(max_y, max);
  KeyRanges64 ranges;
  if (!(min_x <= max_x && min_y <= max_y)) return ranges;
  // The finest level whose cells are at least a quarter of the box's larger side.
  double extent = std::max(max_x - min_x, max_y - min_y);
  int level = bits;
  while (level > 0 && std::ldexp(max - min, -level) < extent / 4) --level;
  double cells = std::ldexp(1.0, level);
  auto q = [&](double v) {
    double c = std::floor((v - min) / (max - min) * cells);
    return static_cast<uint32_t>(std::clamp(c, 0.0, cells - 1));
  };
  const int shift = 2 * (bits - level);
  for (uint32_t cx = q(min_x); cx <= q(max_x); ++cx) {
    for (uint32_t cy = q(min_y); cy <= q(max_y); ++cy) {
      uint64_t lo = shift == 64 ? 0 : Interleave(cx, cy) << shift;
      uint64_t hi = lo + (shift == 64 ? ~uint64_t{0} : (uint64_t{1} << shift) - 1);
      ranges.emplace_back(AsKey(lo), AsKey(hi));
    }
  }
  std::sort(ranges.begin(), ranges.end());
  KeyRanges64 merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && merged.back().second != INT64_MAX && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

}  // namespace micromongo::geo
