#include "geo/cells.h"

#include <s2/s2cap.h>
#include <s2/s2cell_id.h>
#include <s2/s2cell_union.h>
#include <s2/s2metrics.h>
#include <s2/s2polygon.h>
#include <s2/s2polyline.h>
#include <s2/s2region_coverer.h>
#include <s2/s2region_union.h>

#include <algorithm>

#include "geo/convex_loop.h"

namespace micromongo::geo {
namespace {

int64_t Key(S2CellId id) { return static_cast<int64_t>(id.id() ^ (uint64_t{1} << 63)); }

// Index keys cover a shape with few cells (every one is an index entry); queries with
// more, as each cell is only a seek while the slack of a coarse covering is records
// fetched for nothing.
S2RegionCoverer& Coverer(int max_cells) {
  auto make = [](int cells) {
    S2RegionCoverer::Options o;
    o.set_min_level(kCoarsestLevel);
    o.set_max_level(kFinestLevel);
    o.set_max_cells(cells);
    return S2RegionCoverer(o);
  };
  thread_local S2RegionCoverer keys = make(kMaxCellsPerShape);
  thread_local S2RegionCoverer queries = make(kMaxCellsPerQuery);
  thread_local S2RegionCoverer caps = make(kMaxCellsPerCap);
  return max_cells == kMaxCellsPerShape ? keys : max_cells == kMaxCellsPerCap ? caps : queries;
}

void AddCovering(const S2Region& region, std::vector<S2CellId>* out, int max_cells = kMaxCellsPerQuery) {
  std::vector<S2CellId> cells;
  Coverer(max_cells).GetCovering(region, &cells);
  out->insert(out->end(), cells.begin(), cells.end());
}

KeyRanges64 RangesOf(const std::vector<S2CellId>& covering, bool ancestors) {
  KeyRanges64 ranges;
  for (S2CellId c : covering) {
    ranges.emplace_back(Key(c.range_min()), Key(c.range_max()));
    for (int level = c.level() - 1; ancestors && level >= kCoarsestLevel; --level) {
      int64_t k = Key(c.parent(level));
      ranges.emplace_back(k, k);
    }
  }
  std::sort(ranges.begin(), ranges.end());
  KeyRanges64 merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1 && merged.back().second != INT64_MAX) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

}  // namespace

std::vector<int64_t> CellKeys(const Geometry& g) {
  std::vector<int64_t> keys;
  if (!g.spherical()) return keys;
  for (const Point3& p : g.points()) keys.push_back(Key(S2CellId(S2Point(p.x, p.y, p.z))));
  std::vector<S2CellId> cells;
  for (const auto& l : g.lines()) AddCovering(*l, &cells, kMaxCellsPerShape);
  for (const auto& poly : g.polygons()) AddCovering(*poly, &cells, kMaxCellsPerShape);
  for (S2CellId c : cells) keys.push_back(Key(c));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

KeyRanges64 PredicateRanges(const GeoPredicate& p, bool ancestors) {
  std::vector<S2CellId> covering;
  if (p.cap() != nullptr) {
    AddCovering(*p.cap(), &covering);
  } else if (const Geometry* g = p.geometry()) {
    for (const Point3& pt : g->points()) covering.push_back(S2CellId(S2Point(pt.x, pt.y, pt.z)).parent(kFinestLevel));
    for (const auto& l : g->lines()) AddCovering(*l, &covering);
    for (const auto& poly : g->polygons()) {
      // A convex loop's cheap cell tests make its covering several times faster to find.
      if (auto convex = ConvexLoop::Of(*poly)) {
        AddCovering(*convex, &covering);
      } else {
        AddCovering(*poly, &covering);
      }
    }
  }
  return RangesOf(covering, ancestors);
}

KeyRanges64 CapRanges(const Point3& center, double radius, bool ancestors, double hole) {
  std::vector<S2CellId> covering;
  S2Point c(center.x, center.y, center.z);
  S2Cap cap(c, S1Angle::Radians(std::min(radius, M_PI)));
  // Cells much smaller than the cap are not worth finding: the coverer divides a cell the
  // cap barely touches (one child meets it) without counting it against its cell budget,
  // down to the finest level, each division four exact cell tests (~1k instructions
  // each); the slack that cells of an eighth of the radius leave is read anyway
  // (CapRanges -9% of its instructions).
  auto finest = [](double r) {
    return std::clamp(S2::kMinWidth.GetLevelForMinValue(r / 8), kCoarsestLevel, kFinestLevel);
  };
  S2RegionCoverer& coverer = Coverer(kMaxCellsPerCap);
  coverer.mutable_options()->set_max_level(finest(radius));
  // A ring's records are mostly fetched anyway (they are the nearest): fewer cells, fewer
  // seeks.
  AddCovering(cap, &covering, kMaxCellsPerCap);
  KeyRanges64 ranges = RangesOf(covering, ancestors);
  if (hole <= 0) return ranges;
  // Cells wholly inside the hole, without their ancestors: a key there is in the hole.
  std::vector<S2CellId> inside;
  coverer.mutable_options()->set_max_level(finest(hole));
  coverer.GetInteriorCovering(S2Cap(c, S1Angle::Radians(std::min(hole, M_PI))), &inside);
  KeyRanges64 holes = RangesOf(inside, /*ancestors=*/false);
  KeyRanges64 out;
  size_t h = 0;
  for (auto [lo, hi] : ranges) {
    bool open = true;  // [lo, hi] still has keys outside the holes
    while (h < holes.size() && holes[h].second < lo) ++h;
    for (size_t j = h; open && j < holes.size() && holes[j].first <= hi; ++j) {
      if (holes[j].first > lo) out.emplace_back(lo, holes[j].first - 1);
      if (holes[j].second >= hi) {
        open = false;
      } else {
        lo = std::max(lo, holes[j].second + 1);
      }
    }
    if (open) out.emplace_back(lo, hi);
  }
  return out;
}

}  // namespace micromongo::geo
