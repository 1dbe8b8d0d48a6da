#pragma once

// The geo query operators: $geoWithin (and the old $within) with $geometry (Polygon or
// MultiPolygon, big polygons through the strict-winding CRS), $box, $polygon, $center and
// $centerSphere; $geoIntersects with $geometry; and $near / $nearSphere's point and
// distances. Semantics as MongoDB's GeoMatchExpression: a stored value matches when it is
// a geometry that lies within (or intersects) the query's shape; flat shapes ($box,
// $polygon, $center) hold only points, compared as plane coordinates; spherical ones take
// legacy pairs as longitude/latitude.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "geo/geometry.h"

class S2Cap;
class S2Polygon;

namespace micromongo::geo {

class ConvexLoop;

class GeoPredicate {
 public:
  enum class Op { kWithin, kIntersects };
  enum class Shape { kGeometry, kBox, kPolygon, kCenter, kCenterSphere };

  // `op` is "$geoWithin", "$within" or "$geoIntersects". Errors: 2 (BadValue) for
  // malformed shapes and geometries MongoDB refuses.
  static absl::StatusOr<std::shared_ptr<const GeoPredicate>> Parse(std::string_view op, const bson::ValueView& operand);

  ~GeoPredicate();

  Op op() const { return op_; }
  Shape shape() const { return shape_; }
  // Whether a stored value satisfies the predicate (values that are no geometry never do).
  bool MatchesValue(const bson::ValueView& v) const;
  bool Matches(const Geometry& g) const;
  // Whether the shape is on the sphere (a 2dsphere index can serve it).
  bool spherical() const { return shape_ == Shape::kGeometry || shape_ == Shape::kCenterSphere; }
  // The spherical region's S2 cell covering as ranges of leaf cell ids, for index bounds
  // (see cells.h). Empty for flat shapes.
  const Geometry* geometry() const { return geometry_ ? &*geometry_ : nullptr; }
  const S2Cap* cap() const { return cap_.get(); }
  // The bounding box in plane coordinates (degrees for $centerSphere) of the shapes a 2d
  // index can serve ($box, $polygon, $center, $centerSphere); false for $geometry.
  bool FlatBounds(double* min_x, double* min_y, double* max_x, double* max_y) const;

 private:
  GeoPredicate() = default;
  bool WithinFlat(double x, double y) const;
  // Whether `within_` holds the point (through `convex_` when there is one).
  bool WithinContains(const Point3& p) const;

  Op op_ = Op::kWithin;
  Shape shape_ = Shape::kGeometry;
  std::optional<Geometry> geometry_;
  std::unique_ptr<S2Polygon> within_;  // kWithin of a geometry: the union of its polygons
  // `within_` when it is one convex loop (see convex_loop.h), which answers points cheaply.
  std::unique_ptr<ConvexLoop> convex_;
  std::unique_ptr<S2Cap> cap_;         // kCenterSphere
  double box_[4] = {0, 0, 0, 0};       // min x, min y, max x, max y
  std::vector<std::pair<double, double>> flat_polygon_;
  double cx_ = 0, cy_ = 0, radius_ = 0;  // kCenter; kCenterSphere's center and radius too
};

// $near / $nearSphere: a point and distance bounds. GeoJSON points ({$geometry: ...}) are
// spherical with distances in meters; legacy points are flat for $near (coordinate units)
// and spherical for $nearSphere (radians).
struct NearQuery {
  bool spherical = true;
  bool geojson = true;  // distances in meters (else radians, or plane units when flat)
  double x = 0, y = 0;  // the point as given (lng, lat when spherical)
  Point3 point;         // on the sphere
  double min_distance = 0;
  double max_distance = -1;  // < 0: none

  // `op` is "$near" or "$nearSphere"; `ops` the whole operator document (legacy forms keep
  // $minDistance/$maxDistance beside the operator). Errors: 2 (BadValue).
  static absl::StatusOr<NearQuery> Parse(std::string_view op, const bson::ValueView& operand, bson::DocView ops);

  // The distance of a stored value to the point in the query's units (nullopt: not a
  // geometry it can measure). Spherical distances are to the nearest point of the shape.
  std::optional<double> Distance(const bson::ValueView& v) const;
  std::optional<double> Distance(const Geometry& g) const;
  // The distance (in the query's units) to the point an index key stands for, and how far
  // off it may be: a 2dsphere index's leaf cell (null `grid`) or a 2d index's grid cell.
  // For indexes that hold one point per document, to leave out records too far to fetch.
  double KeyDistance(int64_t key, const struct Grid2d* grid, double* error) const;
  // The bounding box, in plane coordinates (degrees when spherical), of the points within
  // `radius` (in the query's units) of the point.
  void Bounds(double radius, double* min_x, double* min_y, double* max_x, double* max_y) const;
};

// The longitude/latitude box around (lng, lat) holding the cap of `radians`.
void CapBounds(double lng, double lat, double radians, double* min_x, double* min_y, double* max_x, double* max_y);

}  // namespace micromongo::geo
