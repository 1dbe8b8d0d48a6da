// Unit tests of the tool's parts that need no worker: flags, input readers, CSV columns
// and their types (mongoimport's rules), progress text, dump metadata.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "columns.h"
#include "dump_files.h"
#include "flags.h"
#include "input.h"
#include "progress.h"

namespace micromongo::tools {
namespace {

// A FILE holding `text`, closed at scope end.
struct TextFile {
  explicit TextFile(const std::string& text) : f(std::tmpfile()) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::rewind(f);
  }
  ~TextFile() { std::fclose(f); }
  std::FILE* f;
};

TEST(FlagsTest, ValuesBooleansAndShortNames) {
  std::vector<FlagSpec> specs = {{"db", true, "", "d"}, {"drop", false, ""}, {"limit", true, ""}};
  Flags f = Flags::Parse({"-d", "shop", "--drop", "--limit=5"}, specs);
  EXPECT_EQ(f.Get("db"), "shop");
  EXPECT_TRUE(f.Has("drop"));
  EXPECT_EQ(f.GetInt("limit"), 5);
  EXPECT_FALSE(Flags::Parse({"--drop=false"}, specs).Has("drop"));
  EXPECT_THROW(Flags::Parse({"--nope"}, specs), UsageError);
  EXPECT_THROW(Flags::Parse({"--db"}, specs), UsageError);
  EXPECT_THROW(Flags::Parse({"stray"}, specs), UsageError);
  EXPECT_THROW(Flags::Parse({"--drop=yes"}, specs), UsageError);
  EXPECT_THROW(Flags::Parse({"--limit", "-1"}, specs).GetInt("limit"), UsageError);
  EXPECT_EQ(Flags::Parse({"--db", " a, b.c ,,d"}, specs).GetList("db"),
            (std::vector<std::string>{"a", "b.c", "d"}));
}

std::vector<std::pair<int64_t, std::string>> ReadJson(const std::string& text, bool array) {
  TextFile file(text);
  JsonDocumentReader reader(file.f, array);
  std::vector<std::pair<int64_t, std::string>> out;
  std::string doc;
  int64_t line = 0;
  while (true) {
    try {
      if (!reader.Next(&doc, &line)) break;
      out.emplace_back(line, doc);
    } catch (const InputError& e) {
      out.emplace_back(e.line(), std::string("error: ") + e.what());
    }
  }
  return out;
}

TEST(JsonDocumentReaderTest, LinesPrettyPrintedAndArrays) {
  using R = std::vector<std::pair<int64_t, std::string>>;
  EXPECT_EQ(ReadJson("{\"a\":1}\n{\"a\":\"}{\\\"\"}\n\n{\"b\":[1,{\"c\":2}]}", false),
            (R{{1, "{\"a\":1}"}, {2, "{\"a\":\"}{\\\"\"}"}, {4, "{\"b\":[1,{\"c\":2}]}"}}));
  EXPECT_EQ(ReadJson("{\n  \"a\": 1\n}\n{\"b\": 2}\n", false),
            (R{{1, "{\n  \"a\": 1\n}"}, {4, "{\"b\": 2}"}}));
  EXPECT_EQ(ReadJson("[\n {\"a\":1},\n {\"a\":2}\n]\n", true), (R{{2, "{\"a\":1}"}, {3, "{\"a\":2}"}}));
  EXPECT_EQ(ReadJson("[]", true), R{});
  EXPECT_EQ(ReadJson("{\"a\":1}\nnot json\n{\"a\":3}", false),
            (R{{1, "{\"a\":1}"}, {2, "error: expected a document ('{')"}, {3, "{\"a\":3}"}}));
  EXPECT_EQ(ReadJson("{\"a\":1}\n{\"a\":", false),
            (R{{1, "{\"a\":1}"}, {2, "error: the document that starts here is not closed"}}));
  EXPECT_EQ(ReadJson("[{\"a\":1}", true),
            (R{{1, "{\"a\":1}"}, {1, "error: the JSON array is not closed with ']'"}}));
  EXPECT_EQ(ReadJson("{\"a\":1}", true), (R{{1, "error: expected a JSON array ('[') with --jsonArray"}}));
}

std::vector<std::vector<std::string>> ReadCsv(const std::string& text, bool tsv) {
  TextFile file(text);
  CsvReader reader(file.f, tsv);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> record;
  int64_t line = 0;
  while (reader.Next(&record, &line)) out.push_back(record);
  return out;
}

TEST(CsvReaderTest, QuotesDelimitersAndLineBreaks) {
  using R = std::vector<std::vector<std::string>>;
  EXPECT_EQ(ReadCsv("a,b,c\n1,\"x, \"\"y\"\"\",\r\n\"two\nlines\",,z", false),
            (R{{"a", "b", "c"}, {"1", "x, \"y\"", ""}, {"two\nlines", "", "z"}}));
  EXPECT_EQ(ReadCsv("a\t\"b\"\tc\n", true), (R{{"a", "\"b\"", "c"}}));
  TextFile bad("\"open,1\n");
  CsvReader reader(bad.f, false);
  std::vector<std::string> record;
  int64_t line = 0;
  EXPECT_THROW(reader.Next(&record, &line), InputError);
  TextFile stray("\"a\"b,1\n");
  CsvReader reader2(stray.f, false);
  EXPECT_THROW(reader2.Next(&record, &line), InputError);
}

TEST(ColumnsTest, AutoTypesAsMongoimport) {
  EXPECT_EQ(AutoValue("42"), Value(int32_t{42}));
  EXPECT_EQ(AutoValue("-2147483649"), Value(int64_t{-2147483649LL}));
  EXPECT_EQ(AutoValue("1.5"), Value(1.5));
  EXPECT_EQ(AutoValue("1e3"), Value(1000.0));
  EXPECT_EQ(AutoValue("+7"), Value(int32_t{7}));
  EXPECT_EQ(AutoValue("-Inf").type(), BsonType::kDouble);
  EXPECT_EQ(AutoValue("12abc"), Value("12abc"));
  EXPECT_EQ(AutoValue(""), Value(""));
  EXPECT_EQ(AutoValue("99999999999999999999"), Value(1e20));
}

TEST(ColumnsTest, TypedColumns) {
  auto cols = ParseColumns({"name.string()", "age.int32()", "big.int64()", "score.double()",
                            "price.decimal()", "ok.boolean()", "raw.binary(hex)", "b64.binary(base64)",
                            "when.date(2006-01-02 15:04:05)", "ms.date_ms(yyyy-MM-dd HH:mm:ss.fff)",
                            "ora.date_oracle(DD-MON-YYYY HH24:MI:SS)",
                            "go.date_go(Jan _2 2006 3:04PM -0700)", "x.auto()"},
                           true);
  ASSERT_EQ(cols.size(), 13u);
  EXPECT_EQ(ConvertValue(cols[0], "007"), Value("007"));
  EXPECT_EQ(ConvertValue(cols[1], "-12"), Value(int32_t{-12}));
  EXPECT_THROW(ConvertValue(cols[1], "3000000000"), ColumnError);
  EXPECT_EQ(ConvertValue(cols[2], "3000000000"), Value(int64_t{3000000000LL}));
  EXPECT_EQ(ConvertValue(cols[3], "2"), Value(2.0));
  EXPECT_EQ(ConvertValue(cols[4], "1.10"), Value(Decimal128::FromString("1.10")));
  EXPECT_EQ(ConvertValue(cols[5], "T"), Value(true));
  EXPECT_EQ(ConvertValue(cols[5], "0"), Value(false));
  EXPECT_THROW(ConvertValue(cols[5], "yes"), ColumnError);
  EXPECT_EQ(ConvertValue(cols[6], "00ff"), Value(Binary{0, std::string("\x00\xff", 2)}));
  EXPECT_EQ(ConvertValue(cols[7], "aGk="), Value(Binary{0, "hi"}));
  // 2014-01-02 03:04:05 UTC = 1388631845 s.
  EXPECT_EQ(ConvertValue(cols[8], "2014-01-02 03:04:05"), Value(DateTime{1388631845000}));
  EXPECT_EQ(ConvertValue(cols[9], "2014-01-02 03:04:05.250"), Value(DateTime{1388631845250}));
  EXPECT_EQ(ConvertValue(cols[10], "02-JAN-2014 03:04:05"), Value(DateTime{1388631845000}));
  EXPECT_EQ(ConvertValue(cols[11], "Jan  2 2014 4:04AM +0100"), Value(DateTime{1388631840000}));
  EXPECT_THROW(ConvertValue(cols[8], "2014-02-30 00:00:00"), ColumnError);
  EXPECT_THROW(ConvertValue(cols[8], "2014-01-02"), ColumnError);
  EXPECT_EQ(ConvertValue(cols[12], "5"), Value(int32_t{5}));
  EXPECT_THROW(ParseColumns({"a.int32"}, true), ColumnError);
  EXPECT_THROW(ParseColumns({"a.float()"}, true), ColumnError);
  EXPECT_THROW(ParseColumns({"a.binary()"}, true), ColumnError);
  EXPECT_THROW(ParseColumns({"a.binary(rot13)"}, true), ColumnError);
  EXPECT_THROW(ParseColumns({"a", "a.b"}, false), ColumnError);
  EXPECT_THROW(ParseColumns({"a", "a"}, false), ColumnError);
  EXPECT_THROW(ParseColumns({"a..b"}, false), ColumnError);
}

TEST(ColumnsTest, RowsNestBlanksAndGrace) {
  auto cols = ParseColumns({"_id", "address.city", "address.zip", "n"}, false);
  Document d;
  ASSERT_TRUE(BuildRow(cols, {"1", "Oslo", "", "x", "extra"}, false, ParseGrace::kStop, &d));
  EXPECT_EQ(d, (Document{{"_id", 1}, {"address", Document{{"city", "Oslo"}, {"zip", ""}}},
                         {"n", "x"}, {"field4", "extra"}}));
  ASSERT_TRUE(BuildRow(cols, {"1", "Oslo", "", ""}, true, ParseGrace::kStop, &d));
  EXPECT_EQ(d, (Document{{"_id", 1}, {"address", Document{{"city", "Oslo"}}}}));
  auto typed = ParseColumns({"a.int32()", "b.string()"}, true);
  EXPECT_THROW(BuildRow(typed, {"x", "y"}, false, ParseGrace::kStop, &d), ColumnError);
  EXPECT_FALSE(BuildRow(typed, {"x", "y"}, false, ParseGrace::kSkipRow, &d));
  ASSERT_TRUE(BuildRow(typed, {"x", "y"}, false, ParseGrace::kSkipField, &d));
  EXPECT_EQ(d, (Document{{"b", "y"}}));
  ASSERT_TRUE(BuildRow(typed, {"1.5", "y"}, false, ParseGrace::kAutoCast, &d));
  EXPECT_EQ(d, (Document{{"a", 1.5}, {"b", "y"}}));
}

TEST(ColumnsTest, LookupPath) {
  Document d{{"a", Document{{"b", Document{{"c", 3}}}}}, {"x", Array{1}}};
  ASSERT_NE(LookupPath(d, "a.b.c"), nullptr);
  EXPECT_EQ(*LookupPath(d, "a.b.c"), Value(3));
  EXPECT_EQ(LookupPath(d, "a.c"), nullptr);
  EXPECT_EQ(LookupPath(d, "x.0"), nullptr);
}

TEST(ProgressTest, Text) {
  EXPECT_EQ(Progress::Count(1234567), "1,234,567");
  EXPECT_EQ(Progress::Count(12), "12");
  EXPECT_EQ(Progress::Bytes(512), "512 B");
  EXPECT_EQ(Progress::Bytes(3 << 20), "3.0 MiB");
  EXPECT_EQ(Progress::Duration(5), "5s");
  EXPECT_EQ(Progress::Duration(125), "2:05");
  EXPECT_EQ(Progress::Duration(3723), "1:02:03");
  Progress p("import t.c", -1, 1000, ProgressStyle::kNone);
  p.Update(100, 250);
  EXPECT_EQ(p.Line(2.0), "import t.c: 100 docs, 250 B (25.0%), 50 docs/s, ETA 6s");
}

TEST(DumpFilesTest, MetadataRoundTripAndIndexes) {
  CollectionMetadata m;
  m.name = "people";
  m.options = Document{{"validator", Document{{"age", Document{{"$gte", 0}}}}}};
  m.indexes = {Document{{"v", 2}, {"key", Document{{"_id", 1}}}, {"name", "_id_"}}};
  std::string json = MetadataJson(m);
  EXPECT_NE(json.find("\"$numberInt\""), std::string::npos);  // canonical, as mongodump
  CollectionMetadata back = ParseMetadata(json, "x");
  EXPECT_EQ(back.name, "people");
  EXPECT_FALSE(back.view);
  EXPECT_EQ(back.options, m.options);
  EXPECT_EQ(back.indexes, m.indexes);
  // mongodump's own output for a view.
  CollectionMetadata view = ParseMetadata(
      R"({"options":{"viewOn":"people","pipeline":[{"$match":{"a":{"$numberInt":"1"}}}]},"indexes":[],"uuid":"0123","collectionName":"v","type":"view"})",
      "v");
  EXPECT_TRUE(view.view);
  std::vector<std::string> ignored;
  CollectionOptions o = ToCollectionOptions(view.options, &ignored);
  EXPECT_EQ(o.view_on, "people");
  ASSERT_EQ(o.pipeline.size(), 1u);
  EXPECT_TRUE(ignored.empty());
  // mongodump's options of a capped collection (listCollections' capped, size, max).
  CollectionOptions capped = ToCollectionOptions(
      Document{{"capped", true}, {"size", 4096}, {"max", int64_t{10}}, {"validationLevel", "moderate"},
               {"storageEngine", Document{{"wiredTiger", Document{}}}}},
      &ignored);
  EXPECT_EQ(capped.capped, true);
  EXPECT_EQ(capped.capped_size, 4096);
  EXPECT_EQ(capped.capped_max, 10);
  EXPECT_EQ(capped.validation_level, "moderate");
  EXPECT_EQ(ignored, std::vector<std::string>{"storageEngine"});

  ignored.clear();
  IndexToCreate text = ToIndex(Document{{"v", 2},
                                        {"key", Document{{"store", 1}, {"_fts", "text"}, {"_ftsx", 1}}},
                                        {"name", "store_1_title_text_body_text"},
                                        {"weights", Document{{"body", 1}, {"title", 5}}},
                                        {"default_language", "english"},
                                        {"language_override", "language"},
                                        {"textIndexVersion", 3}},
                               &ignored);
  EXPECT_EQ(text.keys, (Document{{"store", 1}, {"body", "text"}, {"title", "text"}}));
  EXPECT_EQ(text.options.name, "store_1_title_text_body_text");
  EXPECT_TRUE(ignored.empty());
  IndexToCreate ttl = ToIndex(Document{{"v", 2}, {"key", Document{{"at", 1}}}, {"name", "at_1"},
                                       {"expireAfterSeconds", 60}, {"unique", true}, {"ns", "a.b"}},
                              &ignored);
  EXPECT_EQ(ttl.options.expire_after_seconds, 60);
  EXPECT_TRUE(ttl.options.unique);
  EXPECT_TRUE(ignored.empty());
}

}  // namespace
}  // namespace micromongo::tools
