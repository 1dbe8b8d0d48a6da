// Geospatial queries end to end: the manual's examples, GeoJSON and legacy shapes, and
// the same answers with a 2dsphere index as without one.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Array;
using mm::Document;
using mm::Value;

namespace {

constexpr char kGeoDb[] = "geo";
using GeoTest = micromongo::testing::WorkerTest<kGeoDb>;
using micromongo::testing::ErrorCodeOf;
using micromongo::testing::Ids;
using micromongo::testing::IdsInOrder;

Document Point(double lng, double lat) { return Document{{"type", "Point"}, {"coordinates", Array{lng, lat}}}; }

Array Ring(std::initializer_list<std::pair<double, double>> pts) {
  Array ring;
  for (auto [x, y] : pts) ring.push_back(Array{x, y});
  return ring;
}

Document Polygon(std::vector<Array> rings) {
  Array coords;
  for (Array& r : rings) coords.push_back(std::move(r));
  return Document{{"type", "Polygon"}, {"coordinates", coords}};
}

Document At(const char* op, Document shape) { return Document{{"loc", Document{{op, std::move(shape)}}}}; }

// Shapes in and around the square [0, 10] x [0, 10], legacy pairs among them.
void LoadShapes(mm::Collection& coll) {
  coll.InsertMany({
      Document{{"_id", 1}, {"loc", Point(5, 5)}},
      Document{{"_id", 2}, {"loc", Point(15, 5)}},
      Document{{"_id", 3}, {"loc", Array{2, 2}}},                                // legacy pair
      Document{{"_id", 4}, {"loc", Document{{"lng", 20}, {"lat", 20}}}},         // legacy document
      Document{{"_id", 5}, {"loc", Document{{"type", "LineString"}, {"coordinates", Array{Array{1, 1}, Array{3, 3}}}}}},
      Document{{"_id", 6}, {"loc", Document{{"type", "LineString"}, {"coordinates", Array{Array{5, 5}, Array{15, 5}}}}}},
      Document{{"_id", 7}, {"loc", Polygon({Ring({{1, 1}, {2, 1}, {2, 2}, {1, 2}, {1, 1}})})}},
      Document{{"_id", 8}, {"loc", Polygon({Ring({{8, 8}, {12, 8}, {12, 12}, {8, 12}, {8, 8}})})}},
      Document{{"_id", 9}, {"loc", Document{{"type", "MultiPoint"}, {"coordinates", Array{Array{1, 9}, Array{9, 1}}}}}},
      Document{{"_id", 10}, {"loc", Document{{"type", "GeometryCollection"},
                                             {"geometries", Array{Point(3, 3), Point(30, 30)}}}}},
      Document{{"_id", 11}, {"loc", Point(-170, -80)}},
      Document{{"_id", 12}, {"other", 1}},  // no location
      // Several geometries: a query matches when one of them does, as with any array.
      Document{{"_id", 13}, {"loc", Array{Point(50, 50), Point(4.5, 7)}}},
  });
}

struct GeoCase {
  const char* name;
  Document filter;
  std::set<int> ids;
};

std::vector<GeoCase> SphereCases() {
  Document square = Polygon({Ring({{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}})});
  Document holed = Polygon({Ring({{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}), Ring({{4, 4}, {6, 4}, {6, 6}, {4, 6}, {4, 4}})});
  Document multi{{"type", "MultiPolygon"},
                 // Value(...) inside: Array{an Array} alone would copy it (clang) rather than
                 // nest it.
                 {"coordinates", Array{Array{mm::Value(Ring({{0, 0}, {3, 0}, {3, 3}, {0, 3}, {0, 0}}))},
                                       Array{mm::Value(Ring({{14, 4}, {16, 4}, {16, 6}, {14, 6}, {14, 4}}))}}}};
  return {
      {"within a square", At("$geoWithin", Document{{"$geometry", square}}), {1, 3, 5, 7, 9, 13}},
      {"within a square with a hole", At("$geoWithin", Document{{"$geometry", holed}}), {3, 5, 7, 9, 13}},
      {"within a multipolygon", At("$geoWithin", Document{{"$geometry", multi}}), {2, 3, 5, 7}},
      {"intersecting a square", At("$geoIntersects", Document{{"$geometry", square}}), {1, 3, 5, 6, 7, 8, 9, 10, 13}},
      // Edges are great-circle arcs: a meridian crosses the line of doc 6 and the square of doc 8.
      {"intersecting a line", At("$geoIntersects", Document{{"$geometry", Document{{"type", "LineString"},
                                 {"coordinates", Array{Array{10, -1}, Array{10, 11}}}}}}), {6, 8}},
      {"intersecting a point", At("$geoIntersects", Document{{"$geometry", Point(1.5, 1.5)}}), {7}},
      {"within a small cap", At("$geoWithin", Document{{"$centerSphere", Array{Array{5, 5}, 0.06}}}), {1, 13}},
      {"within a cap", At("$geoWithin", Document{{"$centerSphere", Array{Array{5, 5}, 0.12}}}), {1, 3, 5, 7, 9, 13}},
      {"within a cap at the pole", At("$geoWithin", Document{{"$centerSphere", Array{Array{0, -90}, 0.2}}}), {11}},
      {"nothing there", At("$geoWithin", Document{{"$geometry", Polygon({Ring({{100, 0}, {101, 0}, {101, 1}, {100, 0}})})}}), {}},
  };
}

TEST_F(GeoTest, SphericalQueriesGiveTheSameAnswerWithAndWithoutAnIndex) {
  LoadShapes(*coll_);
  for (const GeoCase& c : SphereCases()) EXPECT_EQ(Ids(coll_->Find(c.filter)), c.ids) << "no index: " << c.name;
  coll_->CreateIndex(Document{{"loc", "2dsphere"}});
  for (const GeoCase& c : SphereCases()) {
    EXPECT_EQ(Ids(coll_->Find(c.filter)), c.ids) << "2dsphere: " << c.name;
    Document plan = coll_->Explain(mm::ExplainVerbosity::kQueryPlanner).Find(c.filter);
    EXPECT_NE(plan.ToJson().find("IXSCAN"), std::string::npos) << c.name;
  }
  // Writes keep the index current.
  coll_->UpdateOne(Document{{"_id", 2}}, Document{{"$set", Document{{"loc", Point(6, 6)}}}});
  coll_->DeleteOne(Document{{"_id", 1}});
  Document square = Polygon({Ring({{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}})});
  EXPECT_EQ(Ids(coll_->Find(At("$geoWithin", Document{{"$geometry", square}}))), (std::set<int>{2, 3, 5, 7, 9, 13}));
}

TEST_F(GeoTest, FlatLegacyShapes) {
  // The manual's legacy shapes: $box, $polygon and $center hold points as plane coordinates.
  coll_->InsertMany({Document{{"_id", 1}, {"loc", Array{0, 0}}}, Document{{"_id", 2}, {"loc", Array{50, 50}}},
                     Document{{"_id", 3}, {"loc", Array{100, 100}}}, Document{{"_id", 4}, {"loc", Array{101, 50}}},
                     Document{{"_id", 5}, {"loc", Point(3, 3)}}, Document{{"_id", 6}, {"loc", Array{300, 300}}},
                     Document{{"_id", 7}, {"loc", Polygon({Ring({{1, 1}, {2, 1}, {2, 2}, {1, 1}})})}}});
  const GeoCase cases[] = {
      {"box", At("$geoWithin", Document{{"$box", Array{Array{0, 0}, Array{100, 100}}}}), {1, 2, 3, 5}},
      {"box given the other way", At("$geoWithin", Document{{"$box", Array{Array{100, 100}, Array{0, 0}}}}), {1, 2, 3, 5}},
      {"polygon", At("$geoWithin", Document{{"$polygon", Array{Array{0, 0}, Array{3, 6}, Array{6, 0}}}}), {1, 5}},
      {"center", At("$geoWithin", Document{{"$center", Array{Array{0, 0}, 71}}}), {1, 2, 5}},
      {"old $within", At("$within", Document{{"$box", Array{Array{250, 250}, Array{350, 350}}}}), {6}},
  };
  for (const GeoCase& c : cases) EXPECT_EQ(Ids(coll_->Find(c.filter)), c.ids) << c.name;
}

TEST_F(GeoTest, TwoDIndexesOnLegacyPoints) {
  std::vector<Document> docs;
  int id = 0;
  for (int x = -5; x <= 5; ++x) {
    for (int y = -5; y <= 5; ++y) docs.push_back(Document{{"_id", ++id}, {"loc", Array{x * 10.0, y * 10.0}}});
  }
  docs.push_back(Document{{"_id", ++id}, {"loc", Array{Array{1, 1}, Array{170, 80}}}});  // two points
  docs.push_back(Document{{"_id", ++id}, {"other", 1}});
  coll_->InsertMany(docs);
  const Document flat_queries[] = {
      At("$geoWithin", Document{{"$box", Array{Array{-12, -12}, Array{21, 9}}}}),
      At("$geoWithin", Document{{"$polygon", Array{Array{0, 0}, Array{30, 0}, Array{0, 30}}}}),
      At("$geoWithin", Document{{"$center", Array{Array{0, 0}, 12}}}),
      At("$geoWithin", Document{{"$centerSphere", Array{Array{0, 0}, 0.2}}}),
      At("$geoWithin", Document{{"$box", Array{Array{160, 70}, Array{180, 90}}}}),
  };
  std::vector<std::set<int>> before;
  for (const Document& q : flat_queries) before.push_back(Ids(coll_->Find(q)));
  EXPECT_EQ(before[2].size(), 5u + 1);  // (0,0), its four neighbours 10 away, and doc 122's (1, 1)
  coll_->CreateIndex(Document{{"loc", "2d"}});
  for (size_t i = 0; i < std::size(flat_queries); ++i) {
    EXPECT_EQ(Ids(coll_->Find(flat_queries[i])), before[i]) << flat_queries[i].ToJson();
    Document plan = coll_->Explain(mm::ExplainVerbosity::kQueryPlanner).Find(flat_queries[i]);
    EXPECT_NE(plan.ToJson().find("IXSCAN"), std::string::npos) << flat_queries[i].ToJson();
  }
  // $near on the plane: nearest first, $maxDistance in coordinate units.
  mm::FindOptions three;
  three.limit = 3;
  auto near = IdsInOrder(coll_->Find(Document{{"loc", Document{{"$near", Array{1, 1}}}}}, three));
  ASSERT_EQ(near.size(), 3u);
  EXPECT_EQ(near[0], id - 1);  // (1, 1) itself
  EXPECT_EQ(near[1], 61);      // (0, 0)
  EXPECT_EQ(Ids(coll_->Find(Document{{"loc", Document{{"$near", Array{0, 0}}, {"$maxDistance", 10}}}})).size(), 6u);
  Document explain = coll_->Explain(mm::ExplainVerbosity::kQueryPlanner)
                         .Find(Document{{"loc", Document{{"$near", Array{0, 0}}}}});
  EXPECT_NE(explain.ToJson().find("GEO_NEAR_2D\""), std::string::npos);
  // $geoNear on the plane.
  auto out = coll_->Aggregate({Document{{"$geoNear", Document{{"near", Array{0, 0}}, {"distanceField", "d"},
                                                              {"maxDistance", 10.5}}}}})
                 .ToVector();
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].GetDouble("d"), 0);
  EXPECT_NEAR(out[5].GetDouble("d"), 10, 1e-9);
  // What a 2d index refuses.
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(Document{{"loc", Point(1, 1)}}); }), 16804);
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(Document{{"loc", Array{200, 0}}}); }), 13027);
  EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(Document{{"loc", "here"}}); }), 16804);
  auto other = client_->Db()["grid_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())];
  EXPECT_EQ(ErrorCodeOf([&] { other.CreateIndex(Document{{"a", 1}, {"loc", "2d"}}); }), 16800);
  // A custom grid: points in [0, 1000).
  mm::IndexOptions grid;
  grid.name = "custom";
  auto custom = client_->Db()["custom_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())];
  custom.InsertMany({Document{{"_id", 1}, {"p", Array{500, 500}}}, Document{{"_id", 2}, {"p", Array{900, 10}}}});
  EXPECT_EQ(ErrorCodeOf([&] { custom.CreateIndex(Document{{"p", "2d"}}); }), 13027);  // 500 is past 180
  grid.min = 0;
  grid.max = 1000;
  grid.bits = 20;
  custom.CreateIndex(Document{{"p", "2d"}}, grid);
  EXPECT_EQ(IdsInOrder(custom.Find(Document{{"p", Document{{"$near", Array{880, 0}}}}})), (std::vector<int>{2, 1}));
  mm::IndexOptions bad_bits;
  bad_bits.bits = 40;
  EXPECT_EQ(ErrorCodeOf([&] { other.CreateIndex(Document{{"loc", "2d"}}, bad_bits); }), 13028);
  mm::IndexOptions bad_range;
  bad_range.min = 5;
  bad_range.max = 5;
  EXPECT_EQ(ErrorCodeOf([&] { other.CreateIndex(Document{{"loc", "2d"}}, bad_range); }), 13067);
  EXPECT_EQ(Ids(custom.Find(Document{{"p", Document{{"$geoWithin", Document{{"$box", Array{Array{0, 0}, Array{600, 600}}}}}}}})),
            (std::set<int>{1}));
}

TEST_F(GeoTest, BigPolygonsFollowTheirWinding) {
  coll_->InsertMany({Document{{"_id", 1}, {"loc", Point(0, 0)}}, Document{{"_id", 2}, {"loc", Point(0, -80)}},
                     Document{{"_id", 3}, {"loc", Point(0, 80)}}});
  // A ring at latitude 10, clockwise seen from the north: without a CRS the smaller side
  // (the north cap); with MongoDB's strict-winding CRS the side on its left (the south).
  Document ring = Polygon({Ring({{0, 10}, {-120, 10}, {120, 10}, {0, 10}})});
  EXPECT_EQ(Ids(coll_->Find(At("$geoIntersects", Document{{"$geometry", ring}}))), (std::set<int>{3}));
  Document big = ring;
  big.Append("crs", Document{{"type", "name"},
                             {"properties", Document{{"name", "urn:x-mongodb:crs:strictwinding:EPSG:4326"}}}});
  EXPECT_EQ(Ids(coll_->Find(At("$geoIntersects", Document{{"$geometry", big}}))), (std::set<int>{1, 2}));
  EXPECT_EQ(Ids(coll_->Find(At("$geoWithin", Document{{"$geometry", big}}))), (std::set<int>{1, 2}));
}

TEST_F(GeoTest, NearInDistanceOrder) {
  // The manual's $near example.
  coll_->InsertMany({Document{{"_id", 1}, {"name", "Central Park"}, {"loc", Point(-73.97, 40.77)}, {"category", "Parks"}},
                     Document{{"_id", 2}, {"name", "Sara D. Roosevelt Park"}, {"loc", Point(-73.9928, 40.7193)},
                              {"category", "Parks"}},
                     Document{{"_id", 3}, {"name", "Polo Grounds"}, {"loc", Point(-73.9375, 40.8303)},
                              {"category", "Stadiums"}}});
  Document near{{"$geometry", Point(-73.9667, 40.78)}, {"$minDistance", 1000}, {"$maxDistance", 5000}};
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(At("$near", near)).ToVector(); }), 291);  // needs a geo index
  coll_->CreateIndex(Document{{"loc", "2dsphere"}});
  EXPECT_EQ(IdsInOrder(coll_->Find(At("$near", near))), (std::vector<int>{1}));
  EXPECT_EQ(IdsInOrder(coll_->Find(At("$near", Document{{"$geometry", Point(-73.9667, 40.78)}}))),
            (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(IdsInOrder(coll_->Find(At("$nearSphere", Document{{"$geometry", Point(-73.99, 40.72)}}))),
            (std::vector<int>{2, 1, 3}));
  // Legacy $nearSphere: radians.
  EXPECT_EQ(IdsInOrder(coll_->Find(Document{{"loc", Document{{"$nearSphere", Array{-73.9667, 40.78}},
                                                             {"$maxDistance", 0.0002}}}})),
            (std::vector<int>{1}));
  // With other predicates and a limit.
  mm::FindOptions one;
  one.limit = 1;
  EXPECT_EQ(IdsInOrder(coll_->Find(Document{{"loc", Document{{"$near", Document{{"$geometry", Point(-73.93, 40.83)}}}}},
                                            {"category", "Parks"}},
                                   one)),
            (std::vector<int>{1}));
  EXPECT_EQ(ErrorCodeOf([&] {
              coll_->Find(Document{{"$or", Array{At("$near", Document{{"$geometry", Point(0, 0)}}), Document{{"a", 1}}}}})
                  .ToVector();
            }),
            2);
}

// Many points around a center: $near returns each one inside its bounds exactly once,
// nearest first, as distances computed here on MongoDB's sphere order them. The search
// goes out in rings; a ring must find what the cells of earlier rings held and left for it.
TEST_F(GeoTest, NearOverManyPointsReturnsEachOnceNearestFirst) {
  const double kRadius = 6378100, kDeg = M_PI / 180;
  auto meters = [&](double lng1, double lat1, double lng2, double lat2) {
    double h = std::pow(std::sin((lat2 - lat1) * kDeg / 2), 2) +
               std::cos(lat1 * kDeg) * std::cos(lat2 * kDeg) * std::pow(std::sin((lng2 - lng1) * kDeg / 2), 2);
    return 2 * kRadius * std::asin(std::sqrt(h));
  };
  std::vector<std::pair<double, double>> at;
  uint64_t x = 88172645463325252ull;  // xorshift: the same points every run
  auto next = [&] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return static_cast<double>(x % 1000000) / 1000000;
  };
  std::vector<Document> docs;
  for (int i = 0; i < 3000; ++i) {
    at.emplace_back(8 + 4 * next(), 48 + 4 * next());
    docs.push_back(Document{{"_id", i}, {"loc", Point(at.back().first, at.back().second)}});
  }
  coll_->InsertMany(docs);
  coll_->CreateIndex(Document{{"loc", "2dsphere"}});
  for (auto [min, max] : {std::pair{0.0, -1.0}, std::pair{20000.0, 150000.0}, std::pair{100000.0, 110000.0}}) {
    Document near{{"$geometry", Point(10, 50)}};
    if (min > 0) near.Append("$minDistance", min);
    if (max > 0) near.Append("$maxDistance", max);
    std::vector<int> got = IdsInOrder(coll_->Find(At("$near", near)));
    std::set<int> seen(got.begin(), got.end());
    EXPECT_EQ(seen.size(), got.size()) << "a document came twice";
    double last = 0;
    for (int id : got) {
      double d = meters(10, 50, at[id].first, at[id].second);
      EXPECT_GE(d, last - 1e-3) << id;
      EXPECT_GE(d, min - 1e-3) << id;
      if (max > 0) {
        EXPECT_LE(d, max + 1e-3) << id;
      }
      last = d;
    }
    // Every point clearly inside the bounds is there (those within a millimeter of one may
    // go either way).
    size_t expected = 0;
    for (size_t i = 0; i < at.size(); ++i) {
      double d = meters(10, 50, at[i].first, at[i].second);
      if (d > min + 1e-3 && (max < 0 || d < max - 1e-3)) {
        ++expected;
        EXPECT_TRUE(seen.contains(static_cast<int>(i))) << i << " at " << d << " m";
      }
    }
    EXPECT_GE(got.size(), expected);
    EXPECT_GT(expected, 100u);
  }
  // With a limit, the records fetched are about those returned: each is read only when
  // its index key says it may be the next nearest.
  for (int limit : {1, 10, 50}) {
    Document stats = coll_->Explain(mm::ExplainVerbosity::kExecutionStats)
                         .Find(At("$near", Document{{"$geometry", Point(10, 50)}}), {.limit = limit})
                         .GetDocument("executionStats");
    EXPECT_EQ(stats.GetInt64("nReturned"), limit);
    EXPECT_LE(stats.GetInt64("totalDocsExamined"), limit + 2) << limit;
  }
}

TEST_F(GeoTest, GeoNearStage) {
  coll_->InsertMany({Document{{"_id", 1}, {"name", "Central Park"}, {"loc", Point(-73.97, 40.77)}, {"category", "Parks"}},
                     Document{{"_id", 2}, {"name", "Sara D. Roosevelt Park"}, {"loc", Point(-73.9928, 40.7193)},
                              {"category", "Parks"}},
                     Document{{"_id", 3}, {"name", "Polo Grounds"}, {"loc", Point(-73.9375, 40.8303)},
                              {"category", "Stadiums"}}});
  coll_->CreateIndex(Document{{"loc", "2dsphere"}});
  // The manual's $geoNear example.
  auto out = coll_->Aggregate({Document{{"$geoNear", Document{{"near", Point(-73.99279, 40.719296)},
                                                              {"distanceField", "dist.calculated"},
                                                              {"maxDistance", 2},
                                                              {"query", Document{{"category", "Parks"}}},
                                                              {"includeLocs", "dist.location"},
                                                              {"spherical", true}}}}})
                 .ToVector();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].GetString("name"), "Sara D. Roosevelt Park");
  EXPECT_LT(out[0].GetDocument("dist").GetDouble("calculated"), 2.0);
  EXPECT_EQ(out[0].GetDocument("dist").GetDocument("location").ToJson(), Point(-73.9928, 40.7193).ToJson());
  // All of them, nearest first, distances in meters (times a multiplier).
  auto all = coll_->Aggregate({Document{{"$geoNear", Document{{"near", Point(-73.9667, 40.78)},
                                                              {"distanceField", "d"},
                                                              {"distanceMultiplier", 0.001}}}},
                               Document{{"$project", Document{{"d", 1}}}}})
                 .ToVector();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].Get("_id").AsInt32(), 1);
  EXPECT_NEAR(all[0].GetDouble("d"), 1.15, 0.05);  // km
  EXPECT_LT(all[0].GetDouble("d"), all[1].GetDouble("d"));
  EXPECT_EQ(ErrorCodeOf([&] {
              coll_->Aggregate({Document{{"$match", At("$near", Document{{"$geometry", Point(0, 0)}})}}}).ToVector();
            }),
            5626500);
  EXPECT_EQ(ErrorCodeOf([&] {
              coll_->Aggregate({Document{{"$match", Document{}}},
                                Document{{"$geoNear", Document{{"near", Point(0, 0)}, {"distanceField", "d"}}}}})
                  .ToVector();
            }),
            40603);
}

TEST_F(GeoTest, InvalidGeometriesAreRefusedByTheIndex) {
  coll_->CreateIndex(Document{{"loc", "2dsphere"}});
  const Document bad[] = {
      Document{{"loc", Point(200, 0)}},
      Document{{"loc", "somewhere"}},
      Document{{"loc", Document{{"type", "Polygon"}, {"coordinates", Array{Ring({{0, 0}, {1, 1}, {0, 0}})}}}}},
      Document{{"loc", Polygon({Ring({{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}})})}},  // self-intersecting
      Document{{"loc", Document{{"type", "Blob"}, {"coordinates", Array{1, 2}}}}},
      Document{{"loc", Array{500, 500}}},
  };
  for (const Document& d : bad) EXPECT_EQ(ErrorCodeOf([&] { coll_->InsertOne(d); }), 16755) << d.ToJson();
  EXPECT_EQ(coll_->CountDocuments(), 0);
  coll_->InsertOne(Document{{"_id", 1}, {"loc", nullptr}});  // null and missing are not indexed
  coll_->InsertOne(Document{{"_id", 2}});
  EXPECT_EQ(coll_->CountDocuments(), 2);
  // A query's own shape errors.
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(At("$geoWithin", Document{{"$geometry", Point(0, 0)}})).ToVector(); }), 2);
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(At("$geoWithin", Document{{"$bogus", 1}})).ToVector(); }), 2);
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(At("$geoIntersects", Document{{"$box", Array{}}})).ToVector(); }), 2);
}

}  // namespace
