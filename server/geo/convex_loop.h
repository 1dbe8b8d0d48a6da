#pragma once

// A polygon of one convex loop (a box, a triangle: most query shapes) as an S2 region with
// cheap answers. A normalized convex loop's interior is the intersection of the
// hemispheres left of its edges, so a point's side of each edge's great circle (one
// determinant) decides it, and a cell is apart from it when one edge's great circle, or
// one of the cell's, separates them. Where rounding leaves a side uncertain, the polygon
// (S2's exact predicates) decides points, and cells are taken to meet it.
//
// Private to the geo module: it exposes S2 types.

#include <s2/s2cap.h>
#include <s2/s2cell.h>
#include <s2/s2latlng_rect.h>
#include <s2/s2polygon.h>
#include <s2/s2region.h>

#include <optional>
#include <vector>

namespace micromongo::geo {

class ConvexLoop final : public S2Region {
 public:
  // The region of `polygon` (which must outlive it) when it is one loop, at most a
  // hemisphere, that turns certainly left at every vertex; nullopt otherwise.
  static std::optional<ConvexLoop> Of(const S2Polygon& polygon);

  // +1: certainly inside (off the boundary); -1: certainly outside; 0: within rounding of
  // an edge's great circle.
  int Side(const S2Point& p) const;

  // S2Region. Contains(S2Point) is S2Polygon::Contains's answer; Contains(S2Cell) may say
  // false for a cell inside (a region coverer then divides it); MayIntersect(S2Cell) says
  // false only for a cell certainly apart, so a covering holds every point of the polygon.
  ConvexLoop* Clone() const override { return new ConvexLoop(*this); }
  S2Cap GetCapBound() const override { return polygon_->GetCapBound(); }
  S2LatLngRect GetRectBound() const override { return polygon_->GetRectBound(); }
  void GetCellUnionBound(std::vector<S2CellId>* cell_ids) const override { polygon_->GetCellUnionBound(cell_ids); }
  bool Contains(const S2Cell& cell) const override;
  bool MayIntersect(const S2Cell& cell) const override;
  bool Contains(const S2Point& p) const override;

 private:
  struct Edge {
    S2Point a, b, a_cross_b;
    S2Point normal;  // a_cross_b of unit length: distances to the edge's great circle
  };
  explicit ConvexLoop(const S2Polygon* polygon) : polygon_(polygon) {}

  const S2Polygon* polygon_;
  std::vector<Edge> edges_;
};

}  // namespace micromongo::geo
