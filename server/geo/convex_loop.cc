#include "geo/convex_loop.h"

#include <s2/s2loop.h>
#include <s2/s2predicates.h>

namespace micromongo::geo {
namespace {

// How far (the sine of an angle: about 6 micrometers on the earth) a cell's vertices must
// lie past a great circle to count as beyond it. Far above the rounding of the vertices
// S2Cell computes and of the products.
constexpr double kSeparation = 1e-12;

}  // namespace

std::optional<ConvexLoop> ConvexLoop::Of(const S2Polygon& polygon) {
  if (polygon.num_loops() != 1) return std::nullopt;
  const S2Loop& loop = *polygon.loop(0);
  const int n = loop.num_vertices();
  if (n < 3 || !loop.IsNormalized()) return std::nullopt;
  // A simple loop (S2 validated it) turning certainly left at every vertex is convex.
  ConvexLoop region(&polygon);
  for (int i = 0; i < n; ++i) {
    const S2Point& a = loop.vertex(i);
    const S2Point& b = loop.vertex(i + 1);
    const S2Point& c = loop.vertex(i + 2);
    const S2Point ab = a.CrossProd(b);
    if (s2pred::TriageSign(a, b, c, ab) <= 0) return std::nullopt;
    region.edges_.push_back({a, b, ab, ab.Normalize()});
  }
  return region;
}

int ConvexLoop::Side(const S2Point& p) const {
  // Certainly left of every edge: inside, and off the boundary (where S2's semi-open rules
  // decide). Certainly right of one: outside.
  int side = 1;
  for (const Edge& e : edges_) {
    int s = s2pred::TriageSign(e.a, e.b, p, e.a_cross_b);
    if (s < 0) return -1;
    if (s == 0) side = 0;
  }
  return side;
}

bool ConvexLoop::Contains(const S2Point& p) const {
  int side = Side(p);
  return side == 0 ? polygon_->Contains(p) : side > 0;
}

bool ConvexLoop::Contains(const S2Cell& cell) const {
  // A cell is convex: inside when its vertices are.
  for (int k = 0; k < 4; ++k) {
    if (Side(cell.GetVertex(k)) <= 0) return false;
  }
  return true;
}

bool ConvexLoop::MayIntersect(const S2Cell& cell) const {
  // Two convex regions apart are separated by the great circle of an edge of one of them.
  S2Point v[4];
  for (int k = 0; k < 4; ++k) v[k] = cell.GetVertex(k);
  for (const Edge& e : edges_) {
    bool beyond = true;
    for (int k = 0; k < 4 && beyond; ++k) beyond = e.normal.DotProd(v[k]) < -kSeparation;
    if (beyond) return false;
  }
  for (int k = 0; k < 4; ++k) {
    const S2Point inward = cell.GetEdge(k);  // unit normal, the cell on its positive side
    bool beyond = true;
    for (const Edge& e : edges_) {
      if (inward.DotProd(e.a) >= -kSeparation) {
        beyond = false;
        break;
      }
    }
    if (beyond) return false;
  }
  return true;
}

}  // namespace micromongo::geo
