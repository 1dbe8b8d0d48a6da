// Text search end to end: text indexes and $text as MongoDB's manual documents them (its
// examples' data and results), scores, explain, and the errors MongoDB gives.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include <micromongo/micromongo.h>

#include "test_util.h"

namespace mm = micromongo;
using mm::Array;
using mm::Document;
using mm::Value;

namespace {

constexpr char kTextDb[] = "text";
using TextSearchTest = micromongo::testing::WorkerTest<kTextDb>;
using micromongo::testing::ErrorCodeOf;
using micromongo::testing::Ids;
using micromongo::testing::IdsInOrder;

// The manual's $text examples (reference/operator/query/text): the articles collection.
void LoadArticles(mm::Collection& coll) {
  coll.InsertMany({Document{{"_id", 1}, {"subject", "coffee"}, {"author", "xyz"}, {"views", 50}},
                   Document{{"_id", 2}, {"subject", "Coffee Shopping"}, {"author", "efg"}, {"views", 5}},
                   Document{{"_id", 3}, {"subject", "Baking a cake"}, {"author", "abc"}, {"views", 90}},
                   Document{{"_id", 4}, {"subject", "baking"}, {"author", "xyz"}, {"views", 100}},
                   Document{{"_id", 5}, {"subject", "Café Con Leche"}, {"author", "abc"}, {"views", 200}},
                   Document{{"_id", 6}, {"subject", "Сырники"}, {"author", "jkl"}, {"views", 80}},
                   Document{{"_id", 7}, {"subject", "coffee and cream"}, {"author", "efg"}, {"views", 10}},
                   Document{{"_id", 8}, {"subject", "Cafe con Leche"}, {"author", "xyz"}, {"views", 10}}});
  coll.CreateIndex(Document{{"subject", "text"}});
}

Document Text(Document spec) { return Document{{"$text", std::move(spec)}}; }

TEST_F(TextSearchTest, ManualExamplesOfTheTextOperator) {
  LoadArticles(*coll_);
  struct Case {
    const char* name;
    Document text;
    std::set<int> ids;
  };
  const Case cases[] = {
      {"single word", Document{{"$search", "coffee"}}, {1, 2, 7}},
      {"any of the words", Document{{"$search", "bake coffee cake"}}, {1, 2, 3, 4, 7}},
      {"a phrase", Document{{"$search", "\"coffee shop\""}}, {2}},
      {"a negated term", Document{{"$search", "coffee -shop"}}, {1, 7}},
      {"another language", Document{{"$search", "leche"}, {"$language", "es"}}, {5, 8}},
      {"case and diacritic insensitive", Document{{"$search", "сырники CAFÉS"}}, {5, 6, 8}},
      {"case sensitive", Document{{"$search", "Coffee"}, {"$caseSensitive", true}}, {2}},
      {"case sensitive phrase", Document{{"$search", "\"Café Con Leche\""}, {"$caseSensitive", true}}, {5}},
      {"case sensitive negated term", Document{{"$search", "Coffee -shop"}, {"$caseSensitive", true}}, {2}},
      {"diacritic sensitive", Document{{"$search", "CAFÉ"}, {"$diacriticSensitive", true}}, {5}},
      {"diacritic sensitive negated term",
       Document{{"$search", "leches -cafés"}, {"$diacriticSensitive", true}},
       {8}},
      {"only stop words", Document{{"$search", "and the"}}, {}},
      {"only a negation", Document{{"$search", "-coffee"}}, {}},
      {"no such word", Document{{"$search", "tea"}}, {}},
      {"a negated phrase", Document{{"$search", "coffee -\"coffee shop\""}}, {1, 7}},
      {"hyphenated words are split", Document{{"$search", "con-leche"}}, {5, 8}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Ids(coll_->Find(Text(c.text))), c.ids) << c.name;
  }
  // With other predicates.
  EXPECT_EQ(Ids(coll_->Find(Document{{"$text", Document{{"$search", "coffee"}}}, {"author", "efg"}})),
            (std::set<int>{2, 7}));
  EXPECT_EQ(Ids(coll_->Find(Document{{"$and", Array{Text(Document{{"$search", "coffee"}}),
                                                    Document{{"views", Document{{"$gt", 20}}}}}}})),
            (std::set<int>{1}));
  EXPECT_EQ(coll_->CountDocuments(Text(Document{{"$search", "coffee"}})), 3);
}

TEST_F(TextSearchTest, TextInAnOrWhoseOtherBranchesAreIndexed) {
  LoadArticles(*coll_);
  Document either{{"$or", Array{Text(Document{{"$search", "coffee"}}), Document{{"author", "abc"}}}}};
  // MongoDB plans $text under $or only when every other branch has an index (291).
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(either).ToVector(); }), 291);
  coll_->CreateIndex(Document{{"author", 1}});
  EXPECT_EQ(Ids(coll_->Find(either)), (std::set<int>{1, 2, 3, 5, 7}));
  // With more predicates beside the $or, and a negation inside the text branch.
  Document narrowed{{"$or", Array{Text(Document{{"$search", "coffee -shop"}}), Document{{"author", "abc"}}}},
                    {"views", Document{{"$gte", 50}}}};
  EXPECT_EQ(Ids(coll_->Find(narrowed)), (std::set<int>{1, 3, 5}));
  Document plan = coll_->Explain(mm::ExplainVerbosity::kQueryPlanner).Find(either);
  EXPECT_NE(plan.ToJson().find("TEXT_MATCH"), std::string::npos);
  EXPECT_NE(plan.ToJson().find("\"OR\""), std::string::npos);
}

// More matches than TEXT_OR reads in one batch: every document once, with its own score
// (the scores of the manual's example: a field that is the term alone 1, one term of two
// 0.75), the rest of the filter applied to each batch.
TEST_F(TextSearchTest, ManyMatchesComeBackEachOnceWithTheirScores) {
  std::vector<Document> docs;
  for (int i = 0; i < 700; ++i) {
    docs.push_back(Document{{"_id", i}, {"subject", i % 2 == 0 ? "coffee" : "coffee shopping"}, {"views", i}});
  }
  coll_->InsertMany(docs);
  coll_->CreateIndex(Document{{"subject", "text"}});
  mm::FindOptions score;
  score.projection = Document{{"score", Document{{"$meta", "textScore"}}}};
  for (int above : {-1, 349}) {
    auto found = coll_->Find(Document{{"$text", Document{{"$search", "coffee"}}}, {"views", Document{{"$gt", above}}}},
                             score)
                     .ToVector();
    std::set<int> ids;
    for (const Document& d : found) {
      int id = d.Get("_id").AsInt32();
      EXPECT_TRUE(ids.insert(id).second) << id;
      EXPECT_GT(id, above);
      EXPECT_DOUBLE_EQ(d.GetDouble("score"), id % 2 == 0 ? 1.0 : 0.75) << id;
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(699 - above)) << above;
  }
}

TEST_F(TextSearchTest, ScoresAsTheManualShowsThem) {
  LoadArticles(*coll_);
  // "Baking a cake": two terms (a is a stop word), cake once: 0.5 * 1/2 + 0.5.
  mm::FindOptions score;
  score.projection = Document{{"score", Document{{"$meta", "textScore"}}}};
  auto cake = coll_->Find(Text(Document{{"$search", "cake"}}), score).ToVector();
  ASSERT_EQ(cake.size(), 1u);
  EXPECT_EQ(cake[0].Get("_id").AsInt32(), 3);
  EXPECT_DOUBLE_EQ(cake[0].GetDouble("score"), 0.75);
  // The top two for "coffee": _id 1 (the whole field, score 1), then one of 0.75.
  mm::FindOptions top = score;
  top.sort = Document{{"score", Document{{"$meta", "textScore"}}}};
  top.limit = 2;
  auto best = coll_->Find(Text(Document{{"$search", "coffee"}}), top).ToVector();
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].Get("_id").AsInt32(), 1);
  EXPECT_DOUBLE_EQ(best[0].GetDouble("score"), 1.0);
  EXPECT_DOUBLE_EQ(best[1].GetDouble("score"), 0.75);
  // A term that is the whole string gets a tenth more: "baking" stems to "bake" (no), but
  // a field "cake" is exactly its term.
  coll_->InsertOne(Document{{"_id", 9}, {"subject", "cake"}});
  auto exact = coll_->Find(Document{{"$text", Document{{"$search", "cake"}}}, {"_id", 9}}, score).ToVector();
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_DOUBLE_EQ(exact[0].GetDouble("score"), 1.1);
  // Repeats count 1, 1/2, 1/4: "cake cake cake" is 1.75 * (0.5 * 3/3 + 0.5).
  coll_->InsertOne(Document{{"_id", 10}, {"subject", "cake cake cake"}});
  auto repeated = coll_->Find(Document{{"$text", Document{{"$search", "cake"}}}, {"_id", 10}}, score).ToVector();
  ASSERT_EQ(repeated.size(), 1u);
  EXPECT_DOUBLE_EQ(repeated[0].GetDouble("score"), 1.75);
  // Several terms add up.
  auto both = coll_->Find(Document{{"$text", Document{{"$search", "coffee shopping"}}}, {"_id", 2}}, score).ToVector();
  ASSERT_EQ(both.size(), 1u);
  EXPECT_DOUBLE_EQ(both[0].GetDouble("score"), 1.5);
}

TEST_F(TextSearchTest, AggregationSortsAndProjectsTheScore) {
  // The manual's "Text Search in the Aggregation Pipeline" data.
  coll_->InsertMany({Document{{"_id", 1}, {"title", "cakes and ale"}}, Document{{"_id", 2}, {"title", "more cakes"}},
                     Document{{"_id", 3}, {"title", "bread"}}, Document{{"_id", 4}, {"title", "some cakes"}},
                     Document{{"_id", 5}, {"title", "two cakes to go"}}, Document{{"_id", 6}, {"title", "pie"}}});
  coll_->CreateIndex(Document{{"title", "text"}});
  auto sorted = coll_->Aggregate({Document{{"$match", Text(Document{{"$search", "cake"}})}},
                                  Document{{"$sort", Document{{"score", Document{{"$meta", "textScore"}}}}}},
                                  Document{{"$project", Document{{"score", Document{{"$meta", "textScore"}}}}}}})
                    .ToVector();
  ASSERT_EQ(sorted.size(), 4u);
  // "more" and "some" are stop words: those titles are one term each.
  std::set<int> first_two{sorted[0].Get("_id").AsInt32(), sorted[1].Get("_id").AsInt32()};
  EXPECT_EQ(first_two, (std::set<int>{2, 4}));
  EXPECT_DOUBLE_EQ(sorted[0].GetDouble("score"), 1.0);
  EXPECT_EQ(sorted[2].Get("_id").AsInt32(), 1);
  EXPECT_DOUBLE_EQ(sorted[2].GetDouble("score"), 0.75);
  EXPECT_EQ(sorted[3].Get("_id").AsInt32(), 5);
  EXPECT_NEAR(sorted[3].GetDouble("score"), 0.5 / 3 + 0.5, 1e-12);
  // $text only in the first stage's $match (17313).
  EXPECT_EQ(ErrorCodeOf([&] {
              coll_->Aggregate({Document{{"$match", Document{{"title", "pie"}}}},
                                Document{{"$match", Text(Document{{"$search", "cake"}})}}})
                  .ToVector();
            }),
            17313);
}

TEST_F(TextSearchTest, IndexOptionsWeightsLanguagesAndCompoundPrefixes) {
  mm::IndexOptions weighted;
  weighted.name = "TextIndex";
  weighted.weights = Document{{"content", 10}, {"keywords", 5}};
  coll_->CreateIndex(Document{{"content", "text"}, {"keywords", "text"}, {"about", "text"}}, weighted);
  Document stored;
  for (const Document& ix : coll_->ListIndexes()) {
    if (ix.GetString("name") == "TextIndex") stored = ix;
  }
  EXPECT_EQ(stored.GetDocument("key").ToJson(), Document({{"_fts", "text"}, {"_ftsx", 1}}).ToJson());
  EXPECT_EQ(stored.GetDocument("weights").ToJson(),
            Document({{"about", 1}, {"content", 10}, {"keywords", 5}}).ToJson());
  EXPECT_EQ(stored.GetString("default_language"), "english");
  EXPECT_EQ(stored.GetString("language_override"), "language");
  EXPECT_EQ(stored.GetInt32("textIndexVersion"), 3);
  coll_->InsertMany({Document{{"_id", 1}, {"content", "This morning I had a cup of coffee."}, {"about", "beverage"},
                              {"keywords", Array{"coffee"}}},
                     Document{{"_id", 2}, {"content", "Who likes chocolate ice cream for dessert?"}, {"about", "food"},
                              {"keywords", Array{"poll"}}},
                     Document{{"_id", 3}, {"content", "My favorite flavors are strawberry and coffee"},
                              {"about", "ice cream"}, {"keywords", Array{"food", "dessert"}}}});
  mm::FindOptions score;
  score.projection = Document{{"score", Document{{"$meta", "textScore"}}}};
  score.sort = Document{{"score", Document{{"$meta", "textScore"}}}};
  auto ranked = coll_->Find(Text(Document{{"$search", "coffee"}}), score).ToVector();
  ASSERT_EQ(ranked.size(), 2u);
  // _id 1 has coffee in content (weight 10) and keywords (weight 5).
  EXPECT_EQ(ranked[0].Get("_id").AsInt32(), 1);
  EXPECT_GT(ranked[0].GetDouble("score"), ranked[1].GetDouble("score"));
  // A second text index: 85 (IndexOptionsConflict), as MongoDB allows one per collection.
  EXPECT_EQ(ErrorCodeOf([&] { coll_->CreateIndex(Document{{"other", "text"}}); }), 85);

  // Documents naming their own language; a bad one is refused and nothing is stored.
  auto quotes = client_->Db()["quotes_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())];
  quotes.CreateIndex(Document{{"quote", "text"}});
  quotes.InsertMany({Document{{"_id", 1}, {"quote", "corriendo por el parque"}, {"language", "spanish"}},
                     Document{{"_id", 2}, {"quote", "running in the park"}},
                     Document{{"_id", 3}, {"quote", "el parque", }, {"language", "none"}}});
  EXPECT_EQ(Ids(quotes.Find(Text(Document{{"$search", "corriendo"}, {"$language", "spanish"}}))),
            (std::set<int>{1}));
  EXPECT_EQ(Ids(quotes.Find(Text(Document{{"$search", "runs"}}))), (std::set<int>{2}));
  // "none": no stop words, no stemming ("el" is kept).
  EXPECT_EQ(Ids(quotes.Find(Text(Document{{"$search", "el"}, {"$language", "none"}}))), (std::set<int>{3}));
  EXPECT_EQ(ErrorCodeOf([&] { quotes.InsertOne(Document{{"_id", 4}, {"quote", "x"}, {"language", "klingon"}}); }),
            17262);
  EXPECT_EQ(ErrorCodeOf([&] { quotes.InsertOne(Document{{"_id", 4}, {"quote", "x"}, {"language", 5}}); }), 17261);
  EXPECT_EQ(quotes.CountDocuments(), 3);
  EXPECT_EQ(ErrorCodeOf([&] { quotes.Find(Text(Document{{"$search", "x"}, {"$language", "klingon"}})).ToVector(); }),
            17262);

  // The manual's compound text index: equality on the prefix field is required.
  auto inventory =
      client_->Db()["inventory_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())];
  inventory.InsertMany({Document{{"_id", 1}, {"dept", "tech"}, {"description", "lime green computer"}},
                        Document{{"_id", 2}, {"dept", "tech"}, {"description", "wireless red mouse"}},
                        Document{{"_id", 3}, {"dept", "kitchen"}, {"description", "green placemat"}},
                        Document{{"_id", 4}, {"dept", "kitchen"}, {"description", "red peeler"}},
                        Document{{"_id", 5}, {"dept", "food"}, {"description", "green apple"}},
                        Document{{"_id", 6}, {"dept", "food"}, {"description", "red potato"}}});
  inventory.CreateIndex(Document{{"dept", 1}, {"description", "text"}});
  EXPECT_EQ(Ids(inventory.Find(Document{{"dept", "kitchen"}, {"$text", Document{{"$search", "green"}}}})),
            (std::set<int>{3}));
  EXPECT_EQ(ErrorCodeOf([&] { inventory.Find(Text(Document{{"$search", "green"}})).ToVector(); }), 291);
  EXPECT_EQ(ErrorCodeOf([&] { inventory.InsertOne(Document{{"dept", Array{"a", "b"}}, {"description", "x"}}); }),
            16675);
}

TEST_F(TextSearchTest, ErrorsAsMongoDBGivesThem) {
  coll_->InsertOne(Document{{"_id", 1}, {"a", "word"}, {"arr", Array{Document{{"b", "word"}}}}});
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(Text(Document{{"$search", "word"}})).ToVector(); }), 27);
  coll_->CreateIndex(Document{{"a", "text"}});
  const std::pair<Document, int> cases[] = {
      {Text(Document{{"$search", 1}}), 14},
      {Text(Document{}), 14},
      {Document{{"$text", "word"}}, 14},
      {Text(Document{{"$search", "w"}, {"$caseSensitive", 1}}), 14},
      {Text(Document{{"$search", "w"}, {"$extra", 1}}), 2},
      {Document{{"$nor", Array{Text(Document{{"$search", "w"}})}}}, 2},
      {Document{{"arr", Document{{"$elemMatch", Text(Document{{"$search", "w"}})}}}}, 2},
      {Document{{"$and", Array{Text(Document{{"$search", "a"}}), Text(Document{{"$search", "b"}})}}}, 2},
      {Document{{"$or", Array{Text(Document{{"$search", "w"}}), Document{{"a", 1}}}}}, 291},
  };
  for (const auto& c : cases) {
    const Document& filter = c.first;
    EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(filter).ToVector(); }), c.second) << filter.ToJson();
  }
  // The score exists only for $text queries (40218).
  mm::FindOptions score;
  score.projection = Document{{"s", Document{{"$meta", "textScore"}}}};
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(Document{{"a", "word"}}, score).ToVector(); }), 40218);
  mm::FindOptions by_score;
  by_score.sort = Document{{"s", Document{{"$meta", "textScore"}}}};
  EXPECT_EQ(ErrorCodeOf([&] { coll_->Find(Document{}, by_score).ToVector(); }), 40218);
  EXPECT_EQ(ErrorCodeOf([&] {
              coll_->Aggregate({Document{{"$project", Document{{"s", Document{{"$meta", "textScore"}}}}}}}).ToVector();
            }),
            40218);
  EXPECT_EQ(coll_->Find(Text(Document{{"$search", "word"}}), score).ToVector().size(), 1u);
  struct BadIndex {
    Document keys;
    mm::IndexOptions options;
    int code;
  };
  mm::IndexOptions bad_weight;
  bad_weight.weights = Document{{"a", 100000}};
  mm::IndexOptions bad_language;
  bad_language.default_language = "klingon";
  mm::IndexOptions bad_override;
  bad_override.language_override = "$lang";
  auto other = client_->Db()["other_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())];
  const BadIndex bad[] = {
      {Document{{"a", "text"}, {"b", 1}, {"c", "text"}}, {}, 17389},
      {Document{{"a", "text"}, {"b", "hashed"}}, {}, 17273},
      {Document{{"_fts", "text"}, {"_ftsx", 2}}, {}, 17272},
      {Document{{"a", "text"}}, bad_weight, 16674},
      {Document{{"a", "text"}}, bad_language, 17264},
      {Document{{"a", "text"}}, bad_override, 17136},
  };
  for (const BadIndex& b : bad) {
    EXPECT_EQ(ErrorCodeOf([&] { other.CreateIndex(b.keys, b.options); }), b.code) << b.keys.ToJson();
  }
}

TEST_F(TextSearchTest, WildcardTextIndexAndWritesKeepItCurrent) {
  coll_->CreateIndex(Document{{"$**", "text"}});
  coll_->InsertMany({Document{{"_id", 1}, {"a", "apples"}, {"n", Document{{"deep", Array{"pears", 3}}}}},
                     Document{{"_id", 2}, {"b", "oranges"}}});
  EXPECT_EQ(Ids(coll_->Find(Text(Document{{"$search", "pear"}}))), (std::set<int>{1}));
  EXPECT_EQ(Ids(coll_->Find(Text(Document{{"$search", "orange apple"}}))), (std::set<int>{1, 2}));
  coll_->UpdateOne(Document{{"_id", 2}}, Document{{"$set", Document{{"b", "plums"}}}});
  EXPECT_EQ(Ids(coll_->Find(Text(Document{{"$search", "orange"}}))), (std::set<int>{}));
  EXPECT_EQ(Ids(coll_->Find(Text(Document{{"$search", "plum"}}))), (std::set<int>{2}));
  coll_->DeleteOne(Document{{"_id", 1}});
  EXPECT_EQ(Ids(coll_->Find(Text(Document{{"$search", "apple pear"}}))), (std::set<int>{}));
  // Updates and deletes find their documents through $text too.
  EXPECT_EQ(coll_->UpdateMany(Text(Document{{"$search", "plum"}}), Document{{"$set", Document{{"x", 1}}}})
                .modified_count,
            1);
  EXPECT_EQ(coll_->DeleteMany(Text(Document{{"$search", "plum"}})).deleted_count, 1);
  EXPECT_EQ(coll_->CountDocuments(), 0);
}

TEST_F(TextSearchTest, ExplainShowsTextMatchOverTextOr) {
  LoadArticles(*coll_);
  Document explain = coll_->Explain(mm::ExplainVerbosity::kExecutionStats)
                         .Find(Text(Document{{"$search", "coffee -shop \"coffee and\""}}));
  const Document& plan = explain.GetDocument("queryPlanner").GetDocument("winningPlan");
  EXPECT_EQ(plan.GetString("stage"), "TEXT_MATCH");
  EXPECT_EQ(plan.GetString("indexName"), "subject_text");
  EXPECT_EQ(plan.GetInt32("textIndexVersion"), 3);
  const Document& parsed = plan.GetDocument("parsedTextQuery");
  EXPECT_EQ(Value(parsed.GetArray("terms")).ToJson(), Value(Array{"coffe"}).ToJson());
  EXPECT_EQ(Value(parsed.GetArray("negatedTerms")).ToJson(), Value(Array{"shop"}).ToJson());
  EXPECT_EQ(Value(parsed.GetArray("phrases")).ToJson(), Value(Array{"coffee and"}).ToJson());
  const Document& text_or = plan.GetDocument("inputStage");
  EXPECT_EQ(text_or.GetString("stage"), "TEXT_OR");
  EXPECT_EQ(text_or.GetDocument("inputStage").GetString("stage"), "IXSCAN");
  EXPECT_EQ(explain.GetDocument("executionStats").Get("nReturned").ToInt64(), 1);
}

}  // namespace
