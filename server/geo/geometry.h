#pragma once

// Geometries as MongoDB stores and queries them: GeoJSON (Point, LineString, Polygon with
// holes, MultiPoint, MultiLineString, MultiPolygon, GeometryCollection) on the sphere, and
// legacy coordinate pairs ([x, y] or {<a>: x, <b>: y}) on the plane, which also stand for
// spherical points when they are valid longitudes and latitudes. Spherical shapes are
// Google S2's; nothing outside this module sees S2.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"

class S2Polygon;
class S2Polyline;

namespace micromongo::geo {

// MongoDB's earth radius (its kRadiusOfEarthInMeters), for distances in meters.
inline constexpr double kEarthRadiusMeters = 6378.1 * 1000;

struct Point3 {
  double x = 0, y = 0, z = 0;  // a unit vector (an S2Point)
  friend bool operator==(const Point3&, const Point3&) = default;
};

// The first two values of an array or document ([x, y], {lng: x, lat: y}) as plane
// coordinates: MongoDB's legacy pair. Errors: 2 (BadValue).
absl::StatusOr<std::pair<double, double>> ParseLegacyPair(const bson::ValueView& v);

// The place on the sphere of a stored value that is one point: a GeoJSON Point of exactly
// the fields `type` and `coordinates` ([lng, lat]), or a legacy pair of exactly two
// numbers, with a valid longitude and latitude. The same point Geometry::FromValue gives
// such a value, without building a Geometry (matching checks one per candidate document);
// nullopt for every other value, which takes FromValue.
std::optional<Point3> SphericalPointOf(const bson::ValueView& v);

class Geometry {
 public:
  enum class Type { kPoint, kLineString, kPolygon, kMultiPoint, kMultiLineString, kMultiPolygon, kCollection };

  Geometry();
  Geometry(Geometry&&) noexcept;
  Geometry& operator=(Geometry&&) noexcept;
  ~Geometry();

  // A stored value: a GeoJSON document or a legacy pair. nullopt when `v` is neither (not
  // a document or array, or a document without "type" whose first two values are not
  // numbers); an error when it looks like one but is invalid (MongoDB's messages; the
  // 2dsphere index reports them as 16755).
  static absl::StatusOr<std::optional<Geometry>> FromValue(const bson::ValueView& v);
  // A GeoJSON document. `strict_winding`: the big-polygon CRS was named (a polygon's
  // interior is on the left of its ring, even past a hemisphere), allowed only in queries.
  static absl::StatusOr<Geometry> FromGeoJson(bson::DocView doc, bool allow_big_polygon);
  // A legacy pair ([x, y] or a document of two numbers).
  static absl::StatusOr<Geometry> FromLegacyPoint(const bson::ValueView& v);

  Type type() const { return type_; }
  bool legacy() const { return legacy_; }
  // A single point (GeoJSON Point or legacy pair): its coordinates as given.
  bool is_point() const { return type_ == Type::kPoint; }
  double x() const { return x_; }
  double y() const { return y_; }
  // Whether it has a place on the sphere (a legacy pair only with valid lng/lat).
  bool spherical() const { return spherical_; }

  const std::vector<Point3>& points() const { return points_; }
  const std::vector<std::unique_ptr<S2Polyline>>& lines() const { return lines_; }
  const std::vector<std::unique_ptr<S2Polygon>>& polygons() const { return polygons_; }

 private:
  Type type_ = Type::kPoint;
  bool legacy_ = false;
  bool spherical_ = true;
  double x_ = 0, y_ = 0;
  // Every member's shapes (a collection's included).
  std::vector<Point3> points_;
  std::vector<std::unique_ptr<S2Polyline>> lines_;
  std::vector<std::unique_ptr<S2Polygon>> polygons_;

  friend class GeometryParser;
};

}  // namespace micromongo::geo
