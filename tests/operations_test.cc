// findAndModify, bulk writes, distinct, rename, maxTimeMS and the update language end to
// end through the public client API.

#include <gtest/gtest.h>

#include <functional>
#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Array;
using mm::Document;

namespace {

constexpr char kOpsDb[] = "ops";
using OperationsTest = micromongo::testing::WorkerTest<kOpsDb>;

using micromongo::testing::ErrorCodeOf;

TEST_F(OperationsTest, FindOneAndUpdateReplaceDelete) {
  coll_->InsertMany({Document{{"_id", 1}, {"n", 5}}, Document{{"_id", 2}, {"n", 3}},
                     Document{{"_id", 3}, {"n", 9}}});
  // Sorted: the smallest n is taken first; the pre-image comes back by default.
  auto before = coll_->FindOneAndUpdate(Document{}, Document{{"$inc", Document{{"n", 100}}}},
                                        {.sort = Document{{"n", 1}}});
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->GetInt32("_id"), 2);
  EXPECT_EQ(before->GetInt32("n"), 3);
  auto after = coll_->FindOneAndUpdate(Document{{"_id", 1}}, Document{{"$set", Document{{"x", 1}}}},
                                       {.projection = Document{{"x", 1}},
                                        .return_document = mm::ReturnDocument::kAfter});
  EXPECT_EQ(after->ToJson(), (Document{{"_id", 1}, {"x", 1}}.ToJson()));
  EXPECT_FALSE(coll_->FindOneAndUpdate(Document{{"_id", 99}}, Document{{"$set", Document{{"x", 1}}}})
                   .has_value());
  auto upserted = coll_->FindOneAndUpdate(Document{{"_id", 99}}, Document{{"$set", Document{{"x", 1}}}},
                                          {.upsert = true, .return_document = mm::ReturnDocument::kAfter});
  EXPECT_EQ(upserted->GetInt32("x"), 1);

  auto replaced = coll_->FindOneAndReplace(Document{{"_id", 3}}, Document{{"fresh", true}},
                                           {.return_document = mm::ReturnDocument::kAfter});
  EXPECT_EQ(replaced->ToJson(), (Document{{"_id", 3}, {"fresh", true}}.ToJson()));

  auto deleted = coll_->FindOneAndDelete(Document{}, {.sort = Document{{"_id", -1}}});
  EXPECT_EQ(deleted->GetInt32("_id"), 99);
  EXPECT_EQ(coll_->CountDocuments(), 3);
}

TEST_F(OperationsTest, BulkWriteOrderedAndUnordered) {
  std::vector<mm::WriteModel> models = {
      mm::InsertOneModel{Document{{"_id", 1}, {"v", 1}}},
      mm::InsertOneModel{Document{{"_id", 2}, {"v", 2}}},
      mm::UpdateOneModel{Document{{"_id", 1}}, Document{{"$inc", Document{{"v", 10}}}}},
      mm::UpdateManyModel{Document{}, Document{{"$set", Document{{"seen", true}}}}},
      mm::ReplaceOneModel{Document{{"_id", 7}}, Document{{"v", 7}}, true},
      mm::DeleteOneModel{Document{{"_id", 2}}},
  };
  auto r = coll_->BulkWrite(models);
  EXPECT_EQ(r.inserted_count, 2);
  EXPECT_EQ(r.matched_count, 3);
  EXPECT_EQ(r.modified_count, 3);
  EXPECT_EQ(r.upserted_count, 1);
  EXPECT_EQ(r.upserted_ids.at(4).AsInt32(), 7);
  EXPECT_EQ(r.deleted_count, 1);
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 1}})->GetInt32("v"), 11);

  std::vector<mm::WriteModel> failing = {
      mm::InsertOneModel{Document{{"_id", 1}}},  // duplicate
      mm::InsertOneModel{Document{{"_id", 3}}},
      mm::UpdateOneModel{Document{}, Document{{"$bogus", Document{}}}},
      mm::DeleteManyModel{Document{{"_id", 7}}},
  };
  try {
    coll_->BulkWrite(failing);
    FAIL();
  } catch (const mm::BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);  // ordered: stops at the first
    EXPECT_EQ(e.write_errors()[0].code, 11000);
    EXPECT_EQ(e.result().inserted_count, 0);
  }
  try {
    coll_->BulkWrite(failing, {.ordered = false});
    FAIL();
  } catch (const mm::BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 2u);
    EXPECT_EQ(e.write_errors()[1].index, 2);
    EXPECT_EQ(e.write_errors()[1].code, 9);
    EXPECT_EQ(e.result().inserted_count, 1);
    EXPECT_EQ(e.result().deleted_count, 1);
  }
}

TEST_F(OperationsTest, DistinctUnwindsArraysWithMongoEquality) {
  coll_->InsertMany({Document{{"tags", Array{"a", "b"}}, {"n", 1}},
                     Document{{"tags", Array{"b", "c"}}, {"n", 1.0}},
                     Document{{"tags", "d"}, {"n", int64_t{2}}},
                     Document{{"sub", Document{{"k", Array{Document{{"z", 1}}, Document{{"z", 2}}}}}}}});
  auto tags = coll_->Distinct("tags");
  std::vector<std::string> names;
  for (const auto& v : tags) names.push_back(v.AsString());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(coll_->Distinct("n").size(), 2u);  // 1 and 1.0 are one value
  EXPECT_EQ(coll_->Distinct("sub.k.z").size(), 2u);
  EXPECT_EQ(coll_->Distinct("tags", Document{{"n", 2}}).size(), 1u);
}

TEST_F(OperationsTest, RenameCollection) {
  coll_->InsertOne(Document{{"x", 1}});
  mm::Database db = client_->Db();
  coll_->Rename("renamed_target");
  EXPECT_EQ(db["renamed_target"].CountDocuments(), 1);
  EXPECT_EQ(coll_->CountDocuments(), 0);
  db["other"].InsertOne(Document{{"y", 1}});
  try {
    db.RenameCollection("renamed_target", "other");
    FAIL();
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 48);
  }
  db.RenameCollection("renamed_target", "other", /*drop_target=*/true);
  EXPECT_EQ(db["other"].FindOne()->GetInt32("x"), 1);
  try {
    db.RenameCollection("missing", "x");
    FAIL();
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 26);
  }
}

TEST_F(OperationsTest, MaxTimeMSIsEnforcedByTheServer) {
  std::vector<Document> docs;
  for (int i = 0; i < 60000; ++i) docs.push_back(Document{{"s", "value number " + std::to_string(i)}});
  for (size_t i = 0; i < docs.size(); i += 10000) {
    coll_->InsertMany(std::vector<Document>(docs.begin() + i, docs.begin() + i + 10000));
  }
  Document slow{{"s", mm::Regex{"(a|b|c|d)+x$", ""}}};
  try {
    coll_->Find(slow, {.max_time_ms = 1}).ToVector();
    FAIL() << "maxTimeMS not enforced";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 50);
    EXPECT_EQ(e.code_name(), "MaxTimeMSExpired");
  }
  try {
    coll_->CountDocuments(slow, {.max_time_ms = 1});
    FAIL() << "maxTimeMS not enforced";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 50);
  }
  EXPECT_EQ(coll_->Find(slow, {.max_time_ms = 60000, .comment = "ok"}).ToVector().size(), 0u);
  // Writes too: the scan for the documents to change stops with 50, nothing matched.
  for (auto write : std::vector<std::function<void()>>{
           [&] { coll_->UpdateMany(slow, Document{{"$set", Document{{"t", 1}}}}, {.max_time_ms = 1}); },
           [&] { coll_->ReplaceOne(slow, Document{{"t", 1}}, {.max_time_ms = 1}); },
           [&] { coll_->DeleteMany(slow, {.max_time_ms = 1}); }}) {
    EXPECT_EQ(ErrorCodeOf(write), 50);
  }
  EXPECT_EQ(coll_->UpdateMany(slow, Document{{"$set", Document{{"t", 1}}}}, {.max_time_ms = 60000}).matched_count, 0);
  EXPECT_EQ(coll_->DeleteMany(slow, {.max_time_ms = 60000}).deleted_count, 0);
  EXPECT_EQ(coll_->CountDocuments(Document{}), 60000);
}

TEST_F(OperationsTest, UpdateLanguageThroughTheClient) {
  coll_->InsertOne(Document{{"_id", 1},
                            {"scores", Array{70, 85, 95}},
                            {"items", Array{Document{{"q", 1}}, Document{{"q", 5}}}}});
  coll_->UpdateOne(Document{{"_id", 1}},
                   Document{{"$set", Document{{"items.$[big].flag", true}}},
                            {"$push", Document{{"scores", Document{{"$each", Array{60}}, {"$sort", 1}}}}}},
                   {.array_filters = {Document{{"big.q", Document{{"$gt", 2}}}}}});
  coll_->UpdateOne(Document{{"_id", 1}, {"scores", 85}}, Document{{"$set", Document{{"scores.$", 86}}}});
  auto doc = coll_->FindOne(Document{{"_id", 1}});
  EXPECT_EQ(doc->ToJson(),
            (Document{{"_id", 1},
                      {"scores", Array{60, 70, 86, 95}},
                      {"items", Array{Document{{"q", 1}}, Document{{"q", 5}, {"flag", true}}}}}
                 .ToJson()));
  auto r = coll_->UpdateOne(Document{{"_id", 1}}, Document{{"$addToSet", Document{{"scores", 60}}}});
  EXPECT_EQ(r.modified_count, 0);
  coll_->UpdateOne(Document{{"_id", 2}}, Document{{"$setOnInsert", Document{{"new", true}}}},
                   {.upsert = true});
  EXPECT_TRUE(coll_->FindOne(Document{{"_id", 2}})->GetBool("new"));
}

TEST_F(OperationsTest, UpdatePipelinesAndExpr) {
  coll_->InsertMany({Document{{"_id", 1}, {"price", 10}, {"qty", 3}},
                     Document{{"_id", 2}, {"price", 4}, {"qty", 1}}});
  auto r = coll_->UpdateMany(
      Document{}, mm::Pipeline{{Document{{"$set", Document{{"total", Document{{"$multiply", Array{"$price", "$qty"}}}}}}},
                                Document{{"$unset", "qty"}}}});
  EXPECT_EQ(r.modified_count, 2);
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 1}})->ToJson(),
            (Document{{"_id", 1}, {"price", 10}, {"total", 30}}.ToJson()));
  EXPECT_EQ(coll_->CountDocuments(Document{{"$expr", Document{{"$gt", Array{"$total", "$price"}}}}}), 1);
  auto after = coll_->FindOneAndUpdate(
      Document{{"_id", 2}}, mm::Pipeline{{Document{{"$set", Document{{"price", Document{{"$add", Array{"$price", 1}}}}}}}}},
      {.return_document = mm::ReturnDocument::kAfter});
  EXPECT_EQ(after->GetInt32("price"), 5);
}

TEST_F(OperationsTest, LetVariablesAndIdIndexHints) {
  coll_->InsertMany({Document{{"_id", 1}, {"x", "a"}}, Document{{"_id", 2}, {"x", "b"}}});
  Document by_let{{"$expr", Document{{"$eq", Array{"$x", "$$wanted"}}}}};
  auto found = coll_->Find(by_let, {.let = Document{{"wanted", "b"}}}).ToVector();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].GetInt32("_id"), 2);
  auto r = coll_->UpdateOne(by_let, mm::Pipeline{{Document{{"$set", Document{{"y", "$$stamp"}}}}}},
                            {.let = Document{{"wanted", "a"}, {"stamp", 42}}});
  EXPECT_EQ(r.modified_count, 1);
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 1}})->GetInt32("y"), 42);
  EXPECT_EQ(coll_->DeleteOne(by_let, {.let = Document{{"wanted", "b"}}}).deleted_count, 1);

  EXPECT_EQ(coll_->CountDocuments(Document{}, {.hint = "_id_"}), 1);
  EXPECT_EQ(coll_->Find(Document{}, {.hint = Document{{"_id", 1}}}).ToVector().size(), 1u);
  try {
    coll_->Find(Document{}, {.hint = "x_1"}).ToVector();
    FAIL() << "hint on a missing index accepted";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 2);
  }
}

TEST_F(OperationsTest, AggregateBasicStagesOutAndMerge) {
  coll_->InsertMany({Document{{"_id", 1}, {"g", "a"}, {"n", 5}}, Document{{"_id", 2}, {"g", "b"}, {"n", 3}},
                     Document{{"_id", 3}, {"g", "a"}, {"n", 9}}});
  auto rows = coll_->Aggregate({Document{{"$match", Document{{"g", "a"}}}},
                                Document{{"$sort", Document{{"n", -1}}}},
                                Document{{"$addFields", Document{{"twice", Document{{"$multiply", Array{"$n", 2}}}}}}},
                                Document{{"$project", Document{{"_id", 0}, {"twice", 1}}}}})
                  .ToVector();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].ToJson(), (Document{{"twice", 18}}.ToJson()));
  auto count = coll_->Aggregate({Document{{"$skip", 1}}, Document{{"$count", "left"}}}).ToVector();
  EXPECT_EQ(count[0].GetInt32("left"), 2);
  EXPECT_TRUE(coll_->Aggregate({Document{{"$match", Document{{"$expr", Document{{"$eq", Array{"$g", "$$want"}}}}}}},
                                Document{{"$out", "agg_out"}}},
                               {.let = Document{{"want", "b"}}})
                  .ToVector()
                  .empty());
  mm::Collection out = client_->Db()["agg_out"];
  EXPECT_EQ(out.CountDocuments(), 1);
  coll_->Aggregate({Document{{"$set", Document{{"merged", true}}}},
                    Document{{"$merge", Document{{"into", "agg_out"}}}}}).ToVector();
  EXPECT_EQ(out.CountDocuments(Document{{"merged", true}}), 3);
  try {
    coll_->Aggregate({Document{{"$lookup", Document{}}}}).ToVector();
    FAIL();
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 9);  // FailedToParse: must specify 'as' field for a $lookup
  }
}

TEST_F(OperationsTest, QueryLanguageThroughTheClient) {
  coll_->InsertMany({Document{{"_id", 1}, {"name", "Alice"}, {"tags", Array{"x", "y"}}, {"n", 6}},
                     Document{{"_id", 2}, {"name", "bob"}, {"tags", Array{"y"}}, {"n", 7}}});
  EXPECT_EQ(coll_->CountDocuments(Document{{"name", mm::Regex{"^a", "i"}}}), 1);
  EXPECT_EQ(coll_->CountDocuments(Document{{"tags", Document{{"$size", 2}}}}), 1);
  EXPECT_EQ(coll_->CountDocuments(Document{{"tags", Document{{"$all", Array{"y"}}}}}), 2);
  EXPECT_EQ(coll_->CountDocuments(Document{{"n", Document{{"$mod", Array{3, 0}}}}}), 1);
  EXPECT_EQ(coll_->CountDocuments(Document{{"n", Document{{"$type", "int"}}}}), 2);
  EXPECT_EQ(coll_->CountDocuments(Document{{"n", Document{{"$bitsAllSet", Array{1, 2}}}}}), 2);
}

// Collation, as MongoDB's manual describes it: strength 2 compares case-insensitively in
// filters, sorts, distinct, counts, updates, deletes, findAndModify and aggregation.
TEST_F(OperationsTest, CollationThroughTheClient) {
  coll_->InsertMany({Document{{"_id", 1}, {"x", "ping"}}, Document{{"_id", 2}, {"x", "PING"}},
                     Document{{"_id", 3}, {"x", "pong"}}, Document{{"_id", 4}, {"x", "p\u00edng"}},
                     Document{{"_id", 5}, {"x", "Apple"}}});
  const Document ci{{"locale", "en_US"}, {"strength", 2}};
  EXPECT_EQ(coll_->CountDocuments(Document{{"x", "Ping"}}), 0);
  EXPECT_EQ(coll_->CountDocuments(Document{{"x", "Ping"}}, {.collation = ci}), 2);
  EXPECT_EQ(coll_->Find(Document{{"x", "PING"}}, {.collation = ci}).ToVector().size(), 2u);
  EXPECT_EQ(coll_->Distinct("x", Document{}, {.collation = ci}).size(), 4u);
  EXPECT_EQ(coll_->Distinct("x", Document{}).size(), 5u);

  // Sort: binary order puts capitals first; the collation interleaves them.
  auto sorted = coll_->Find(Document{}, {.sort = Document{{"x", 1}, {"_id", 1}},
                                         .collation = Document{{"locale", "en_US"}}})
                    .ToVector();
  ASSERT_EQ(sorted.size(), 5u);
  EXPECT_EQ(sorted[0].GetString("x"), "Apple");
  EXPECT_EQ(sorted[1].GetString("x"), "ping");
  EXPECT_EQ(sorted[2].GetString("x"), "PING");
  auto binary = coll_->Find(Document{}, {.sort = Document{{"x", 1}}}).ToVector();
  EXPECT_EQ(binary[0].GetString("x"), "Apple");
  EXPECT_EQ(binary[1].GetString("x"), "PING");

  auto r = coll_->UpdateMany(Document{{"x", "PiNg"}}, Document{{"$set", Document{{"hit", true}}}},
                             {.collation = ci});
  EXPECT_EQ(r.matched_count, 2);
  auto before = coll_->FindOneAndUpdate(Document{{"x", "PONG"}}, Document{{"$set", Document{{"y", 1}}}},
                                        {.collation = ci});
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->GetInt32("_id"), 3);
  auto agg = coll_->Aggregate({Document{{"$match", Document{{"x", "APPLE"}}}}}, {.collation = ci})
                 .ToVector();
  EXPECT_EQ(agg.size(), 1u);
  // Computed projection fields compare under the find's collation too.
  auto projected = coll_->FindOne(Document{{"_id", 5}},
                                  {.projection = Document{{"is_apple", Document{{"$eq", Array{"$x", "APPLE"}}}}},
                                   .collation = ci});
  EXPECT_TRUE(projected->GetBool("is_apple"));
  // A string _id under a collation is matched by the collation too.
  coll_->InsertOne(Document{{"_id", "Key"}});
  EXPECT_EQ(coll_->CountDocuments(Document{{"_id", "KEY"}}, {.collation = ci}), 1);
  EXPECT_EQ(coll_->DeleteMany(Document{{"x", "ping"}}, {.collation = ci}).deleted_count, 2);
  EXPECT_EQ(coll_->CountDocuments(), 4);

  // Malformed collations fail with MongoDB's codes and change nothing.
  const std::pair<Document, int> bad[] = {
      {Document{{"strength", 2}}, 40414},
      {Document{{"locale", "en_US"}, {"strenght", 2}}, 40415},
      {Document{{"locale", "xx_NOPE"}}, 2},
      {Document{{"locale", "en_US"}, {"strength", 9}}, 2},
  };
  for (const auto& [collation, code] : bad) {
    try {
      coll_->DeleteMany(Document{}, {.collation = collation});
      ADD_FAILURE() << collation.ToJson();
    } catch (const mm::Error& e) {
      EXPECT_EQ(e.code(), code) << collation.ToJson() << ": " << e.what();
    }
  }
  EXPECT_EQ(coll_->CountDocuments(), 4);
}

// Database-level aggregation ($documents) and the extra fields of error responses.
TEST_F(OperationsTest, DocumentsStageAndErrorDetails) {
  mm::Database db = client_->Db();
  auto docs = db.Aggregate({Document{{"$documents", Array{Document{{"a", 1}}, Document{{"a", 2}}}}},
                            Document{{"$match", Document{{"a", Document{{"$gt", 1}}}}}}})
                  .ToVector();
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].GetInt32("a"), 2);
  coll_->InsertOne(Document{{"_id", 2}, {"x", 0}});
  try {
    db.Aggregate({Document{{"$documents", Array{Document{{"_id", 2}, {"x", 1}}}}},
                  Document{{"$merge", Document{{"into", coll_->name()}, {"whenMatched", "fail"}}}}})
        .ToVector();
    FAIL() << "expected DuplicateKey";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 11000);
    EXPECT_EQ(e.details().ToJson(),
              (Document{{"keyPattern", Document{{"_id", 1}}}, {"keyValue", Document{{"_id", 2}}}}.ToJson()));
  }
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 2}})->GetInt32("x"), 0);
  // Per-document write errors carry the same details.
  try {
    coll_->InsertMany({Document{{"_id", 3}}, Document{{"_id", 2}}});
    FAIL() << "expected BulkWriteError";
  } catch (const mm::BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.write_errors()[0].details.GetDocument("keyValue").GetInt32("_id"), 2);
  }
  // Stages that need a collection cannot start a database-level pipeline.
  for (const Document& first : {Document{{"$match", Document{}}}, Document{{"$documents", 5}}}) {
    try {
      db.Aggregate({first}).ToVector();
      FAIL() << first.ToJson();
    } catch (const mm::Error& e) {
      EXPECT_TRUE(e.code() == 73 || e.code() == 5858203) << e.code();
    }
  }
}

// Collection validators (create and collMod) as MongoDB's schema validation page
// describes them: strict and moderate levels, error and warn actions, errInfo.
TEST_F(OperationsTest, DocumentValidation) {
  mm::Database db = client_->Db();
  db.CreateCollection("people", {.validator = Document{{"$jsonSchema", Document{{"required", Array{"name"}}}},
                                                      {"age", Document{{"$gte", 0}}}}});
  mm::Collection people = db["people"];
  for (const Document& info : db.ListCollections()) {
    if (info.GetString("name") == "people") {
      EXPECT_TRUE(info.GetDocument("options").Has("validator"));
    }
  }
  people.InsertOne(Document{{"_id", 1}, {"name", "ann"}, {"age", 30}});
  try {
    people.InsertOne(Document{{"_id", 2}, {"age", 5}});
    FAIL() << "expected DocumentValidationFailure";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 121);
    EXPECT_EQ(e.code_name(), "DocumentValidationFailure");
    const Document& info = e.details().GetDocument("errInfo");
    EXPECT_EQ(info.GetInt32("failingDocumentId"), 2);
    EXPECT_EQ(info.GetDocument("details").GetArray("clausesNotSatisfied").size(), 1u);
  }
  try {
    people.UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"age", -1}}}});
    FAIL() << "expected DocumentValidationFailure";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 121);
  }
  EXPECT_EQ(people.FindOne(Document{{"_id", 1}})->GetInt32("age"), 30);
  EXPECT_THROW(people.ReplaceOne(Document{{"_id", 1}}, Document{{"age", 1}}), mm::Error);
  EXPECT_THROW(people.UpdateOne(Document{{"_id", 9}}, Document{{"$set", Document{{"age", 1}}}},
                                {.upsert = true}),
               mm::Error);
  EXPECT_EQ(people.CountDocuments(), 1);
  // bypassDocumentValidation lets each kind of write through.
  people.InsertOne(Document{{"_id", 3}, {"age", -3}}, {.bypass_document_validation = true});
  people.InsertMany({Document{{"_id", 4}}}, {.bypass_document_validation = true});
  people.UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"age", -1}}}},
                   {.bypass_document_validation = true});
  people.FindOneAndReplace(Document{{"_id", 4}}, Document{{"age", -4}},
                           {.bypass_document_validation = true});
  people.BulkWrite({mm::InsertOneModel{Document{{"_id", 5}}}}, {.bypass_document_validation = true});
  EXPECT_EQ(people.CountDocuments(Document{{"name", Document{{"$exists", false}}}}), 3);
  EXPECT_EQ(people.FindOne(Document{{"_id", 1}})->GetInt32("age"), -1);
  people.DeleteMany(Document{{"_id", Document{{"$in", Array{3, 4, 5}}}}});
  people.UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"age", 30}}}});

  // Documents stored before a validator existed: moderate lets their updates through.
  mm::Collection old = db["old"];
  old.InsertOne(Document{{"_id", 1}, {"x", "text"}});
  db.ModifyCollection("old", {.validator = Document{{"x", Document{{"$type", "int"}}}},
                              .validation_level = "moderate"});
  old.UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"y", 1}}}});
  EXPECT_THROW(old.InsertOne(Document{{"_id", 2}, {"x", "text"}}), mm::Error);
  db.ModifyCollection("old", {.validation_level = "strict"});
  EXPECT_THROW(old.UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"y", 2}}}}), mm::Error);
  db.ModifyCollection("old", {.validation_action = "warn"});
  old.InsertOne(Document{{"_id", 3}, {"x", "accepted with a warning"}});
  db.ModifyCollection("old", {.validation_level = "off", .validation_action = "error"});
  old.InsertOne(Document{{"_id", 4}, {"x", "unchecked"}});
  EXPECT_EQ(old.CountDocuments(), 3);

  // Bad options are rejected with MongoDB's codes.
  EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection("bad", {.validator = Document{{"a", Document{{"$bogus", 1}}}}}); }), 2);
  EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection("bad", {.validation_level = "sometimes"}); }), 2);
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("missing", {.validation_level = "off"}); }), 26);
}

// Views (create with viewOn and pipeline): reads run the view's pipeline over its
// collection, views may stack, writes are refused with 166.
TEST_F(OperationsTest, Views) {
  mm::Database db = client_->Db();
  coll_->InsertMany({Document{{"_id", 1}, {"n", 1}, {"s", "a"}}, Document{{"_id", 2}, {"n", 2}, {"s", "B"}},
                     Document{{"_id", 3}, {"n", 3}, {"s", "b"}}, Document{{"_id", 4}, {"n", 4}, {"s", "c"}}});
  db.CreateCollection("big", {.view_on = coll_->name(),
                              .pipeline = {Document{{"$match", Document{{"n", Document{{"$gte", 2}}}}}}}});
  db.CreateCollection("big_sorted", {.view_on = "big",
                                     .pipeline = {Document{{"$sort", Document{{"n", -1}}}},
                                                  Document{{"$unset", "s"}}}});
  mm::Collection big = db["big"];
  mm::Collection sorted = db["big_sorted"];
  EXPECT_EQ(big.EstimatedDocumentCount(), 3);
  EXPECT_EQ(big.CountDocuments(Document{{"n", Document{{"$lt", 4}}}}), 2);
  EXPECT_EQ(big.CountDocuments(Document{}, {.skip = 1, .limit = 1}), 1);
  auto docs = sorted.Find(Document{}, {.limit = 2}).ToVector();
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].GetInt32("n"), 4);
  EXPECT_FALSE(docs[0].Has("s"));
  auto projected = big.Find(Document{{"n", 2}}, {.projection = Document{{"_id", 0}, {"s", 1}}}).ToVector();
  ASSERT_EQ(projected.size(), 1u);
  EXPECT_EQ(projected[0].ToJson(), (Document{{"s", "B"}}.ToJson()));
  EXPECT_EQ(big.Distinct("s", Document{}).size(), 3u);
  EXPECT_EQ(big.Distinct("s", Document{}, {.collation = Document{{"locale", "en"}, {"strength", 1}}}).size(), 2u);
  EXPECT_EQ(big.Aggregate({Document{{"$count", "n"}}}).ToVector()[0].GetInt32("n"), 3);
  // The view follows its collection.
  coll_->InsertOne(Document{{"_id", 5}, {"n", 5}});
  EXPECT_EQ(sorted.EstimatedDocumentCount(), 4);

  for (auto write : std::vector<std::function<void()>>{
           [&] { big.InsertOne(Document{{"n", 9}}); },
           [&] { big.UpdateMany(Document{}, Document{{"$set", Document{{"x", 1}}}}); },
           [&] { big.DeleteMany(Document{}); },
           [&] { big.FindOneAndDelete(Document{}); },
           [&] { coll_->Aggregate({Document{{"$out", "big"}}}).ToVector(); },
       }) {
    try {
      write();
      ADD_FAILURE() << "a write to a view succeeded";
    } catch (const mm::Error& e) {
      EXPECT_EQ(e.code(), 166) << e.what();
    }
  }
  EXPECT_EQ(coll_->CountDocuments(), 5);
  // listCollections tells views from collections and shows their definitions.
  for (const Document& info : db.ListCollections()) {
    if (info.GetString("name") == "big") {
      EXPECT_EQ(info.GetString("type"), "view");
      EXPECT_EQ(info.GetDocument("options").GetString("viewOn"), coll_->name());
    } else if (info.GetString("name") == coll_->name()) {
      EXPECT_EQ(info.GetString("type"), "collection");
    }
  }
  // collMod replaces a view's pipeline; dropping a view leaves its collection alone.
  db.ModifyCollection("big", {.pipeline = {Document{{"$match", Document{{"n", 1}}}}}});
  EXPECT_EQ(big.EstimatedDocumentCount(), 1);
  EXPECT_TRUE(db.DropCollection("big"));
  EXPECT_EQ(coll_->CountDocuments(), 5);
  EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection("v2", {.view_on = coll_->name(), .pipeline = {Document{{"$out", "x"}}}}); }), 167);
  EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection("v3", {.view_on = coll_->name(), .pipeline = {Document{{"$bogus", 1}}}}); }), 40324);
  EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection("v4", {.validator = Document{{"a", 1}}, .view_on = coll_->name()}); }), 72);
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection(coll_->name(), {.view_on = "other"}); }), 72);
  // Views may name a collection that does not exist yet, but never close a cycle.
  db.CreateCollection("cyc_a", {.view_on = "cyc_b"});
  EXPECT_EQ(db["cyc_a"].EstimatedDocumentCount(), 0);
  EXPECT_EQ(ErrorCodeOf([&] { db.CreateCollection("cyc_b", {.view_on = "cyc_a"}); }), 5);
  EXPECT_EQ(ErrorCodeOf([&] { db.ModifyCollection("cyc_a", {.view_on = "cyc_a"}); }), 5);
}

// Secondary indexes: unique constraints on every write path, builds that meet duplicates,
// listing, dropping, hints, and persistence across renames.
TEST_F(OperationsTest, UniqueIndexes) {
  coll_->InsertMany({Document{{"_id", 1}, {"email", "a@x"}}, Document{{"_id", 2}, {"email", "b@x"}},
                     Document{{"_id", 3}, {"tags", Array{"t1", "t2"}}}});
  EXPECT_EQ(coll_->CreateIndex(Document{{"email", 1}}, {.unique = true}), "email_1");
  EXPECT_EQ(coll_->CreateIndex(Document{{"email", 1}}, {.unique = true}), "email_1");  // idempotent
  auto expect_dup = [&](auto&& write, const char* what) {
    try {
      write();
      ADD_FAILURE() << what << ": expected DuplicateKeyError";
    } catch (const mm::DuplicateKeyError& e) {
      EXPECT_EQ(e.details().GetDocument("keyPattern").ToJson(), (Document{{"email", 1}}.ToJson())) << what;
    } catch (const mm::BulkWriteError& e) {
      EXPECT_EQ(e.write_errors().at(0).code, 11000) << what;
    }
  };
  expect_dup([&] { coll_->InsertOne(Document{{"_id", 4}, {"email", "a@x"}}); }, "insert");
  expect_dup([&] { coll_->UpdateOne(Document{{"_id", 2}}, Document{{"$set", Document{{"email", "a@x"}}}}); }, "update");
  expect_dup([&] { coll_->ReplaceOne(Document{{"_id", 2}}, Document{{"email", "a@x"}}); }, "replace");
  expect_dup([&] { coll_->UpdateOne(Document{{"_id", 9}}, Document{{"$set", Document{{"email", "b@x"}}}}, {.upsert = true}); }, "upsert");
  expect_dup([&] { coll_->FindOneAndUpdate(Document{{"_id", 1}}, Document{{"$set", Document{{"email", "b@x"}}}}); }, "findAndModify");
  expect_dup([&] { coll_->InsertMany({Document{{"_id", 5}, {"email", "new"}}, Document{{"_id", 6}, {"email", "new"}}}); }, "same batch");
  // _id 3 has no email (null): a second document without one is a duplicate too.
  expect_dup([&] { coll_->InsertOne(Document{{"_id", 7}}); }, "second null");
  EXPECT_EQ(coll_->CountDocuments(), 4);  // _id 5 of the ordered batch went in
  EXPECT_EQ(coll_->FindOne(Document{{"_id", 2}})->GetString("email"), "b@x");

  // A value freed by an update or a delete can be taken again.
  coll_->UpdateOne(Document{{"_id", 1}}, Document{{"$set", Document{{"email", "c@x"}}}});
  coll_->InsertOne(Document{{"_id", 8}, {"email", "a@x"}});
  coll_->DeleteOne(Document{{"_id", 8}});
  coll_->InsertOne(Document{{"_id", 10}, {"email", "a@x"}});
  // Swapping values one document at a time conflicts, as in MongoDB.
  expect_dup([&] { coll_->UpdateMany(Document{{"email", "c@x"}}, Document{{"$set", Document{{"email", "a@x"}}}}); }, "taken");

  // Building a unique index over duplicates fails and leaves no index behind.
  coll_->InsertMany({Document{{"_id", 20}, {"k", 1}, {"email", "k20"}},
                     Document{{"_id", 21}, {"k", 1}, {"email", "k21"}}});
  try {
    coll_->CreateIndex(Document{{"k", 1}}, {.unique = true, .sparse = true});
    FAIL() << "expected DuplicateKeyError";
  } catch (const mm::DuplicateKeyError& e) {
    EXPECT_EQ(e.details().GetDocument("keyValue").GetInt32("k"), 1);
  }
  auto indexes = coll_->ListIndexes();
  ASSERT_EQ(indexes.size(), 2u);
  EXPECT_EQ(indexes[0].GetString("name"), "_id_");
  EXPECT_EQ(indexes[1].GetString("name"), "email_1");
  EXPECT_TRUE(indexes[1].GetBool("unique"));

  // Sparse and partial unique indexes constrain only what they index; multikey keys too.
  coll_->CreateIndex(Document{{"tags", 1}}, {.name = "tags_unique", .unique = true, .sparse = true});
  coll_->InsertOne(Document{{"_id", 30}, {"email", "s@x"}});  // no tags: not indexed
  EXPECT_THROW(coll_->InsertOne(Document{{"_id", 31}, {"email", "t@x"}, {"tags", Array{"t2"}}}),
               mm::DuplicateKeyError);

  // Hints may name an index; dropping it lifts the constraint.
  EXPECT_EQ(coll_->Find(Document{{"email", "a@x"}}, {.hint = mm::Hint("email_1")}).ToVector().size(), 1u);
  EXPECT_EQ(coll_->CountDocuments(Document{}, {.hint = Document{{"email", 1}}}), coll_->CountDocuments());
  EXPECT_THROW(coll_->Find(Document{}, {.hint = mm::Hint("nope_1")}).ToVector(), mm::Error);
  coll_->DropIndex("email_1");
  coll_->InsertOne(Document{{"_id", 40}, {"email", "a@x"}});
  try {
    coll_->DropIndex("email_1");
    FAIL();
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 27);
  }
  try {
    coll_->DropIndex("_id_");
    FAIL();
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 72);
  }

  // Indexes follow a rename; DropIndexes removes all but _id's.
  mm::Collection other = client_->Db()["uniq"];
  other.CreateIndex(Document{{"u", 1}}, {.unique = true});
  other.InsertOne(Document{{"u", 1}});
  other.Rename("uniq2");
  mm::Collection renamed = client_->Db()["uniq2"];
  EXPECT_THROW(renamed.InsertOne(Document{{"u", 1}}), mm::DuplicateKeyError);
  renamed.DropIndexes();
  renamed.InsertOne(Document{{"u", 1}});
  EXPECT_EQ(renamed.ListIndexes().size(), 1u);
}

// updateMany / deleteMany over more documents than one commit chunk (1000): every
// document is written once, and a failure part-way leaves the earlier documents updated,
// as MongoDB does (each document's write is atomic, the operation is not).
TEST_F(OperationsTest, ManyDocumentWritesCommitInChunks) {
  std::vector<Document> docs;
  for (int i = 0; i < 2500; ++i) {
    docs.push_back(Document{{"_id", i}, {"n", i == 1700 ? mm::Value("text") : mm::Value(i)}, {"even", i % 2 == 0}});
  }
  coll_->InsertMany(docs);
  try {
    coll_->UpdateMany(Document{}, Document{{"$inc", Document{{"n", 10000}}}});
    FAIL() << "expected TypeMismatch";
  } catch (const mm::Error& e) {
    EXPECT_EQ(e.code(), 14);
  }
  EXPECT_EQ(coll_->CountDocuments(Document{{"n", Document{{"$gte", 10000}}}}), 1700);
  coll_->UpdateOne(Document{{"_id", 1700}}, Document{{"$set", Document{{"n", 1700}}}});
  auto r = coll_->UpdateMany(Document{{"n", Document{{"$lt", 10000}}}}, Document{{"$inc", Document{{"n", 10000}}}});
  EXPECT_EQ(r.matched_count, 800);
  EXPECT_EQ(r.modified_count, 800);
  EXPECT_EQ(coll_->CountDocuments(Document{{"n", Document{{"$gte", 10000}}}}), 2500);
  EXPECT_EQ(coll_->DeleteMany(Document{{"even", true}}).deleted_count, 1250);
  EXPECT_EQ(coll_->CountDocuments(), 1250);
  EXPECT_EQ(coll_->EstimatedDocumentCount(), 1250);
  // With a unique index the chunks commit one after another; the constraint still holds.
  coll_->CreateIndex(Document{{"n", 1}}, {.unique = true});
  r = coll_->UpdateMany(Document{}, Document{{"$inc", Document{{"n", 1}}}});
  EXPECT_EQ(r.modified_count, 1250);
  EXPECT_THROW(coll_->UpdateMany(Document{}, Document{{"$set", Document{{"n", 0}}}}), mm::DuplicateKeyError);
  EXPECT_EQ(coll_->CountDocuments(Document{{"n", 0}}), 1);
}

// $out keeps the target's indexes and validator, and a failing $out leaves it untouched.
TEST_F(OperationsTest, OutKeepsTargetIndexesAndOptions) {
  mm::Database db = client_->Db();
  db.CreateCollection("target", {.validator = Document{{"v", Document{{"$type", "int"}}}}});
  mm::Collection target = db["target"];
  target.CreateIndex(Document{{"v", 1}}, {.unique = true});
  target.InsertOne(Document{{"_id", "old"}, {"v", 0}});
  coll_->InsertMany({Document{{"_id", 1}, {"v", 1}}, Document{{"_id", 2}, {"v", 2}}});
  coll_->Aggregate({Document{{"$out", "target"}}}).ToVector();
  EXPECT_EQ(target.CountDocuments(), 2);
  EXPECT_EQ(target.ListIndexes().size(), 2u);
  EXPECT_THROW(target.InsertOne(Document{{"v", 1}}), mm::DuplicateKeyError);
  EXPECT_THROW(target.InsertOne(Document{{"v", "text"}}), mm::Error);

  coll_->InsertOne(Document{{"_id", 3}, {"v", 1}});  // duplicates v: 1 for the unique index
  // Compared with the names before, not a fixed list: the suite's other tests share the
  // database when they run in one process.
  const std::vector<std::string> names = db.ListCollectionNames();
  EXPECT_THROW(coll_->Aggregate({Document{{"$out", "target"}}}).ToVector(), mm::DuplicateKeyError);
  EXPECT_EQ(target.CountDocuments(), 2);
  EXPECT_EQ(db.ListCollectionNames(), names);  // no temporary collection left behind
}

// Equality lookups through secondary indexes return exactly what a collection scan
// returns: the same documents in the same order, for every kind of value and path.
TEST_F(OperationsTest, IndexLookupsReturnWhatScansReturn) {
  mm::Database db = client_->Db();
  mm::Collection plain = db["plain"], indexed = db["indexed"];
  const mm::Value values[] = {5, 5.0, int64_t{5}, mm::Decimal128::FromString("5.0"), 6, "x", "X", true,
                              nullptr, Array{5, 7}, Array{3, 7}, Array{mm::Value(Array{5})}, Document{{"c", 1}},
                              Array{Document{{"c", 1}}, Document{{"c", 2}}}, mm::ObjectId::Generate()};
  std::vector<Document> docs;
  int id = 0;
  for (const mm::Value& a : values) {
    for (const mm::Value& b : {mm::Value(1), mm::Value("t1"), mm::Value(Array{"t1", "t2"})}) {
      Document d{{"_id", id++}, {"a", a}, {"b", Document{{"c", b}}}, {"tags", b}};
      if (id % 4 == 0) d.Remove("a");
      docs.push_back(d);
    }
  }
  plain.InsertMany(docs);
  indexed.CreateIndex(Document{{"a", 1}});
  indexed.CreateIndex(Document{{"b.c", 1}, {"_id", -1}});
  indexed.CreateIndex(Document{{"tags", 1}}, {.sparse = true});
  indexed.InsertMany(docs);

  const Document filters[] = {
      Document{{"a", 5}},
      Document{{"a", 5.0}},
      Document{{"a", int64_t{5}}},
      Document{{"a", mm::Decimal128::FromString("5.00")}},
      Document{{"a", Document{{"$eq", 7}}}},
      Document{{"a", "x"}},
      Document{{"a", true}},
      Document{{"a", nullptr}},
      Document{{"a", Array{5, 7}}},
      Document{{"a", Document{{"c", 1}}}},
      Document{{"a.c", 2}},
      Document{{"b.c", 1}},
      Document{{"b.c", "t2"}},
      Document{{"b.c", 1}, {"a", 5}},
      Document{{"tags", "t1"}},
      Document{{"tags", "t2"}, {"a", Document{{"$gte", 5}}}},
      Document{{"a", values[14]}},
      Document{{"a", 99}},
      Document{{"a", Document{{"$in", Array{5, "x", 7}}}}},
      Document{{"a", Document{{"$in", Array{5, nullptr}}}}},
      Document{{"a", Document{{"$gt", 5}}}},
      Document{{"a", Document{{"$gte", 5}}}},
      Document{{"a", Document{{"$lt", 6}}}},
      Document{{"a", Document{{"$lte", 5}}}},
      Document{{"a", Document{{"$gt", 5}, {"$lt", 7}}}},  // met by different elements of [5, 7]? no: 7 !< 7
      Document{{"a", Document{{"$gt", 4}, {"$lt", 6}}}},
      Document{{"a", Document{{"$gte", 6}, {"$lte", 6}}}},
      Document{{"a", Document{{"$gt", "a"}}}},
      Document{{"a", Document{{"$lt", "a"}}}},
      Document{{"a", Document{{"$gt", false}}}},
      Document{{"a", Document{{"$gte", 5}, {"$ne", 7}}}},
      Document{{"b.c", Document{{"$gte", "t1"}}}},
      Document{{"tags", Document{{"$lt", "t2"}}}},
      Document{{"tags", Document{{"$in", Array{"t2", 1}}}}},
  };
  for (const Document& f : filters) {
    // Without a sort the order is the plan's (MongoDB promises none): compare as sets.
    std::vector<std::string> want, got;
    for (const Document& d : plain.Find(f).ToVector()) want.push_back(d.ToJson());
    for (const Document& d : indexed.Find(f).ToVector()) got.push_back(d.ToJson());
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << f.ToJson();
    EXPECT_EQ(indexed.CountDocuments(f), plain.CountDocuments(f)) << f.ToJson();
    auto sorted = [&](mm::Collection& c) {
      std::string out;
      for (const Document& d : c.Find(f, {.sort = Document{{"_id", -1}}, .skip = 1, .limit = 2}).ToVector()) {
        out += d.ToJson();
      }
      return out;
    };
    EXPECT_EQ(sorted(indexed), sorted(plain)) << f.ToJson();
  }
  // Under a collation string lookups cannot use the (binary) index; results still agree.
  const Document ci{{"locale", "en"}, {"strength", 2}};
  EXPECT_EQ(indexed.CountDocuments(Document{{"a", "X"}}, {.collation = ci}), plain.CountDocuments(Document{{"a", "X"}}, {.collation = ci}));
  EXPECT_GT(indexed.CountDocuments(Document{{"a", "X"}}, {.collation = ci}),
            indexed.CountDocuments(Document{{"a", "X"}}));
  // Writes through a lookup: the same documents change.
  EXPECT_EQ(indexed.UpdateMany(Document{{"a", 5}}, Document{{"$set", Document{{"hit", 1}}}}).modified_count,
            plain.UpdateMany(Document{{"a", 5}}, Document{{"$set", Document{{"hit", 1}}}}).modified_count);
  EXPECT_EQ(indexed.DeleteMany(Document{{"tags", "t2"}}).deleted_count,
            plain.DeleteMany(Document{{"tags", "t2"}}).deleted_count);
  EXPECT_EQ(indexed.Distinct("_id", Document{{"hit", 1}}).size(), plain.Distinct("_id", Document{{"hit", 1}}).size());
  EXPECT_EQ(indexed.CountDocuments(), plain.CountDocuments());
}

// validate after writes of every kind through every index kind: records and entries
// agree, keysPerIndex counts one entry per distinct key (multikey arrays unwound one level).
TEST_F(OperationsTest, ValidateAfterWrites) {
  coll_->CreateIndex(Document{{"a", 1}});
  coll_->CreateIndex(Document{{"u", 1}}, {.unique = true});
  coll_->CreateIndex(Document{{"a", 1}, {"b", -1}});
  coll_->CreateIndex(Document{{"s", "text"}});
  coll_->CreateIndex(Document{{"h", "hashed"}});
  coll_->InsertMany({Document::FromJson(R"({"_id": 1, "a": [1, 2, 2], "u": 1, "s": "red fox", "h": 1})"),
                     Document::FromJson(R"({"_id": 2, "a": null, "u": 2, "b": 1.5})"),
                     Document::FromJson(R"({"_id": 3, "a": [[1]], "u": 3, "s": "blue"})")});
  coll_->UpdateOne(Document{{"_id", 2}}, Document::FromJson(R"({"$set": {"a": [7, 8], "s": "green tree"}})"));
  coll_->ReplaceOne(Document{{"_id", 3}}, Document::FromJson(R"({"u": 30, "h": {"x": 1}})"));
  coll_->DeleteOne(Document{{"_id", 1}});
  coll_->FindOneAndUpdate(Document{{"_id", 3}}, Document::FromJson(R"({"$push": {"a": 9}})"));
  Document r = coll_->Validate({.full = true});
  EXPECT_TRUE(r.Get("valid").AsBool()) << r.ToJson();
  EXPECT_EQ(r.Get("nrecords").AsInt64(), 2);
  EXPECT_EQ(r.Get("nIndexes").AsInt32(), 6);
  // _id 2: a [7, 8] (2 keys), _id 3: a [9] (1 key).
  Document keys = r.Get("keysPerIndex").AsDocument();
  EXPECT_EQ(keys.Get("_id_").AsInt64(), 2);
  EXPECT_EQ(keys.Get("a_1").AsInt64(), 3);
  EXPECT_EQ(keys.Get("u_1").AsInt64(), 2);
  EXPECT_EQ(keys.Get("a_1_b_-1").AsInt64(), 3);
  EXPECT_EQ(keys.Get("s_text").AsInt64(), 2);  // "green", "tree"
  EXPECT_EQ(keys.Get("h_hashed").AsInt64(), 2);
  EXPECT_EQ(r.Get("errors").AsArray().size(), 0u);

  EXPECT_EQ(ErrorCodeOf([&] { client_->Db()["missing"].Validate(); }), 26);
}

}  // namespace
