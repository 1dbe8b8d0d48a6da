#pragma once

// 2d index keys and bounds: legacy points on a square grid of 2^bits x 2^bits cells over
// [min, max) in both coordinates (MongoDB's 2d index: min -180, max 180, bits 26 by
// default), a point keyed by its cell's Morton code (x and y bits interleaved, so that a
// quadtree cell is a range of codes).

#include <cmath>
#include <cstdint>

#include "absl/status/statusor.h"
#include "geo/cells.h"

namespace micromongo::geo {

struct Grid2d {
  double min = -180;
  double max = 180;
  int bits = 26;

  // The key of (x, y). Errors: 13027 when outside [min, max).
  absl::StatusOr<int64_t> Key(double x, double y) const;
  // Ranges of keys holding every point of the box [min_x, max_x] x [min_y, max_y] (a
  // covering by at most 5 x 5 cells of one level, merged).
  KeyRanges64 BoxRanges(double min_x, double min_y, double max_x, double max_y) const;
  // The center of a key's cell, and the cell's diagonal.
  void CellCenter(int64_t key, double* x, double* y) const;
  double CellDiagonal() const { return (max - min) / std::ldexp(1.0, bits) * std::sqrt(2.0); }
};

}  // namespace micromongo::geo
