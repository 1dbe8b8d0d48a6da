#pragma once

// 2dsphere index keys and bounds over S2 cells. A point is keyed by its leaf cell; any
// other shape by a covering of cells between kCoarsestLevel and kFinestLevel. A region's
// bounds are, per cell of its covering, the range of cell ids inside it (every leaf and
// finer key there) plus its ancestors down to kCoarsestLevel (coarser keys that contain
// it): every indexed geometry that meets the region has a key there.
//
// Cell ids are keyed as int64s in the same order (the id with its top bit flipped).

#include <cstdint>
#include <utility>
#include <vector>

#include "geo/geo_query.h"
#include "geo/geometry.h"

namespace micromongo::geo {

inline constexpr int kCoarsestLevel = 2;
inline constexpr int kFinestLevel = 20;  // about 10 m
inline constexpr int kMaxCellsPerShape = 16;  // index keys of one shape
inline constexpr int kMaxCellsPerQuery = 48;  // a query region's covering
inline constexpr int kMaxCellsPerCap = 8;     // a $near ring's cap

// The distinct keys of a geometry (none unless it has a place on the sphere).
std::vector<int64_t> CellKeys(const Geometry& g);
// Whether a geometry is keyed by a single leaf cell (one point).
inline bool SingleLeafCell(const Geometry& g) {
  return g.spherical() && g.points().size() == 1 && g.lines().empty() && g.polygons().empty();
}

// Inclusive key ranges, sorted and disjoint.
using KeyRanges64 = std::vector<std::pair<int64_t, int64_t>>;

// The ranges a $geoWithin / $geoIntersects on the sphere needs to scan. Without
// `ancestors` (an index known to hold only one point per document, so only leaf cells),
// the covering cells' ancestors are left out.
KeyRanges64 PredicateRanges(const GeoPredicate& p, bool ancestors = true);
// The ranges of the cap of `radius` radians around `center` (for $near), less the cells
// that lie wholly inside the cap of `hole` radians around the same center (a $near ring's
// inner cap, whose keys an earlier ring read): keys of those cells, not their ancestors.
KeyRanges64 CapRanges(const Point3& center, double radius, bool ancestors = true, double hole = 0);

}  // namespace micromongo::geo
