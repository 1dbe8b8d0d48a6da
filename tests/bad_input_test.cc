// Every kind of bad input gets MongoDB's error code, the worker keeps running and the
// stored data stays exactly as it was. (Malformed BSON and Extended JSON, which the C++
// API cannot produce, are fed raw over gRPC by tests/grpcurl_test.py.)

#include <gtest/gtest.h>
#include <micromongo/micromongo.h>

#include <functional>

#include "test_util.h"

namespace mm = micromongo;
using mm::Document;

namespace {

struct BadCase {
  const char* name;
  int code;
  std::function<void(mm::Database&)> call;
};

std::string Snapshot(mm::Database& db) {
  std::string all;
  for (const auto& name : db.ListCollectionNames()) {
    all += name + ":";
    for (const Document& d : db[name].Find(Document{}, {.sort = Document{{"_id", 1}}})) {
      all += d.ToJson();
    }
  }
  return all;
}

TEST(BadInputTest, ClearErrorsNoCrashNoChange) {
  mm::testing::TempDir dir;
  auto bridge = mm::WorkerBridge::Create({.data_dir = dir.path()});
  mm::MongoClient client("mongodb://localhost/app", {.worker_bridge = bridge});
  mm::Database db = client.Db();
  db["c"].InsertMany({Document{{"_id", 1}, {"a", 1}, {"s", "x"}}, Document{{"_id", 2}, {"a", 2}}});
  const std::string before = Snapshot(db);
  std::string big(17 * 1024 * 1024, 'x');

  const BadCase cases[] = {
      {"unknown query operator", 2,
       [](mm::Database& d) { d["c"].Find(Document{{"a", Document{{"$foo", 1}}}}).ToVector(); }},
      {"unknown top-level operator", 2,
       [](mm::Database& d) { d["c"].CountDocuments(Document{{"$bogus", 1}}); }},
      {"$in with a non-array", 2,
       [](mm::Database& d) { d["c"].DeleteMany(Document{{"a", Document{{"$in", 5}}}}); }},
      {"$and with an empty array", 2,
       [](mm::Database& d) { d["c"].DeleteMany(Document{{"$and", mm::Array{}}}); }},
      {"unknown update operator", 9,
       [](mm::Database& d) { d["c"].UpdateMany(Document{}, Document{{"$frob", Document{{"a", 1}}}}); }},
      {"update without operators", 9,
       [](mm::Database& d) { d["c"].UpdateOne(Document{}, Document{{"a", 5}}); }},
      {"$inc with a string", 14,
       [](mm::Database& d) { d["c"].UpdateMany(Document{}, Document{{"$inc", Document{{"a", "1"}}}}); }},
      {"$inc on a string field", 14,
       [](mm::Database& d) { d["c"].UpdateMany(Document{}, Document{{"$inc", Document{{"s", 1}}}}); }},
      {"conflicting update paths", 40,
       [](mm::Database& d) {
         d["c"].UpdateMany(Document{}, Document{{"$set", Document{{"a", 1}}},
                                                {"$inc", Document{{"a", 1}}}});
       }},
      {"path through a scalar", 28,
       [](mm::Database& d) { d["c"].UpdateMany(Document{}, Document{{"$set", Document{{"a.b", 1}}}}); }},
      {"changing _id", 66,
       [](mm::Database& d) { d["c"].UpdateOne(Document{}, Document{{"$set", Document{{"_id", 5}}}}); }},
      {"replacement with operators", 2,
       [](mm::Database& d) { d["c"].ReplaceOne(Document{}, Document{{"$set", Document{{"a", 1}}}}); }},
      {"bad sort direction", 15975,
       [](mm::Database& d) { d["c"].Find(Document{}, {.sort = Document{{"a", 3}}}).ToVector(); }},
      {"mixed projection", 31254,
       [](mm::Database& d) {
         d["c"].Find(Document{}, {.projection = Document{{"a", 1}, {"s", 0}}}).ToVector();
       }},
      {"negative skip", 2,
       [](mm::Database& d) { d["c"].Find(Document{}, {.skip = -1}).ToVector(); }},
      {"empty collection name", 73,
       [](mm::Database& d) { d[""].InsertOne(Document{{"a", 1}}); }},
      {"$ in collection name", 73,
       [](mm::Database& d) { d["a$b"].InsertOne(Document{{"a", 1}}); }},
      {"NUL in collection name", 73,
       [](mm::Database& d) { d[std::string("a\0b", 3)].InsertOne(Document{{"a", 1}}); }},
      {"collection name too long", 73,
       [](mm::Database& d) { d[std::string(300, 'c')].InsertOne(Document{{"a", 1}}); }},
      {"$-prefixed field inside _id", 52,
       [](mm::Database& d) { d["c"].InsertOne(Document{{"_id", Document{{"$bad", 1}}}}); }},
      {"array _id", 2,
       [](mm::Database& d) { d["c"].InsertOne(Document{{"_id", mm::Array{1, 2}}}); }},
      {"regex _id", 2,
       [](mm::Database& d) { d["c"].InsertOne(Document{{"_id", mm::Regex{"a", ""}}}); }},
      {"document over 16 MiB", 10334,
       [&](mm::Database& d) { d["c"].InsertOne(Document{{"big", big}}); }},
      {"update growing a document over 16 MiB", 10334,
       [&](mm::Database& d) {
         d["c"].UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"big", big}}}});
       }},
      {"duplicate _id", 11000,
       [](mm::Database& d) { d["c"].InsertOne(Document{{"_id", 1}}); }},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      c.call(db);
      ADD_FAILURE() << c.name << ": no error";
    } catch (const mm::Error& e) {
      EXPECT_EQ(e.code(), c.code) << c.name << ": " << e.what();
      EXPECT_FALSE(std::string(e.what()).empty());
      // Every code has MongoDB's name: its own, or Location<code> for unnamed ones.
      EXPECT_NE(e.code_name(), "UnknownError") << c.name;
      if (c.code == 31254) {
        EXPECT_EQ(e.code_name(), "Location31254");
      }
      if (c.code == 11000) {
        EXPECT_EQ(e.code_name(), "DuplicateKey");
      }
    }
    ASSERT_TRUE(bridge->IsAlive()) << "worker died on: " << c.name;
  }
  // Invalid database names, through clients of their own.
  for (std::string name :
       {std::string("a.b"), std::string(70, 'd'), std::string("sp ace"), std::string("")}) {
    mm::MongoClient c("mongodb://localhost/x", {.worker_bridge = bridge});
    try {
      c.Db(name)["c"].InsertOne(Document{{"a", 1}});
      ADD_FAILURE() << "database '" << name << "' accepted";
    } catch (const mm::Error& e) {
      EXPECT_EQ(e.code(), 73) << e.what();
    }
  }
  EXPECT_EQ(Snapshot(db), before);
}

}  // namespace
