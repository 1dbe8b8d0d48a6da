#include <gtest/gtest.h>
#include <s2/s2latlng.h>
#include <s2/s2polygon.h>

#include <cmath>
#include <random>
#include <string>

#include "document/json.h"
#include "document/status.h"
#include "geo/cells.h"
#include "geo/convex_loop.h"
#include "geo/geo_query.h"
#include "geo/geometry.h"
#include "geo/grid.h"

namespace micromongo::geo {
namespace {

// The value of {"v": <json>}.
struct Json {
  explicit Json(const std::string& json) : bytes(*bson::JsonToBson("{\"v\": " + json + "}")) {}
  bson::ValueView value() const { return bson::DocView(bytes).begin()->value; }
  std::string bytes;
};

std::shared_ptr<const GeoPredicate> Predicate(const char* op, const std::string& shape) {
  Json j(shape);
  auto p = GeoPredicate::Parse(op, j.value());
  EXPECT_TRUE(p.ok()) << shape << ": " << p.status();
  return p.ok() ? *p : nullptr;
}

bool Matches(const GeoPredicate& p, const std::string& value) {
  Json j(value);
  return p.MatchesValue(j.value());
}

// Polygon rings for the tests that compare with S2: convex ones (a box, a triangle, a box
// across the antimeridian, a pentagon near the pole, a 1 m box) and others (an L, a box
// with collinear vertices, a ring with a hole).
struct Ring {
  const char* coordinates;
  bool convex;
};
constexpr Ring kRings[] = {
    {"[[[-3.2, 47.1], [-1.2, 47.1], [-1.2, 49.1], [-3.2, 49.1], [-3.2, 47.1]]]", true},
    {"[[[0, 0], [5, 0], [2, 4], [0, 0]]]", true},
    {"[[[170, -10], [-170, -10], [-170, 10], [170, 10], [170, -10]]]", true},
    {"[[[0, 80], [72, 81], [144, 82], [-144, 83], [-72, 84], [0, 80]]]", true},
    {"[[[10, 10], [10.00001, 10], [10.00001, 10.00001], [10, 10.00001], [10, 10]]]", true},
    {"[[[0, 0], [4, 0], [4, 1], [1, 1], [1, 4], [0, 4], [0, 0]]]", false},
    {"[[[0, 0], [2, 0], [2, 2], [1, 2], [0, 2], [0, 0]]]", false},
    {"[[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]]", false},
};

TEST(GeometryTest, ParsesGeoJsonAndLegacyPairs) {
  struct Case {
    const char* json;
    bool geometry;  // a geometry at all
    bool valid;
  };
  const Case cases[] = {
      {R"({"type": "Point", "coordinates": [1, 2]})", true, true},
      {R"({"type": "Point", "coordinates": [181, 2]})", true, false},
      {R"({"type": "Point", "coordinates": [1, 91]})", true, false},
      {R"({"type": "Point", "coordinates": [1]})", true, false},
      {R"({"type": "Point", "coordinates": [1, 2, 3]})", true, false},
      {R"({"type": "Point", "coordinates": "x"})", true, false},
      {R"({"type": "LineString", "coordinates": [[0, 0], [1, 1]]})", true, true},
      {R"({"type": "LineString", "coordinates": [[0, 0]]})", true, false},
      {R"({"type": "LineString", "coordinates": [[0, 0], [0, 0]]})", true, false},
      {R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})", true, true},
      {R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})", true, false},  // not closed
      {R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]})", true, false},          // 3 points
      {R"({"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]})", true, false},  // crossing
      // A hole outside its exterior ring.
      {R"({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]], [[5, 5], [6, 5], [6, 6], [5, 5]]]})",
       true, false},
      {R"({"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]})", true, true},
      {R"({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]})", true, true},
      {R"({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]})", true, true},
      {R"({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 0]}]})", true, true},
      {R"({"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection", "geometries": []}]})", true,
       false},
      {R"({"type": "Circle", "coordinates": [0, 0]})", true, false},
      {R"([1, 2])", true, true},
      {R"([1, 2, 3])", true, true},
      {R"({"x": 1, "y": 2})", true, true},
      {R"([500, 500])", true, true},  // a plane point (not on the sphere)
      {R"([1])", false, true},
      {R"(["a", "b"])", false, true},
      {R"("somewhere")", false, true},
      {R"({"x": 1})", false, true},
  };
  for (const Case& c : cases) {
    Json j(c.json);
    auto g = Geometry::FromValue(j.value());
    EXPECT_EQ(g.ok(), c.valid) << c.json << ": " << g.status();
    if (g.ok()) {
      EXPECT_EQ(g->has_value(), c.geometry) << c.json;
    }
  }
  Json plane("[500, 500]");
  EXPECT_FALSE((*Geometry::FromValue(plane.value()))->spherical());
  Json crs(R"({"type": "Point", "coordinates": [0, 0],
               "crs": {"type": "name", "properties": {"name": "urn:x-mongodb:crs:strictwinding:EPSG:4326"}}})");
  EXPECT_FALSE(Geometry::FromValue(crs.value()).ok());  // big polygons only in queries, only polygons
}

TEST(GeoPredicateTest, EdgesOfTheSphere) {
  // A square across the antimeridian: the shorter edges go over longitude 180.
  auto antimeridian = Predicate("$geoWithin", R"({"$geometry": {"type": "Polygon", "coordinates":
      [[[170, -10], [-170, -10], [-170, 10], [170, 10], [170, -10]]]}})");
  EXPECT_TRUE(Matches(*antimeridian, R"({"type": "Point", "coordinates": [180, 0]})"));
  EXPECT_TRUE(Matches(*antimeridian, R"({"type": "Point", "coordinates": [-175, -5]})"));
  EXPECT_TRUE(Matches(*antimeridian, "[175, 5]"));
  EXPECT_FALSE(Matches(*antimeridian, R"({"type": "Point", "coordinates": [0, 0]})"));
  // A ring around the north pole.
  auto pole = Predicate("$geoWithin", R"({"$geometry": {"type": "Polygon", "coordinates":
      [[[0, 80], [90, 80], [180, 80], [-90, 80], [0, 80]]]}})");
  EXPECT_TRUE(Matches(*pole, "[0, 90]"));
  EXPECT_TRUE(Matches(*pole, "[123, 85]"));
  EXPECT_FALSE(Matches(*pole, "[0, 0]"));
  EXPECT_FALSE(Matches(*pole, "[0, -90]"));
  // A polygon with a hole: points in the hole are not within, a line across it is not.
  auto holed = Predicate("$geoWithin", R"({"$geometry": {"type": "Polygon", "coordinates":
      [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]]}})");
  EXPECT_TRUE(Matches(*holed, "[1, 1]"));
  EXPECT_FALSE(Matches(*holed, "[5, 5]"));
  EXPECT_TRUE(Matches(*holed, R"({"type": "LineString", "coordinates": [[1, 1], [2, 8]]})"));
  EXPECT_FALSE(Matches(*holed, R"({"type": "LineString", "coordinates": [[1, 5], [9, 5]]})"));
  auto hits_hole = Predicate("$geoIntersects", R"({"$geometry": {"type": "Point", "coordinates": [5, 5]}})");
  EXPECT_FALSE(Matches(*hits_hole, R"({"type": "Polygon", "coordinates":
      [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]]})"));
  // Values that are no geometry never match.
  EXPECT_FALSE(Matches(*holed, R"("a string")"));
  EXPECT_FALSE(Matches(*holed, "[500, 500]"));
}

TEST(GeometryTest, SphericalPointOfGivesFromValuesPointOrDefersToIt) {
  const char* values[] = {
      R"({"type": "Point", "coordinates": [2.5, 48.75]})",
      R"({"coordinates": [-73.9, 40.7], "type": "Point"})",
      R"({"type": "Point", "coordinates": [180, -90]})",
      R"({"type": "Point", "coordinates": [{"$numberInt": "3"}, {"$numberDecimal": "4.5"}]})",
      "[10, 20]",
      R"([{"$numberLong": "-179"}, 89.5])",
      // Each of these takes Geometry::FromValue (an error, another shape, more fields, a
      // point off the sphere or not a point at all).
      R"({"type": "Point", "coordinates": [2.5, 48.75], "crs": {"type": "name",
          "properties": {"name": "EPSG:4326"}}})",
      R"({"type": "Point", "coordinates": [200, 0]})",
      R"({"type": "Point", "coordinates": [1, 2, 3]})",
      R"({"type": "Point", "coordinates": [1]})",
      R"({"type": "Point", "coordinates": ["1", 2]})",
      R"({"type": "Point", "coordinates": {"x": 1, "y": 2}})",
      R"({"type": "point", "coordinates": [1, 2]})",
      R"({"type": "MultiPoint", "coordinates": [[1, 2]]})",
      R"({"type": "Point"})",
      R"({"lng": 1, "lat": 2})",
      "[1, 2, 3]",
      "[200, 95]",
      R"([{"$numberDouble": "NaN"}, 0])",
      R"([{"$numberDouble": "Infinity"}, 0])",
      "[[1, 2]]",
      "[]",
      "{}",
      R"("Point")",
      "null",
  };
  for (const char* json : values) {
    Json j(json);
    std::optional<Point3> fast = SphericalPointOf(j.value());
    auto general = Geometry::FromValue(j.value());
    if (!fast) continue;
    ASSERT_TRUE(general.ok() && general->has_value()) << json;
    const Geometry& g = **general;
    ASSERT_TRUE(g.is_point() && g.spherical()) << json;
    EXPECT_EQ(*fast, g.points()[0]) << json;
  }
  EXPECT_TRUE(SphericalPointOf(Json(values[0]).value()).has_value());
  EXPECT_TRUE(SphericalPointOf(Json("[10, 20]").value()).has_value());
  EXPECT_FALSE(SphericalPointOf(Json("[200, 95]").value()).has_value());
}

TEST(GeoPredicateTest, PointsWithinPolygonsAsS2DecidesThem) {
  // Convex rings take the edge-side test, the others only S2's. Either way a point matches
  // exactly when S2 puts it in the polygon: random points around each ring, its vertices
  // and points on its meridian edges (on the boundary, where S2's semi-open rules decide).
  std::mt19937 rng(7);
  for (const Ring& r : kRings) {
    const char* ring = r.coordinates;
    std::string polygon = std::string(R"({"type": "Polygon", "coordinates": )") + ring + "}";
    auto p = Predicate("$geoWithin", std::string(R"({"$geometry": )") + polygon + "}");
    ASSERT_NE(p, nullptr);
    Json shape(polygon);
    auto reference = Geometry::FromGeoJson(shape.value().Doc(), false);
    ASSERT_TRUE(reference.ok());
    const S2Polygon& s2 = *reference->polygons()[0];
    std::vector<std::pair<double, double>> points;  // lng, lat
    Json coords(ring);
    double min_x = 180, max_x = -180, min_y = 90, max_y = -90;
    for (const bson::ElementView& r : coords.value().Doc()) {
      std::vector<std::pair<double, double>> vertices;
      for (const bson::ElementView& v : r.value.Doc()) {
        auto it = v.value.Doc().begin();
        double x = it->value.AsDouble(), y = (++it)->value.AsDouble();
        vertices.emplace_back(x, y);
        min_x = std::min(min_x, x), max_x = std::max(max_x, x);
        min_y = std::min(min_y, y), max_y = std::max(max_y, y);
      }
      for (size_t i = 0; i + 1 < vertices.size(); ++i) {
        auto [x0, y0] = vertices[i];
        auto [x1, y1] = vertices[i + 1];
        points.emplace_back(x0, y0);
        if (x0 == x1) {  // a meridian: its points lie on the edge's great circle
          for (double t : {0.1, 0.25, 0.5, 0.9}) points.emplace_back(x0, y0 + (y1 - y0) * t);
        }
      }
    }
    std::uniform_real_distribution<double> x(min_x - 1, max_x + 1), y(std::max(-90.0, min_y - 1), std::min(90.0, max_y + 1));
    for (int i = 0; i < 2000; ++i) points.emplace_back(x(rng), y(rng));
    for (auto [lng, lat] : points) {
      if (lng > 180) lng -= 360;
      if (lng < -180) lng += 360;
      bool expected = s2.Contains(S2LatLng::FromDegrees(lat, lng).ToPoint());
      char pair[96], geojson[160];
      std::snprintf(pair, sizeof pair, "[%.17g, %.17g]", lng, lat);
      std::snprintf(geojson, sizeof geojson, R"({"type": "Point", "coordinates": %s})", pair);
      EXPECT_EQ(Matches(*p, pair), expected) << ring << " " << pair;
      EXPECT_EQ(Matches(*p, geojson), expected) << ring << " " << pair;
    }
  }
}

TEST(GeoPredicateTest, ShapesMongoDBRefuses) {
  const std::pair<const char*, const char*> bad[] = {
      {"$geoWithin", R"({"$geometry": {"type": "Point", "coordinates": [0, 0]}})"},
      {"$geoWithin", R"({"$box": [[0, 0]]})"},
      {"$geoWithin", R"({"$polygon": [[0, 0], [1, 1]]})"},
      {"$geoWithin", R"({"$center": [[0, 0], -1]})"},
      {"$geoWithin", R"({"$centerSphere": [[200, 0], 1]})"},
      {"$geoWithin", R"({"$nope": 1})"},
      {"$geoWithin", "5"},
      {"$geoIntersects", R"({"$box": [[0, 0], [1, 1]]})"},
      {"$geoIntersects", R"({"$geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}})"},
  };
  for (const auto& [op, shape] : bad) {
    Json j(shape);
    EXPECT_EQ(MongoCodeOf(GeoPredicate::Parse(op, j.value()).status()), kBadValue) << op << " " << shape;
  }
}

TEST(NearQueryTest, DistancesInMetersRadiansAndPlaneUnits) {
  Json geojson(R"({"$geometry": {"type": "Point", "coordinates": [0, 0]}, "$maxDistance": 10})");
  auto q = NearQuery::Parse("$near", geojson.value(), geojson.value().Doc());
  ASSERT_TRUE(q.ok());
  Json one_degree(R"({"type": "Point", "coordinates": [1, 0]})");
  // One degree of the equator on MongoDB's earth (radius 6378.1 km).
  EXPECT_NEAR(*q->Distance(one_degree.value()), 6378100 * M_PI / 180, 1e-6);
  EXPECT_EQ(q->max_distance, 10);
  Json legacy("[3, 4]");
  Json ops(R"({"$near": [0, 0], "$maxDistance": 2})");
  auto flat = NearQuery::Parse("$near", bson::DocView(ops.value().Doc()).begin()->value, ops.value().Doc());
  ASSERT_TRUE(flat.ok());
  EXPECT_FALSE(flat->spherical);
  EXPECT_DOUBLE_EQ(*flat->Distance(legacy.value()), 5);
  auto sphere = NearQuery::Parse("$nearSphere", bson::DocView(ops.value().Doc()).begin()->value, ops.value().Doc());
  ASSERT_TRUE(sphere.ok());
  EXPECT_NEAR(*sphere->Distance(one_degree.value()), M_PI / 180, 1e-12);  // radians
  Json polygon(R"({"type": "Polygon", "coordinates": [[[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]]]})");
  EXPECT_EQ(*q->Distance(polygon.value()), 0);  // inside
  Json negative(R"({"$geometry": {"type": "Point", "coordinates": [0, 0]}, "$minDistance": -1})");
  EXPECT_FALSE(NearQuery::Parse("$near", negative.value(), negative.value().Doc()).ok());
  Json line(R"({"$geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}})");
  EXPECT_FALSE(NearQuery::Parse("$near", line.value(), line.value().Doc()).ok());
  // A stored point's distance is the same read as a value or as a Geometry.
  for (const char* value : {R"({"type": "Point", "coordinates": [2.25, 48.5]})", "[-73.75, 40.5]",
                            R"({"coordinates": [179.5, -89], "type": "Point"})", "[0, 0]", "[180, 90]"}) {
    Json v(value);
    auto g = Geometry::FromValue(v.value());
    ASSERT_TRUE(g.ok() && g->has_value()) << value;
    for (const NearQuery* near : {&*q, &*sphere, &*flat}) {
      EXPECT_EQ(near->Distance(v.value()), near->Distance(**g)) << value;
    }
  }
}

TEST(CellsTest, EveryGeometryMeetingARegionHasAKeyInItsRanges) {
  auto in_ranges = [](const KeyRanges64& ranges, int64_t key) {
    for (const auto& [lo, hi] : ranges) {
      if (key >= lo && key <= hi) return true;
    }
    return false;
  };
  auto region = Predicate("$geoIntersects", R"({"$geometry": {"type": "Polygon", "coordinates":
      [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}})");
  KeyRanges64 ranges = PredicateRanges(*region);
  ASSERT_FALSE(ranges.empty());
  for (const char* json : {R"({"type": "Point", "coordinates": [5, 5]})",
                           R"({"type": "LineString", "coordinates": [[-20, 5], [20, 5]]})",
                           R"({"type": "Polygon", "coordinates": [[[-50, -50], [50, -50], [50, 50], [-50, 50], [-50, -50]]]})",
                           R"({"type": "Polygon", "coordinates": [[[9, 9], [11, 9], [11, 11], [9, 9]]]})"}) {
    Json j(json);
    auto g = Geometry::FromValue(j.value());
    ASSERT_TRUE(g.ok() && g->has_value());
    bool any = false;
    for (int64_t k : CellKeys(**g)) any = any || in_ranges(ranges, k);
    EXPECT_TRUE(any) << json;
  }
  Json far(R"({"type": "Point", "coordinates": [100, 50]})");
  for (int64_t k : CellKeys(**Geometry::FromValue(far.value()))) EXPECT_FALSE(in_ranges(ranges, k));
}

TEST(CellsTest, ACapLessAHoleKeepsEveryKeyOutsideTheHole) {
  auto in_ranges = [](const KeyRanges64& ranges, int64_t key) {
    for (const auto& [lo, hi] : ranges) {
      if (key >= lo && key <= hi) return true;
    }
    return false;
  };
  auto unit = [](double lng, double lat) {
    double lo = lng * M_PI / 180, la = lat * M_PI / 180;
    return Point3{std::cos(la) * std::cos(lo), std::cos(la) * std::sin(lo), std::sin(la)};
  };
  auto key = [](double lng, double lat) {
    Json j(R"({"type": "Point", "coordinates": [)" + std::to_string(lng) + ", " + std::to_string(lat) + "]}");
    return CellKeys(**Geometry::FromValue(j.value()))[0];
  };
  // Caps of 0.02 and 0.05 radians (about 127 and 319 km) around (10, 50), at the equator
  // and at a pole; points on a polar grid around each center.
  for (auto [lng, lat] : {std::pair{10.0, 50.0}, std::pair{0.0, 0.0}, std::pair{0.0, 90.0}}) {
    Point3 c = unit(lng, lat);
    KeyRanges64 ring = CapRanges(c, 0.05, /*ancestors=*/false, /*hole=*/0.02);
    KeyRanges64 whole = CapRanges(c, 0.05, /*ancestors=*/false);
    int left_out = 0, kept = 0;
    for (double r = 0; r <= 0.055; r += 0.0025) {
      for (double bearing = 0; bearing < 2 * M_PI; bearing += M_PI / 12) {
        // The point r radians from the center along the bearing (spherical trigonometry).
        double la1 = lat * M_PI / 180, lo1 = lng * M_PI / 180;
        double la2 = std::asin(std::sin(la1) * std::cos(r) + std::cos(la1) * std::sin(r) * std::cos(bearing));
        double lo2 = lo1 + std::atan2(std::sin(bearing) * std::sin(r) * std::cos(la1),
                                      std::cos(r) - std::sin(la1) * std::sin(la2));
        double plng = std::remainder(lo2 * 180 / M_PI, 360.0), plat = la2 * 180 / M_PI;
        int64_t k = key(plng, plat);
        bool inside_ring = r > 0.02 + 1e-6 && r < 0.05 - 1e-6;
        if (inside_ring) {
          EXPECT_TRUE(in_ranges(ring, k)) << lng << "," << lat << " r " << r << " bearing " << bearing;
        }
        if (r < 0.015 && in_ranges(whole, k)) {
          ++(in_ranges(ring, k) ? kept : left_out);
        }
        // The hole only takes keys away.
        if (in_ranges(ring, k)) {
          EXPECT_TRUE(in_ranges(whole, k));
        }
      }
    }
    // Most keys well inside the hole are left out: the ring does not read them again.
    EXPECT_GT(left_out, 3 * kept) << lng << "," << lat;
  }
}

TEST(ConvexLoopTest, AnswersAsThePolygonDoes) {
  std::mt19937 rng(11);
  for (const Ring& c : kRings) {
    Json j(std::string(R"({"type": "Polygon", "coordinates": )") + c.coordinates + "}");
    auto g = Geometry::FromGeoJson(j.value().Doc(), false);
    ASSERT_TRUE(g.ok()) << c.coordinates;
    const S2Polygon& polygon = *g->polygons()[0];
    auto convex = ConvexLoop::Of(polygon);
    ASSERT_EQ(convex.has_value(), c.convex) << c.coordinates;
    if (!convex) continue;
    // Cells from the polygon's neighbourhood at every level the coverer visits, and points
    // in them: their vertices (on cell edges that may touch the ring) and random ones.
    S2LatLngRect bound = polygon.GetRectBound().Expanded(S2LatLng::FromDegrees(1, 1));
    std::uniform_real_distribution<double> lat(bound.lat_lo().degrees(), bound.lat_hi().degrees());
    std::uniform_real_distribution<double> lng(0, 1);
    for (int i = 0; i < 3000; ++i) {
      double x = bound.lng_lo().degrees() + lng(rng) * (bound.lng().GetLength() * 180 / M_PI);
      S2Point p = S2LatLng::FromDegrees(lat(rng), x).Normalized().ToPoint();
      EXPECT_EQ(convex->Contains(p), polygon.Contains(p)) << c.coordinates;
      S2Cell cell(S2CellId(p).parent(2 + i % 19));
      if (polygon.MayIntersect(cell)) {
        EXPECT_TRUE(convex->MayIntersect(cell)) << c.coordinates << " " << cell.id();
      }
      if (convex->Contains(cell)) {
        EXPECT_TRUE(polygon.Contains(cell)) << c.coordinates << " " << cell.id();
      }
      for (int k = 0; k < 4; ++k) EXPECT_EQ(convex->Contains(cell.GetVertex(k)), polygon.Contains(cell.GetVertex(k)));
    }
    // The ring's own vertices: on the boundary, S2's rules.
    for (int k = 0; k < polygon.loop(0)->num_vertices(); ++k) {
      const S2Point& v = polygon.loop(0)->vertex(k);
      EXPECT_EQ(convex->Contains(v), polygon.Contains(v)) << c.coordinates;
    }
    // Its covering holds every point the polygon does.
    auto p = Predicate("$geoWithin", std::string(R"({"$geometry": {"type": "Polygon", "coordinates": )") + c.coordinates + "}}");
    KeyRanges64 ranges = PredicateRanges(*p, /*ancestors=*/false);
    for (int i = 0; i < 3000; ++i) {
      double x = bound.lng_lo().degrees() + lng(rng) * (bound.lng().GetLength() * 180 / M_PI);
      S2Point pt = S2LatLng::FromDegrees(lat(rng), x).Normalized().ToPoint();
      if (!polygon.Contains(pt)) continue;
      int64_t key = static_cast<int64_t>(S2CellId(pt).id() ^ (uint64_t{1} << 63));
      bool in = false;
      for (const auto& [lo, hi] : ranges) in = in || (key >= lo && key <= hi);
      EXPECT_TRUE(in) << c.coordinates;
    }
  }
}

TEST(GridTest, BoxRangesHoldTheKeysOfThePointsInTheBox) {
  Grid2d grid;
  EXPECT_EQ(MongoCodeOf(grid.Key(180, 0).status()), 13027);  // [min, max)
  EXPECT_EQ(MongoCodeOf(grid.Key(0, -181).status()), 13027);
  auto in = [](const KeyRanges64& ranges, int64_t key) {
    for (const auto& [lo, hi] : ranges) {
      if (key >= lo && key <= hi) return true;
    }
    return false;
  };
  KeyRanges64 ranges = grid.BoxRanges(-10.5, 20, 3.25, 21);
  for (double x = -10.5; x <= 3.25; x += 0.25) {
    for (double y = 20; y <= 21; y += 0.125) EXPECT_TRUE(in(ranges, *grid.Key(x, y))) << x << ", " << y;
  }
  EXPECT_FALSE(in(ranges, *grid.Key(100, -50)));
  // Whole-plane boxes and 32-bit grids keep their order.
  Grid2d fine{0, 1, 32};
  EXPECT_LT(*fine.Key(0.1, 0.1), *fine.Key(0.9, 0.9));
  KeyRanges64 all = fine.BoxRanges(-5, -5, 5, 5);
  EXPECT_TRUE(in(all, *fine.Key(0, 0)));
  EXPECT_TRUE(in(all, *fine.Key(0.999, 0.999)));
}

}  // namespace
}  // namespace micromongo::geo
