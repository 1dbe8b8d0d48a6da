#include <gtest/gtest.h>

#include <filesystem>

#include "changes/change_stream.h"
#include "changes/resume_token.h"
#include "changes/update_description.h"
#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "storage/key_codec.h"

namespace micromongo::changes {
namespace {

std::string Bson(std::string_view json) { return *bson::JsonToBson(json); }
std::string Json(std::string_view bson) { return bson::BsonToJson(bson); }

struct DiffCase {
  const char* before;
  const char* after;
  const char* want;
};

// The manual's update event example (updatedFields, removedFields, truncatedArrays) and the
// diff rules of MongoDB's document diffs: subdocuments and arrays compared inside.
TEST(UpdateDescriptionTest, DiffsAsMongoDBDoes) {
  const DiffCase cases[] = {
      {R"({"_id": 1, "email": "a@x", "phoneNumber": "555", "vacation_time": [1, 2, 3]})",
       R"({"_id": 1, "email": "alice@10gen.com", "vacation_time": [1, 2]})",
       R"({"updatedFields": {"email": "alice@10gen.com"}, "removedFields": ["phoneNumber"], )"
       R"("truncatedArrays": [{"field": "vacation_time", "newSize": 2}]})"},
      {R"({"_id": 1, "a": {"b": 1, "c": 2}})", R"({"_id": 1, "a": {"b": 5, "c": 2, "d": null}})",
       R"({"updatedFields": {"a.b": 5, "a.d": null}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "arr": [1, 2]})", R"({"_id": 1, "arr": [1, 2, 3]})",
       R"({"updatedFields": {"arr.2": 3}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "arr": [[1, 2], {"x": 1}]})", R"({"_id": 1, "arr": [[1, 5], {"x": 1, "y": 2}]})",
       R"({"updatedFields": {"arr.0.1": 5, "arr.1.y": 2}, "removedFields": [], "truncatedArrays": []})"},
      // A type change replaces the value; 1 and 1.0 are different BSON.
      {R"({"_id": 1, "a": 1, "b": {"c": 1}})", R"({"_id": 1, "a": 1.5, "b": [1]})",
       R"({"updatedFields": {"a": 1.5, "b": [1]}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "a": {"$numberDecimal": "1.0"}})", R"({"_id": 1, "a": {"$numberDecimal": "1.00"}})",
       R"({"updatedFields": {"a": {"$numberDecimal": "1.00"}}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "a": null, "b": {"c": null}})", R"({"_id": 1, "b": {}})",
       R"({"updatedFields": {}, "removedFields": ["a", "b.c"], "truncatedArrays": []})"},
  };
  for (const DiffCase& c : cases) {
    std::string got = UpdateDescription(bson::DocView(Bson(c.before)), bson::DocView(Bson(c.after)), false);
    EXPECT_EQ(Json(got), Json(Bson(c.want))) << c.before << " -> " << c.after;
  }
}

struct OperatorCase {
  const char* before;
  const char* after;
  std::vector<WholePath> whole;  // the operators' targets, as Update::LoggedPaths gives them
  const char* want;
};

// Operator updates: MongoDB logs each operator's target as a whole ($set of a subdocument,
// $pop, $pull: the new value), appends of $push/$addToSet to a non-empty array element by
// element, $unset and the source of $rename as removed; paths inside other fields are
// compared as for pipelines (a positional operator's element).
TEST(UpdateDescriptionTest, OperatorTargetsAreLoggedAsMongoDBLogsThem) {
  const OperatorCase cases[] = {
      {R"({"_id": 1, "a": {"y": 2}})", R"({"_id": 1, "a": {"x": 1}})", {{"a"}},
       R"({"updatedFields": {"a": {"x": 1}}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "arr": [1, 2]})", R"({"_id": 1, "arr": [1, 2, 3, 4]})", {{"arr", true}},
       R"({"updatedFields": {"arr.2": 3, "arr.3": 4}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "arr": []})", R"({"_id": 1, "arr": [1]})", {{"arr", true}},
       R"({"updatedFields": {"arr": [1]}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "arr": [2, 3]})", R"({"_id": 1, "arr": [1, 2, 3]})", {{"arr", true}},
       R"({"updatedFields": {"arr": [1, 2, 3]}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "arr": [1, 2, 3]})", R"({"_id": 1, "arr": [1, 2]})", {{"arr"}},
       R"({"updatedFields": {"arr": [1, 2]}, "removedFields": [], "truncatedArrays": []})"},
      {R"({"_id": 1, "a": {"b": 1, "c": [1]}})", R"({"_id": 1, "a": {"c": [1]}})", {{"a.b"}},
       R"({"updatedFields": {}, "removedFields": ["a.b"], "truncatedArrays": []})"},
      {R"({"_id": 1, "a": 1})", R"({"_id": 1, "b": 1})", {{"a"}, {"b"}},
       R"({"updatedFields": {"b": 1}, "removedFields": ["a"], "truncatedArrays": []})"},
      {R"({"_id": 1, "a": {"b": {"c": 1}}})", R"({"_id": 1, "a": {"b": {"c": 2, "d": 3}}})", {{"a.b.c"}, {"a.b.d"}},
       R"({"updatedFields": {"a.b.c": 2, "a.b.d": 3}, "removedFields": [], "truncatedArrays": []})"},
      // $set on a positional path: not a listed target, compared inside.
      {R"({"_id": 1, "a": [{"b": 1}, {"b": 2}]})", R"({"_id": 1, "a": [{"b": 1}, {"b": 5}]})", {},
       R"({"updatedFields": {"a.1.b": 5}, "removedFields": [], "truncatedArrays": []})"},
  };
  for (const OperatorCase& c : cases) {
    std::string got =
        UpdateDescription(bson::DocView(Bson(c.before)), bson::DocView(Bson(c.after)), false, c.whole);
    EXPECT_EQ(Json(got), Json(Bson(c.want))) << c.before << " -> " << c.after;
  }
}

// The manual's disambiguatedPaths: numeric field names and array indices, the indices as
// integers.
TEST(UpdateDescriptionTest, DisambiguatesNumericComponents) {
  std::string got = UpdateDescription(bson::DocView(Bson(R"({"_id": 1, "a": {"0": 1}, "arr": [1]})")),
                                       bson::DocView(Bson(R"({"_id": 1, "a": {"0": 2}, "arr": [2]})")), true);
  EXPECT_EQ(Json(got),
            Json(Bson(R"({"updatedFields": {"a.0": 2, "arr.0": 2}, "removedFields": [], "truncatedArrays": [], )"
                      R"("disambiguatedPaths": {"a.0": ["a", "0"], "arr.0": ["arr", 0]}})")));
}

TEST(ResumeTokenTest, RoundTripsAndRejectsOthers) {
  ResumeToken t{(uint64_t{1700000000} << 32) | 7, ResumeToken::Kind::kInvalidate};
  auto back = ResumeToken::Parse(bson::DocView(t.ToBson()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->time, t.time);
  EXPECT_EQ(back->kind, ResumeToken::Kind::kInvalidate);
  // Tokens sort as their events do.
  ResumeToken a{5, ResumeToken::Kind::kEvent}, b{6, ResumeToken::Kind::kEvent};
  EXPECT_LT(Json(a.ToBson()), Json(b.ToBson()));
  for (const char* bad : {R"({})", R"({"_data": 1})", R"({"_data": "xyz"})", R"({"_data": "0000000000000001FF"})"}) {
    EXPECT_EQ(MongoCodeOf(ResumeToken::Parse(bson::DocView(Bson(bad))).status()), kFailedToParse) << bad;
  }
}

class ChangeStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mm-changes-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    auto engine = storage::Engine::Open({.data_dir = dir_.string()});
    ASSERT_TRUE(engine.ok());
    engine_ = *std::move(engine);
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Insert(std::string_view db_name, std::string_view coll, std::string_view json) {
    auto db = engine_->GetDatabase(db_name, true);
    ASSERT_TRUE(db.ok());
    auto c = (*db)->GetOrCreateCollection(coll);
    ASSERT_TRUE(c.ok());
    std::string doc = Bson(json);
    storage::WriteUnit unit(db->get());
    unit.PutRecord(c->get(), storage::RecordKey((*c)->id(), bson::DocView(doc).begin()->value), doc,
                   storage::RecordWrite::kInsert);
    ASSERT_TRUE((*db)->Commit(&unit).ok());
  }
  std::vector<std::string> Read(ChangeStream* s) {
    std::vector<std::string> events;
    EXPECT_TRUE(s->Next(100, std::chrono::milliseconds(0), &events).ok());
    return events;
  }
  std::filesystem::path dir_;
  std::unique_ptr<storage::Engine> engine_;
};

TEST_F(ChangeStreamTest, SeesOnlyWhatCommitsAfterItOpensInItsScope) {
  Insert("a", "c", R"({"_id": 1})");
  auto coll = ChangeStream::Open(engine_.get(), {.db = "a", .coll = "c"});
  auto db = ChangeStream::Open(engine_.get(), {.db = "a"});
  auto all = ChangeStream::Open(engine_.get(), {});
  ASSERT_TRUE(coll.ok() && db.ok() && all.ok());
  Insert("a", "c", R"({"_id": 2})");
  Insert("a", "other", R"({"_id": 3})");
  Insert("b", "c", R"({"_id": 4})");
  EXPECT_EQ(Read(coll->get()).size(), 1u);
  EXPECT_EQ(Read(db->get()).size(), 2u);
  auto events = Read(all->get());
  ASSERT_EQ(events.size(), 3u);
  // Worker-wide order is commit order across databases.
  bson::ValueView key;
  ASSERT_TRUE(bson::DocView(events[2]).Find("documentKey", &key));
  EXPECT_EQ(Json(key.Doc().bytes()), Json(Bson(R"({"_id": 4})")));
}

TEST_F(ChangeStreamTest, ResumesAfterATokenAndRefusesConflictingStarts) {
  auto s = ChangeStream::Open(engine_.get(), {.db = "a", .coll = "c"});
  ASSERT_TRUE(s.ok());
  Insert("a", "c", R"({"_id": 1})");
  Insert("a", "c", R"({"_id": 2})");
  auto first = Read(s->get());
  ASSERT_EQ(first.size(), 2u);
  bson::ValueView id;
  ASSERT_TRUE(bson::DocView(first[0]).Find("_id", &id));
  ChangeStreamSpec after_first;
  after_first.db = "a";
  after_first.coll = "c";
  after_first.resume_after = bson::Decode(id.Doc());
  auto resumed = ChangeStream::Open(engine_.get(), after_first);
  ASSERT_TRUE(resumed.ok());
  auto rest = Read(resumed->get());
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(Json(rest[0]), Json(first[1]));
  ChangeStreamSpec both;
  both.db = "a";
  both.resume_after = bson::Decode(id.Doc());
  both.start_after = bson::Decode(id.Doc());
  EXPECT_EQ(MongoCodeOf(ChangeStream::Open(engine_.get(), both).status()), kResumeOptionsConflict);
  ChangeStreamSpec grouped;
  grouped.db = "a";
  grouped.pipeline = {Document{{"$group", Document{{"_id", 1}}}}};
  EXPECT_EQ(MongoCodeOf(ChangeStream::Open(engine_.get(), grouped).status()), kIllegalOperation);
}

TEST_F(ChangeStreamTest, HistoryTrimmedPastTheStartIsLost) {
  Insert("a", "c", R"({"_id": 1})");
  auto s = ChangeStream::Open(engine_.get(), {.db = "a"});
  ASSERT_TRUE(s.ok());
  std::string token = (*s)->ResumeTokenBson();
  Insert("a", "c", R"({"_id": 2})");
  auto db = engine_->GetDatabase("a", false);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->TrimChanges(engine_->change_clock().Visible() + 1).ok());
  ChangeStreamSpec from_token;
  from_token.db = "a";
  from_token.resume_after = bson::Decode(bson::DocView(token));
  auto late = ChangeStream::Open(engine_.get(), from_token);
  EXPECT_EQ(MongoCodeOf(late.status()), kChangeStreamHistoryLost);
  std::vector<std::string> events;
  EXPECT_EQ(MongoCodeOf((*s)->Next(10, std::chrono::milliseconds(0), &events)), kChangeStreamHistoryLost);
}

}  // namespace
}  // namespace micromongo::changes
