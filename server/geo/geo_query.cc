#include "geo/geo_query.h"

#include <s2/s1chord_angle.h>
#include <s2/s2cap.h>
#include <s2/s2cell_id.h>
#include <s2/s2latlng.h>
#include <s2/s2loop.h>
#include <s2/s2polygon.h>
#include <s2/s2polyline.h>

#include <algorithm>
#include <cmath>

#include "document/json.h"
#include "document/status.h"
#include "geo/convex_loop.h"
#include "geo/grid.h"

namespace micromongo::geo {

using bson::DocView;
using bson::ElementView;
using bson::ValueView;

namespace {

absl::Status BadGeoQuery(std::string_view message) { return MongoError(kBadValue, message); }

S2Point ToS2(const Point3& p) { return S2Point(p.x, p.y, p.z); }

// Whether (x, y) lies in the plane polygon `poly` or on its boundary.
bool InFlatPolygon(const std::vector<std::pair<double, double>>& poly, double x, double y) {
  bool inside = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    auto [xi, yi] = poly[i];
    auto [xj, yj] = poly[j];
    // On the edge (collinear and between its ends).
    double cross = (x - xi) * (yj - yi) - (y - yi) * (xj - xi);
    if (std::fabs(cross) <= 1e-12 * std::max(1.0, std::fabs(xj - xi) + std::fabs(yj - yi)) &&
        x >= std::min(xi, xj) && x <= std::max(xi, xj) && y >= std::min(yi, yj) && y <= std::max(yi, yj)) {
      return true;
    }
    if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

bool PointOnLine(const S2Polyline& line, const S2Point& p) {
  int next = 0;
  S2Point q = line.Project(p, &next);
  return S1Angle(p, q).radians() <= 1e-15;
}

// Whether shapes of `a` and `b` meet anywhere.
bool GeometriesIntersect(const Geometry& a, const Geometry& b) {
  for (const Point3& pa : a.points()) {
    S2Point p = ToS2(pa);
    for (const Point3& pb : b.points()) {
      if (pa == pb) return true;
    }
    for (const auto& l : b.lines()) {
      if (PointOnLine(*l, p)) return true;
    }
    for (const auto& poly : b.polygons()) {
      if (poly->Contains(p)) return true;
    }
  }
  for (const auto& la : a.lines()) {
    for (const Point3& pb : b.points()) {
      if (PointOnLine(*la, ToS2(pb))) return true;
    }
    for (const auto& lb : b.lines()) {
      if (la->Intersects(*lb)) return true;
    }
    for (const auto& poly : b.polygons()) {
      if (poly->Intersects(*la)) return true;
    }
  }
  for (const auto& pa : a.polygons()) {
    for (const Point3& pb : b.points()) {
      if (pa->Contains(ToS2(pb))) return true;
    }
    for (const auto& lb : b.lines()) {
      if (pa->Intersects(*lb)) return true;
    }
    for (const auto& pb : b.polygons()) {
      if (pa->Intersects(*pb)) return true;
    }
  }
  return false;
}

absl::StatusOr<double> NonNegative(const ValueView& v, std::string_view what) {
  if (!v.IsNumber()) return BadGeoQuery(StrCat(what, " must be a number"));
  double d = v.AsDouble();
  if (std::isnan(d) || d < 0) return BadGeoQuery(StrCat(what, " must be non-negative"));
  return d;
}

}  // namespace

GeoPredicate::~GeoPredicate() = default;

absl::StatusOr<std::shared_ptr<const GeoPredicate>> GeoPredicate::Parse(std::string_view op,
                                                                        const ValueView& operand) {
  std::shared_ptr<GeoPredicate> p(new GeoPredicate());
  p->op_ = op == "$geoIntersects" ? Op::kIntersects : Op::kWithin;
  if (operand.type != BsonType::kDocument || operand.Doc().empty()) {
    return BadGeoQuery(StrCat(op, " must be an object with a shape"));
  }
  const ElementView shape = *operand.Doc().begin();
  if (operand.Doc().CountElements() != 1) return BadGeoQuery(StrCat(op, " takes exactly one shape"));
  if (shape.key == "$geometry") {
    if (shape.value.type != BsonType::kDocument) return BadGeoQuery("$geometry must be a GeoJSON object");
    auto g = Geometry::FromGeoJson(shape.value.Doc(), /*allow_big_polygon=*/true);
    if (!g.ok()) return g.status();
    p->shape_ = Shape::kGeometry;
    if (p->op_ == Op::kWithin) {
      if (g->type() != Geometry::Type::kPolygon && g->type() != Geometry::Type::kMultiPolygon) {
        return BadGeoQuery(StrCat("$geoWithin not supported with provided geometry: ", bson::BsonToJson(shape.value.Doc().bytes())));
      }
      auto region = std::make_unique<S2Polygon>();
      region->set_s2debug_override(S2Debug::DISABLE);
      for (const auto& poly : g->polygons()) {
        auto merged = std::make_unique<S2Polygon>();
        merged->InitToUnion(*region, *poly);
        region = std::move(merged);
      }
      p->within_ = std::move(region);
      if (auto convex = ConvexLoop::Of(*p->within_)) p->convex_ = std::make_unique<ConvexLoop>(*std::move(convex));
    }
    p->geometry_ = *std::move(g);
    return std::shared_ptr<const GeoPredicate>(std::move(p));
  }
  if (p->op_ == Op::kIntersects) return BadGeoQuery("$geoIntersects takes a $geometry");
  if (shape.key == "$box") {
    if (shape.value.type != BsonType::kArray || shape.value.Doc().CountElements() != 2) {
      return BadGeoQuery("$box requires two points: [[x1, y1], [x2, y2]]");
    }
    auto it = shape.value.Doc().begin();
    auto a = ParseLegacyPair(it->value);
    if (!a.ok()) return a.status();
    ++it;
    auto b = ParseLegacyPair(it->value);
    if (!b.ok()) return b.status();
    p->shape_ = Shape::kBox;
    p->box_[0] = std::min(a->first, b->first);
    p->box_[1] = std::min(a->second, b->second);
    p->box_[2] = std::max(a->first, b->first);
    p->box_[3] = std::max(a->second, b->second);
  } else if (shape.key == "$polygon") {
    if (shape.value.type != BsonType::kArray) return BadGeoQuery("$polygon must be an array of points");
    for (const ElementView& e : shape.value.Doc()) {
      auto pt = ParseLegacyPair(e.value);
      if (!pt.ok()) return pt.status();
      p->flat_polygon_.push_back(*pt);
    }
    if (p->flat_polygon_.size() < 3) return BadGeoQuery("Polygon must have at least 3 points");
    p->shape_ = Shape::kPolygon;
  } else if (shape.key == "$center" || shape.key == "$centerSphere") {
    if (shape.value.type != BsonType::kArray || shape.value.Doc().CountElements() != 2) {
      return BadGeoQuery(StrCat(shape.key, " requires a point and a radius: [[x, y], r]"));
    }
    auto it = shape.value.Doc().begin();
    auto c = ParseLegacyPair(it->value);
    if (!c.ok()) return c.status();
    ++it;
    auto r = NonNegative(it->value, "radius");
    if (!r.ok()) return r.status();
    if (!std::isfinite(*r)) return BadGeoQuery("radius must be a finite number");
    if (shape.key == "$center") {
      p->shape_ = Shape::kCenter;
      p->cx_ = c->first;
      p->cy_ = c->second;
      p->radius_ = *r;
    } else {
      if (!(c->first >= -180 && c->first <= 180 && c->second >= -90 && c->second <= 90)) {
        return BadGeoQuery("$centerSphere center must be valid longitude and latitude");
      }
      p->shape_ = Shape::kCenterSphere;
      p->cx_ = c->first;
      p->cy_ = c->second;
      p->radius_ = *r;
      S2Point center = S2LatLng::FromDegrees(c->second, c->first).ToPoint();
      p->cap_ = std::make_unique<S2Cap>(center, S1Angle::Radians(std::min(*r, M_PI)));
    }
  } else {
    return BadGeoQuery(StrCat("unknown geo specifier: ", shape.key));
  }
  return std::shared_ptr<const GeoPredicate>(std::move(p));
}

void CapBounds(double lng, double lat, double radians, double* min_x, double* min_y, double* max_x, double* max_y) {
  double deg = radians * 180 / M_PI;
  *min_y = std::max(-90.0, lat - deg);
  *max_y = std::min(90.0, lat + deg);
  double widest = std::max(std::fabs(*min_y), std::fabs(*max_y));
  if (deg >= 90 || widest >= 89.999) {
    *min_x = -180;
    *max_x = 180;
    return;
  }
  double dlng = deg / std::cos(widest * M_PI / 180);
  if (dlng >= 180) {
    *min_x = -180;
    *max_x = 180;
    return;
  }
  *min_x = std::max(-180.0, lng - dlng);
  *max_x = std::min(180.0, lng + dlng);
  // Across the antimeridian: the whole band (a box cannot wrap).
  if (lng - dlng < -180 || lng + dlng > 180) {
    *min_x = -180;
    *max_x = 180;
  }
}

bool GeoPredicate::FlatBounds(double* min_x, double* min_y, double* max_x, double* max_y) const {
  switch (shape_) {
    case Shape::kBox:
      *min_x = box_[0], *min_y = box_[1], *max_x = box_[2], *max_y = box_[3];
      return true;
    case Shape::kPolygon: {
      *min_x = *max_x = flat_polygon_[0].first;
      *min_y = *max_y = flat_polygon_[0].second;
      for (const auto& [x, y] : flat_polygon_) {
        *min_x = std::min(*min_x, x), *max_x = std::max(*max_x, x);
        *min_y = std::min(*min_y, y), *max_y = std::max(*max_y, y);
      }
      return true;
    }
    case Shape::kCenter:
      *min_x = cx_ - radius_, *max_x = cx_ + radius_, *min_y = cy_ - radius_, *max_y = cy_ + radius_;
      return true;
    case Shape::kCenterSphere: CapBounds(cx_, cy_, radius_, min_x, min_y, max_x, max_y); return true;
    default: return false;
  }
}

bool GeoPredicate::WithinFlat(double x, double y) const {
  switch (shape_) {
    case Shape::kBox: return x >= box_[0] && x <= box_[2] && y >= box_[1] && y <= box_[3];
    case Shape::kPolygon: return InFlatPolygon(flat_polygon_, x, y);
    case Shape::kCenter: return std::hypot(x - cx_, y - cy_) <= radius_;
    default: return false;
  }
}

bool GeoPredicate::Matches(const Geometry& g) const {
  if (shape_ == Shape::kBox || shape_ == Shape::kPolygon || shape_ == Shape::kCenter) {
    return g.is_point() && WithinFlat(g.x(), g.y());
  }
  if (!g.spherical()) return false;
  if (op_ == Op::kIntersects) return GeometriesIntersect(g, *geometry_);
  if (shape_ == Shape::kCenterSphere) {
    // A cap under a hemisphere is convex: a shape is inside when its vertices are.
    for (const Point3& p : g.points()) {
      if (!cap_->Contains(ToS2(p))) return false;
    }
    for (const auto& l : g.lines()) {
      for (int i = 0; i < l->num_vertices(); ++i) {
        if (!cap_->Contains(l->vertex(i))) return false;
      }
    }
    for (const auto& poly : g.polygons()) {
      for (int k = 0; k < poly->num_loops(); ++k) {
        const S2Loop* loop = poly->loop(k);
        for (int i = 0; i < loop->num_vertices(); ++i) {
          if (!cap_->Contains(loop->vertex(i))) return false;
        }
      }
    }
    return true;
  }
  for (const Point3& p : g.points()) {
    if (!WithinContains(p)) return false;
  }
  for (const auto& l : g.lines()) {
    if (!within_->Contains(*l)) return false;
  }
  for (const auto& poly : g.polygons()) {
    if (!within_->Contains(*poly)) return false;
  }
  return true;
}

bool GeoPredicate::WithinContains(const Point3& point) const {
  const S2Point p = ToS2(point);
  return convex_ != nullptr ? convex_->Contains(p) : within_->Contains(p);
}

bool GeoPredicate::MatchesValue(const ValueView& v) const {
  // One point on the sphere, the usual stored value, without building a Geometry.
  if (op_ == Op::kWithin && (shape_ == Shape::kGeometry || shape_ == Shape::kCenterSphere)) {
    if (std::optional<Point3> p = SphericalPointOf(v)) {
      return shape_ == Shape::kGeometry ? WithinContains(*p) : cap_->Contains(ToS2(*p));
    }
  }
  auto g = Geometry::FromValue(v);
  if (!g.ok() || !g->has_value()) return false;
  return Matches(**g);
}

// ---- $near / $nearSphere ---------------------------------------------------------------------

absl::StatusOr<NearQuery> NearQuery::Parse(std::string_view op, const ValueView& operand, DocView ops) {
  NearQuery q;
  const bool sphere_op = op == "$nearSphere";
  auto distances = [&](DocView from) -> absl::Status {
    ValueView v;
    if (from.Find("$minDistance", &v)) {
      auto d = NonNegative(v, "$minDistance");
      if (!d.ok()) return d.status();
      q.min_distance = *d;
    }
    if (from.Find("$maxDistance", &v)) {
      auto d = NonNegative(v, "$maxDistance");
      if (!d.ok()) return d.status();
      q.max_distance = *d;
    }
    return absl::OkStatus();
  };
  ValueView geometry;
  if (operand.type == BsonType::kDocument && operand.Doc().Find("$geometry", &geometry)) {
    if (geometry.type != BsonType::kDocument) return BadGeoQuery("$geometry must be a GeoJSON point");
    auto g = Geometry::FromGeoJson(geometry.Doc(), false);
    if (!g.ok()) return g.status();
    if (g->type() != Geometry::Type::kPoint) return BadGeoQuery(StrCat(op, " requires a point"));
    for (const ElementView& e : operand.Doc()) {
      if (e.key != "$geometry" && e.key != "$minDistance" && e.key != "$maxDistance") {
        return BadGeoQuery(StrCat("invalid argument in geo near query: ", e.key));
      }
    }
    if (auto s = distances(operand.Doc()); !s.ok()) return s;
    q.spherical = true;
    q.geojson = true;
    q.x = g->x();
    q.y = g->y();
    q.point = g->points()[0];
    return q;
  }
  auto p = ParseLegacyPair(operand);
  if (!p.ok()) return BadGeoQuery(StrCat(op, " must be a point ([x, y]) or {$geometry: <GeoJSON point>}"));
  if (auto s = distances(ops); !s.ok()) return s;
  q.geojson = false;
  q.spherical = sphere_op;
  q.x = p->first;
  q.y = p->second;
  if (q.spherical) {
    if (!(q.x >= -180 && q.x <= 180 && q.y >= -90 && q.y <= 90)) {
      return BadGeoQuery("$nearSphere point must be valid longitude and latitude");
    }
    S2Point s = S2LatLng::FromDegrees(q.y, q.x).ToPoint();
    q.point = {s.x(), s.y(), s.z()};
  }
  return q;
}

std::optional<double> NearQuery::Distance(const Geometry& g) const {
  if (!spherical) {
    if (!g.is_point()) return std::nullopt;
    return std::hypot(g.x() - x, g.y() - y);
  }
  if (!g.spherical()) return std::nullopt;
  S2Point q = ToS2(point);
  double best = 1e300;
  for (const Point3& p : g.points()) best = std::min(best, S1Angle(q, ToS2(p)).radians());
  for (const auto& l : g.lines()) {
    int next = 0;
    best = std::min(best, S1Angle(q, l->Project(q, &next)).radians());
  }
  for (const auto& poly : g.polygons()) best = std::min(best, poly->GetDistance(q).radians());
  if (best == 1e300) return std::nullopt;
  return geojson ? best * kEarthRadiusMeters : best;
}

double NearQuery::KeyDistance(int64_t key, const Grid2d* grid, double* error) const {
  if (grid != nullptr) {
    double cx, cy;
    grid->CellCenter(key, &cx, &cy);
    double diagonal = grid->CellDiagonal();
    if (!spherical) {
      *error = diagonal;
      return std::hypot(cx - x, cy - y);
    }
    S2Point c = S2LatLng::FromDegrees(std::clamp(cy, -90.0, 90.0), cx).ToPoint();
    double radians = S1Angle(ToS2(point), c).radians();
    *error = diagonal * M_PI / 180;  // legacy pairs only: radians
    return radians;
  }
  S2CellId id(static_cast<uint64_t>(key) ^ (uint64_t{1} << 63));
  double radians = id.is_valid() ? S1Angle(ToS2(point), id.ToPoint()).radians() : 0;
  *error = id.is_valid() ? 1e-8 : M_PI;  // a leaf cell is about 1e-9 radians across
  if (geojson) {
    *error *= kEarthRadiusMeters;
    return radians * kEarthRadiusMeters;
  }
  return radians;
}

void NearQuery::Bounds(double radius, double* min_x, double* min_y, double* max_x, double* max_y) const {
  if (!spherical) {
    *min_x = x - radius, *max_x = x + radius, *min_y = y - radius, *max_y = y + radius;
    return;
  }
  CapBounds(x, y, geojson ? radius / kEarthRadiusMeters : radius, min_x, min_y, max_x, max_y);
}

std::optional<double> NearQuery::Distance(const ValueView& v) const {
  if (spherical) {
    // One point, the usual stored value, without building a Geometry.
    if (std::optional<Point3> p = SphericalPointOf(v)) {
      double radians = S1Angle(ToS2(point), ToS2(*p)).radians();
      return geojson ? radians * kEarthRadiusMeters : radians;
    }
  }
  auto g = Geometry::FromValue(v);
  if (!g.ok() || !g->has_value()) return std::nullopt;
  return Distance(**g);
}

}  // namespace micromongo::geo
