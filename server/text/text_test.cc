#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "text/language.h"
#include "text/text_index.h"
#include "text/text_query.h"
#include "text/tokenizer.h"

namespace micromongo::text {
namespace {

std::vector<std::string> Terms(const char* language, std::string_view text, unsigned options) {
  const Language* lang = FindLanguage(language);
  EXPECT_NE(lang, nullptr) << language;
  Tokenizer t(*lang);
  t.Reset(text, options);
  std::vector<std::string> out;
  std::string term;
  while (t.Next(&term)) out.push_back(term);
  return out;
}

TEST(LanguageTest, NamesAndCodesOfMongoDBsLanguages) {
  for (const char* name : {"danish", "dutch", "english", "finnish", "french", "german", "hungarian", "italian",
                           "norwegian", "portuguese", "romanian", "russian", "spanish", "swedish", "turkish", "none",
                           "da", "nl", "en", "fi", "fr", "de", "hu", "it", "nb", "pt", "ro", "ru", "es", "sv", "tr",
                           "English", "SPANISH"}) {
    EXPECT_NE(FindLanguage(name), nullptr) << name;
  }
  for (const char* name : {"klingon", "", "eng", "chinese", "arabic"}) EXPECT_EQ(FindLanguage(name), nullptr) << name;
  EXPECT_EQ(FindLanguage("es"), FindLanguage("spanish"));
  EXPECT_TRUE(FindLanguage("english")->stop_words.contains("the"));
  EXPECT_TRUE(FindLanguage("french")->stop_words.contains("être"));
  EXPECT_TRUE(FindLanguage("german")->stop_words.contains("über"));
  EXPECT_TRUE(FindLanguage("romanian")->stop_words.empty());
  EXPECT_TRUE(FindLanguage("none")->stop_words.empty());
}

TEST(TokenizerTest, SplitsFoldsStemsAndDropsStopWords) {
  struct Case {
    const char* language;
    const char* text;
    unsigned options;
    std::vector<std::string> terms;
  };
  const Case cases[] = {
      // Punctuation, dashes and quotes split words; an English apostrophe does not.
      {"english", "Hello, World! Don't stop-words.", kNoOptions, {"hello", "world", "don't", "stop", "word"}},
      {"english", "Hello, World! Don't stop-words.", kFilterStopWords, {"hello", "world", "stop", "word"}},
      {"english", "running runs ran", kNoOptions, {"run", "run", "ran"}},
      {"english", "under_score tab\tnew\nline", kNoOptions, {"under_scor", "tab", "new", "line"}},
      // Elsewhere an apostrophe splits ("l" is a French stop word).
      {"french", "l'homme", kFilterStopWords, {"homm"}},
      // Diacritics go after stemming unless diacritic sensitive; case goes unless sensitive.
      {"english", "Café CAFÉS", kNoOptions, {"cafe", "cafe"}},
      {"english", "Café CAFÉS", kDiacriticSensitive, {"café", "café"}},
      {"english", "Café Coffee", kCaseSensitive, {"Cafe", "Coffe"}},
      {"russian", "Сырники", kNoOptions, {"сырник"}},
      {"spanish", "corriendo por el parque", kFilterStopWords, {"corr", "parqu"}},
      {"german", "Häuser über", kFilterStopWords, {"haus"}},
      // Turkish casing: I lowercases to a dotless ı.
      {"turkish", "ISTANBUL", kNoOptions, {"ıstanbul"}},
      // No stemming or stop words.
      {"none", "the running Cafés", kFilterStopWords, {"the", "running", "cafes"}},
      {"english", "", kNoOptions, {}},
      {"english", " ,.;!? ", kNoOptions, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Terms(c.language, c.text, c.options), c.terms) << c.language << ": " << c.text;
  }
}

TEST(TokenizerTest, EveryLanguageDropsItsStopWordsAndStemsInflections) {
  struct Case {
    const char* language;
    const char* stop_word;             // from MongoDB's list for the language
    const char* a;                     // two inflections of one word ...
    const char* b;                     // ... that share a stem
  };
  const Case cases[] = {
      {"danish", "og", "hus", "huse"},
      {"dutch", "het", "boeken", "boek"},
      {"english", "the", "connections", "connected"},
      {"finnish", "ja", "talossa", "talo"},
      {"french", "les", "continuation", "continuait"},
      {"german", "und", "häuser", "haus"},
      {"hungarian", "és", "házak", "ház"},
      {"italian", "della", "abbandonata", "abbandonato"},
      {"norwegian", "og", "hestene", "hest"},
      {"portuguese", "não", "livros", "livro"},
      {"romanian", nullptr, "cărțile", "cărți"},
      {"russian", "и", "книги", "книга"},
      {"spanish", "los", "corriendo", "correr"},
      {"swedish", "och", "husen", "hus"},
      {"turkish", "ve", "evler", "ev"},
  };
  for (const Case& c : cases) {
    if (c.stop_word != nullptr) {
      EXPECT_EQ(Terms(c.language, c.stop_word, kFilterStopWords), std::vector<std::string>{}) << c.language;
      EXPECT_EQ(Terms(c.language, c.stop_word, kNoOptions).size(), 1u) << c.language;
    }
    EXPECT_EQ(Terms(c.language, c.a, kNoOptions), Terms(c.language, c.b, kNoOptions)) << c.language;
  }
}

TEST(TokenizerTest, FoldForPhrases) {
  EXPECT_EQ(Fold("Café Con LECHE", false, false, false), "cafe con leche");
  EXPECT_EQ(Fold("Café Con LECHE", true, false, false), "Cafe Con LECHE");
  EXPECT_EQ(Fold("Café Con LECHE", false, true, false), "café con leche");
}

std::shared_ptr<const TextIndexSpec> IndexOf(const char* keys, const char* options = "{}") {
  auto k = bson::JsonToBson(keys);
  auto o = bson::JsonToBson(options);
  auto def = BuildTextIndex(bson::DocView(*k), bson::DocView(*o));
  EXPECT_TRUE(def.ok()) << def.status();
  bson::Builder spec;
  spec.AppendDocument("key", bson::DocView(def->key_pattern));
  for (const bson::ElementView& e : bson::DocView(def->options)) spec.AppendView(e.key, e.value);
  std::string bytes = std::move(spec).Finish();
  auto parsed = TextIndexSpec::Parse(bson::DocView(bytes));
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return *parsed;
}

TEST(TextIndexSpecTest, ScoresAsMongoDBDoes) {
  auto spec = IndexOf(R"({"t": "text", "u": "text"})", R"({"weights": {"u": 3}})");
  struct Case {
    const char* doc;
    const char* term;
    double score;
  };
  const Case cases[] = {
      {R"({"t": "coffee"})", "coffe", 1.0},            // the only term
      {R"({"t": "cake"})", "cake", 1.1},               // the whole string is the term
      {R"({"t": "Baking a cake"})", "cake", 0.75},     // one of two terms ("a" is a stop word)
      {R"({"t": "cake cake cake"})", "cake", 1.75},    // repeats count 1, 1/2, 1/4
      {R"({"t": "two cakes to go"})", "cake", 0.5 / 3 + 0.5},
      {R"({"u": "cake"})", "cake", 3.3},               // weight 3
      {R"({"t": "cake", "u": "cake"})", "cake", 4.4},  // fields add up
      {R"({"t": ["cake", "pie"]})", "cake", 1.1},      // array elements are strings of their own
      {R"({"t": {"x": "cake"}})", "cake", 0},          // t.x is not indexed
  };
  for (const Case& c : cases) {
    auto doc = bson::JsonToBson(c.doc);
    absl::flat_hash_map<std::string, double> scores;
    ASSERT_TRUE(spec->ScoreDocument(bson::DocView(*doc), &scores).ok()) << c.doc;
    double got = scores.contains(c.term) ? scores[c.term] : 0;
    EXPECT_NEAR(got, c.score, 1e-12) << c.doc;
  }
  auto bad = bson::JsonToBson(R"({"t": "x", "language": "klingon"})");
  absl::flat_hash_map<std::string, double> scores;
  EXPECT_EQ(MongoCodeOf(spec->ScoreDocument(bson::DocView(*bad), &scores)), 17262);
  auto nested = bson::JsonToBson(R"({"t": "corriendo", "language": "es"})");
  scores.clear();
  ASSERT_TRUE(spec->ScoreDocument(bson::DocView(*nested), &scores).ok());
  EXPECT_TRUE(scores.contains("corr"));
}

TEST(TextQueryTest, ParsesTermsNegationsAndPhrases) {
  auto spec = IndexOf(R"({"t": "text"})");
  struct Case {
    const char* search;
    const char* explain;  // parsedTextQuery
  };
  const Case cases[] = {
      {"coffee -shop", R"({"terms":["coffe"],"negatedTerms":["shop"],"phrases":[],"negatedPhrases":[]})"},
      {"\"coffee shop\" tea",
       R"({"terms":["coffe","shop","tea"],"negatedTerms":[],"phrases":["coffee shop"],"negatedPhrases":[]})"},
      {"-\"coffee shop\"", R"({"terms":[],"negatedTerms":[],"phrases":[],"negatedPhrases":["coffee shop"]})"},
      {"- foo", R"({"terms":["foo"],"negatedTerms":[],"phrases":[],"negatedPhrases":[]})"},
      {"-foo-bar", R"({"terms":[],"negatedTerms":["bar","foo"],"phrases":[],"negatedPhrases":[]})"},
      {"x-y", R"({"terms":["x","y"],"negatedTerms":[],"phrases":[],"negatedPhrases":[]})"},
      {"the and of", R"({"terms":[],"negatedTerms":[],"phrases":[],"negatedPhrases":[]})"},
      {"", R"({"terms":[],"negatedTerms":[],"phrases":[],"negatedPhrases":[]})"},
  };
  for (const Case& c : cases) {
    auto q = TextQuery::Parse(c.search, "", false, false, *spec);
    ASSERT_TRUE(q.ok()) << c.search;
    EXPECT_EQ((*q)->ToExplain().ToJson(), bson::BsonToJson(*bson::JsonToBson(c.explain))) << c.search;
  }
  EXPECT_EQ(MongoCodeOf(TextQuery::Parse("x", "klingon", false, false, *spec).status()), 17262);
}

TEST(TextQueryTest, MatchesPhrasesNegationsAndSensitivity) {
  auto spec = IndexOf(R"({"t": "text"})");
  struct Case {
    const char* search;
    bool case_sensitive, diacritic_sensitive;
    const char* doc;
    bool matches;
  };
  const Case cases[] = {
      {"coffee", false, false, R"({"t": "Coffee Shopping"})", true},
      {"coffee -shop", false, false, R"({"t": "Coffee Shopping"})", false},
      {"\"coffee shop\"", false, false, R"({"t": "Coffee Shopping"})", true},
      {"\"shop coffee\"", false, false, R"({"t": "Coffee Shopping"})", false},
      {"coffee -\"coffee shop\"", false, false, R"({"t": "coffee and cream"})", true},
      {"Coffee", true, false, R"({"t": "coffee"})", false},
      {"Coffee", true, false, R"({"t": "Coffee"})", true},
      {"CAFÉ", false, true, R"({"t": "Cafe con Leche"})", false},
      {"CAFÉ", false, true, R"({"t": "Café Con Leche"})", true},
      {"tea", false, false, R"({"t": "coffee"})", false},
      {"coffee", false, false, R"({"other": "coffee"})", false},
  };
  for (const Case& c : cases) {
    auto q = TextQuery::Parse(c.search, "", c.case_sensitive, c.diacritic_sensitive, *spec);
    ASSERT_TRUE(q.ok());
    auto doc = bson::JsonToBson(c.doc);
    auto m = (*q)->Matches(bson::DocView(*doc), *spec, /*from_index=*/false);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(*m, c.matches) << c.search << " on " << c.doc;
  }
}

}  // namespace
}  // namespace micromongo::text
