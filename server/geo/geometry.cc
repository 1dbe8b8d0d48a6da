#include "geo/geometry.h"

#include <s2/s2latlng.h>
#include <s2/s2loop.h>
#include <s2/s2polygon.h>
#include <s2/s2polyline.h>

#include <cmath>

#include "document/status.h"

namespace micromongo::geo {

using bson::DocView;
using bson::ElementView;
using bson::ValueView;

Geometry::Geometry() = default;
Geometry::Geometry(Geometry&&) noexcept = default;
Geometry& Geometry::operator=(Geometry&&) noexcept = default;
Geometry::~Geometry() = default;

namespace {

// Exact equality of two points (S2's Vector3 operators are ambiguous to C++20 compilers,
// which also try them with the arguments reversed).
bool SamePoint(const S2Point& a, const S2Point& b) { return a.x() == b.x() && a.y() == b.y() && a.z() == b.z(); }

absl::Status BadGeometry(std::string_view message) { return MongoError(kBadValue, message); }

constexpr std::string_view kStrictWindingCrs = "urn:x-mongodb:crs:strictwinding:EPSG:4326";

Point3 ToPoint3(const S2Point& p) { return {p.x(), p.y(), p.z()}; }

}  // namespace

class GeometryParser {
 public:
  static absl::StatusOr<S2Point> Position(const ValueView& v) {
    if (v.type != BsonType::kArray) return BadGeometry("GeoJSON coordinates must be an array of coordinates");
    double c[2];
    int n = 0;
    for (const ElementView& e : v.Doc()) {
      if (!e.value.IsNumber()) return BadGeometry("Point must only contain numeric elements");
      if (n >= 2) return BadGeometry("Point must only contain two numeric elements");
      c[n++] = e.value.AsDouble();
    }
    if (n != 2) return BadGeometry("Point must only contain two numeric elements");
    return LngLat(c[0], c[1]);
  }

  static absl::StatusOr<S2Point> LngLat(double lng, double lat) {
    if (!(lng >= -180 && lng <= 180 && lat >= -90 && lat <= 90)) {
      return BadGeometry(StrCat("longitude/latitude is out of bounds, lng: ", lng, " lat: ", lat));
    }
    return S2LatLng::FromDegrees(lat, lng).ToPoint();
  }

  // Positions with consecutive duplicates removed (as MongoDB's eraseDuplicatePoints).
  static absl::StatusOr<std::vector<S2Point>> Positions(const ValueView& v) {
    if (v.type != BsonType::kArray) return BadGeometry("GeoJSON coordinates must be an array");
    std::vector<S2Point> out;
    for (const ElementView& e : v.Doc()) {
      auto p = Position(e.value);
      if (!p.ok()) return p.status();
      if (out.empty() || !SamePoint(out.back(), *p)) out.push_back(*p);
    }
    return out;
  }

  static absl::StatusOr<std::unique_ptr<S2Polyline>> Line(const ValueView& v) {
    if (v.type != BsonType::kArray) return BadGeometry("GeoJSON coordinates must be an array");
    if (v.Doc().CountElements() < 2) return BadGeometry("GeoJSON LineString must have at least 2 vertices");
    auto pts = Positions(v);
    if (!pts.ok()) return pts.status();
    if (pts->size() < 2) return BadGeometry("GeoJSON LineString must have at least 2 distinct vertices");
    auto line = std::make_unique<S2Polyline>(*pts, S2Debug::DISABLE);
    S2Error error;
    if (line->FindValidationError(&error)) return BadGeometry(StrCat("Invalid LineString: ", error.text()));
    return line;
  }

  static absl::StatusOr<std::unique_ptr<S2Polygon>> Polygon(const ValueView& v, bool strict_winding) {
    if (v.type != BsonType::kArray) return BadGeometry("Polygon coordinates must be an array");
    std::vector<std::unique_ptr<S2Loop>> loops;
    for (const ElementView& ring : v.Doc()) {
      if (ring.value.type != BsonType::kArray) return BadGeometry("Polygon coordinates must be an array");
      if (ring.value.Doc().CountElements() < 4) {
        return BadGeometry("Loop must have at least 4 vertices (the first repeated last)");
      }
      auto pts = Positions(ring.value);
      if (!pts.ok()) return pts.status();
      if (pts->size() < 2 || !SamePoint(pts->front(), pts->back())) {
        return BadGeometry("Loop is not closed, first vertex does not equal last vertex");
      }
      pts->pop_back();
      if (pts->size() < 3) return BadGeometry("Loop must have at least 3 different vertices");
      auto loop = std::make_unique<S2Loop>(*pts, S2Debug::DISABLE);
      S2Error error;
      if (loop->FindValidationError(&error)) return BadGeometry(StrCat("Loop is not valid: ", error.text()));
      if (loops.empty()) {
        // The exterior ring: the smaller side of it, unless the winding says which side.
        if (!strict_winding) loop->Normalize();
      } else {
        if (strict_winding) return BadGeometry("Only simple polygons are supported with the strict winding order CRS");
        loop->Normalize();  // a hole's own region; it must lie inside the exterior
        if (!loops[0]->Contains(*loop)) {
          return BadGeometry("Secondary loops not contained by first exterior loop - secondary loops must be holes");
        }
        for (size_t k = 1; k < loops.size(); ++k) {
          if (loops[k]->Intersects(*loop)) return BadGeometry("Holes must not overlap or contain each other");
        }
      }
      loops.push_back(std::move(loop));
    }
    if (loops.empty()) return BadGeometry("Polygon has no loops");
    auto polygon = std::make_unique<S2Polygon>();
    polygon->set_s2debug_override(S2Debug::DISABLE);
    polygon->InitNested(std::move(loops));
    S2Error error;
    if (polygon->FindValidationError(&error)) return BadGeometry(StrCat("Polygon is not valid: ", error.text()));
    return polygon;
  }

  static absl::Status Parse(DocView doc, bool allow_big_polygon, int depth, Geometry* g) {
    ValueView type, coords;
    if (!doc.Find("type", &type) || type.type != BsonType::kString) return BadGeometry("unknown GeoJSON type");
    std::string_view t = type.String();
    bool strict = false;
    ValueView crs;
    if (doc.Find("crs", &crs)) {
      ValueView props, name;
      if (crs.type != BsonType::kDocument || !crs.Doc().Find("properties", &props) ||
          props.type != BsonType::kDocument || !props.Doc().Find("name", &name) ||
          name.type != BsonType::kString) {
        return BadGeometry("GeoJSON CRS must have field \"properties.name\"");
      }
      if (name.String() == kStrictWindingCrs) {
        if (!allow_big_polygon) return BadGeometry("strict winding order CRS is only supported in queries");
        if (t != "Polygon") return BadGeometry("strict winding order CRS is only supported by polygon");
        strict = true;
      } else if (name.String() != "EPSG:4326" && name.String() != "urn:ogc:def:crs:OGC:1.3:CRS84") {
        return BadGeometry(StrCat("Unknown CRS name: ", name.String()));
      }
    }
    if (t == "GeometryCollection") {
      ValueView members;
      if (!doc.Find("geometries", &members) || members.type != BsonType::kArray) {
        return BadGeometry("GeometryCollection geometries must be an array");
      }
      if (depth > 0) return BadGeometry("GeometryCollections cannot be nested");
      for (const ElementView& e : members.Doc()) {
        if (e.value.type != BsonType::kDocument) return BadGeometry("Element in geometries is not an object");
        if (auto s = Parse(e.value.Doc(), false, depth + 1, g); !s.ok()) return s;
      }
      if (depth == 0) g->type_ = Geometry::Type::kCollection;
      return absl::OkStatus();
    }
    if (!doc.Find("coordinates", &coords) || coords.type != BsonType::kArray) {
      return BadGeometry("GeoJSON coordinates must be an array");
    }
    Geometry::Type kind;
    if (t == "Point") {
      kind = Geometry::Type::kPoint;
      auto p = Position(coords);
      if (!p.ok()) return p.status();
      g->points_.push_back(ToPoint3(*p));
      DocView c = coords.Doc();
      auto it = c.begin();
      g->x_ = it->value.AsDouble();
      ++it;
      g->y_ = it->value.AsDouble();
    } else if (t == "MultiPoint") {
      kind = Geometry::Type::kMultiPoint;
      if (coords.Doc().empty()) return BadGeometry("MultiPoint coordinates must have at least 1 element");
      for (const ElementView& e : coords.Doc()) {
        auto p = Position(e.value);
        if (!p.ok()) return p.status();
        g->points_.push_back(ToPoint3(*p));
      }
    } else if (t == "LineString") {
      kind = Geometry::Type::kLineString;
      auto line = Line(coords);
      if (!line.ok()) return line.status();
      g->lines_.push_back(*std::move(line));
    } else if (t == "MultiLineString") {
      kind = Geometry::Type::kMultiLineString;
      if (coords.Doc().empty()) return BadGeometry("MultiLineString coordinates must have at least 1 element");
      for (const ElementView& e : coords.Doc()) {
        auto line = Line(e.value);
        if (!line.ok()) return line.status();
        g->lines_.push_back(*std::move(line));
      }
    } else if (t == "Polygon") {
      kind = Geometry::Type::kPolygon;
      auto polygon = Polygon(coords, strict);
      if (!polygon.ok()) return polygon.status();
      g->polygons_.push_back(*std::move(polygon));
    } else if (t == "MultiPolygon") {
      kind = Geometry::Type::kMultiPolygon;
      if (coords.Doc().empty()) return BadGeometry("MultiPolygon coordinates must have at least 1 element");
      for (const ElementView& e : coords.Doc()) {
        auto polygon = Polygon(e.value, false);
        if (!polygon.ok()) return polygon.status();
        g->polygons_.push_back(*std::move(polygon));
      }
    } else {
      return BadGeometry(StrCat("unknown GeoJSON type: ", t));
    }
    if (depth == 0) g->type_ = kind;
    return absl::OkStatus();
  }
};

absl::StatusOr<Geometry> Geometry::FromGeoJson(DocView doc, bool allow_big_polygon) {
  Geometry g;
  if (auto s = GeometryParser::Parse(doc, allow_big_polygon, 0, &g); !s.ok()) return s;
  return g;
}

absl::StatusOr<std::pair<double, double>> ParseLegacyPair(const ValueView& v) {
  if (v.type != BsonType::kArray && v.type != BsonType::kDocument) {
    return BadGeometry("Point must be an array or object");
  }
  double c[2];
  int n = 0;
  for (const ElementView& e : v.Doc()) {
    if (n == 2) break;
    if (!e.value.IsNumber()) return BadGeometry("Point must only contain numeric elements");
    c[n++] = e.value.AsDouble();
  }
  if (n != 2) return BadGeometry("Point must only contain numeric elements");
  return std::make_pair(c[0], c[1]);
}

std::optional<Point3> SphericalPointOf(const ValueView& v) {
  DocView coords;
  if (v.type == BsonType::kDocument) {
    // {type: "Point", coordinates: [...]} in either order, nothing else (a crs is parsed).
    bool point = false, have_coords = false;
    int fields = 0;
    for (const ElementView& e : v.Doc()) {
      if (++fields > 2) return std::nullopt;
      if (e.key == "type") {
        point = e.value.type == BsonType::kString && e.value.String() == "Point";
      } else if (e.key == "coordinates" && e.value.type == BsonType::kArray) {
        coords = e.value.Doc();
        have_coords = true;
      }
    }
    if (!point || !have_coords) return std::nullopt;
  } else if (v.type == BsonType::kArray) {
    coords = v.Doc();
  } else {
    return std::nullopt;
  }
  double c[2];
  int n = 0;
  for (const ElementView& e : coords) {
    if (n == 2 || !e.value.IsNumber()) return std::nullopt;
    c[n++] = e.value.AsDouble();
  }
  if (n != 2) return std::nullopt;
  auto p = GeometryParser::LngLat(c[0], c[1]);  // refuses NaN and infinities too
  if (!p.ok()) return std::nullopt;
  return ToPoint3(*p);
}

absl::StatusOr<Geometry> Geometry::FromLegacyPoint(const ValueView& v) {
  auto xy = ParseLegacyPair(v);
  if (!xy.ok()) return xy.status();
  auto [x, y] = *xy;
  if (!std::isfinite(x) || !std::isfinite(y)) return BadGeometry("Point coordinates must be finite numbers");
  Geometry g;
  g.legacy_ = true;
  g.x_ = x;
  g.y_ = y;
  auto p = GeometryParser::LngLat(x, y);
  g.spherical_ = p.ok();
  if (p.ok()) g.points_.push_back(ToPoint3(*p));
  return g;
}

absl::StatusOr<std::optional<Geometry>> Geometry::FromValue(const ValueView& v) {
  if (v.type == BsonType::kDocument) {
    ValueView type;
    if (v.Doc().Find("type", &type)) {
      auto g = FromGeoJson(v.Doc(), false);
      if (!g.ok()) return g.status();
      return std::optional<Geometry>(*std::move(g));
    }
  } else if (v.type != BsonType::kArray) {
    return std::optional<Geometry>();
  }
  // A legacy pair: the first two values numbers.
  int numbers = 0;
  for (const ElementView& e : v.Doc()) {
    if (numbers == 2 || !e.value.IsNumber()) break;
    ++numbers;
  }
  if (numbers < 2) return std::optional<Geometry>();
  auto g = FromLegacyPoint(v);
  if (!g.ok()) return g.status();
  return std::optional<Geometry>(*std::move(g));
}

}  // namespace micromongo::geo
