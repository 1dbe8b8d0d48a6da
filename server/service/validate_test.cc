// ValidateCollection against damage made directly in storage: each case breaks the
// agreement between records, index entries, counts and multikey flags in one way and
// expects validate to report exactly that, as MongoDB's validate reports it.

#include "service/validate.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "document/builder.h"
#include "document/json.h"
#include "service/service_test_util.h"
#include "document/key_string.h"
#include "document/status.h"
#include "absl/strings/escaping.h"
#include "index/index_key.h"
#include "service/crud.h"
#include "service/indexes.h"
#include "storage/key_codec.h"

namespace micromongo::service {
namespace {

using testing_util::Bson;

using bson::DocView;
using bson::ValueView;

// A field of a validate result at a dotted path, as relaxed JSON; "" when absent.
std::string Field(const std::string& result, std::string_view path) {
  DocView doc(result);
  ValueView v;
  while (true) {
    size_t dot = path.find('.');
    if (!doc.Find(path.substr(0, dot), &v)) return "";
    if (dot == std::string_view::npos) break;
    if (!v.IsDocumentLike()) return "";
    doc = v.Doc();
    path.remove_prefix(dot + 1);
  }
  bson::Builder b;
  b.AppendView("v", v);
  std::string json = bson::BsonToJson(std::move(b).Finish());
  // {"v": X} -> X
  size_t begin = json.find(':') + 1, end = json.rfind('}');
  while (json[begin] == ' ') ++begin;
  while (end > begin && json[end - 1] == ' ') --end;
  return json.substr(begin, end - begin);
}

// `json` (a value) as Field shows it.
std::string Norm(std::string_view json) { return Field(Bson(StrCat("{\"v\": ", json, "}")), "v"); }

class ValidateTest : public ::testing::Test {
 public:  // the damage table's lambdas use the helpers
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mm-validate-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    auto engine = storage::Engine::Open({.data_dir = dir_});
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    for (std::string_view keys : {R"({"a": 1})", R"({"u": 1})", R"({"a": 1, "b": -1})"}) {
      std::string options = std::string(keys) == R"({"u": 1})" ? R"({"unique": true})" : "{}";
      ASSERT_TRUE(CreateIndex(engine_.get(), "db", "c", DocView(Bson(keys)), DocView(Bson(options))).ok());
    }
    docs_ = {
        Bson(R"({"_id": 1, "a": 5, "u": 1, "b": "x"})"),
        Bson(R"({"_id": 2, "a": [5, 6, [7]], "u": 2, "b": null})"),
        Bson(R"({"_id": 3, "u": 3, "b": {"$numberDecimal": "1.5"}})"),
        Bson(R"({"_id": 4, "a": {"b": [1]}, "u": 4})"),
    };
    auto inserted = Insert(engine_.get(), "db", "c", docs_, /*ordered=*/true);
    ASSERT_TRUE(inserted.ok()) << inserted.status();
    ASSERT_EQ(inserted->inserted_count, 4);
    auto db = engine_->GetDatabase("db", false);
    ASSERT_TRUE(db.ok() && *db != nullptr);
    db_ = *db;
  }
  void TearDown() override {
    db_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Validate(bool full = false) {
    auto r = ValidateCollection(engine_.get(), "db", "c", {.full = full});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::string();
  }
  const storage::IndexDef& Index(std::string_view name) {
    auto c = db_->FindCollection("c");
    for (const storage::IndexDef& def : c->indexes()) {
      if (def.name() == name) return def;
    }
    ADD_FAILURE() << "no index " << name;
    return c->indexes().front();
  }
  uint32_t CollId() { return db_->FindCollection("c")->id(); }
  // Commits raw changes, bypassing every rule of the write path.
  void Damage(const std::function<void(storage::WriteUnit*)>& f) {
    storage::WriteUnit unit(db_.get());
    f(&unit);
    ASSERT_TRUE(db_->Commit(&unit).ok());
  }
  // The entry keys and values `index` holds for `doc`.
  std::vector<std::pair<std::string, std::string>> EntriesFor(std::string_view index_name, const std::string& doc) {
    const storage::IndexDef& def = Index(index_name);
    auto spec = index::IndexSpec::Parse(DocView(def.spec));
    std::vector<index::IndexKey> keys;
    EXPECT_TRUE(spec->Keys(DocView(doc), &keys).ok());
    std::string id_key;
    bson::AppendKeyString(DocView(doc).begin()->value, &id_key);
    std::vector<std::pair<std::string, std::string>> entries;
    for (const index::IndexKey& k : keys) {
      std::string key = storage::IndexPrefix(CollId(), def.id) + k.encoded;
      if (!spec->unique()) key += id_key;
      entries.emplace_back(std::move(key), index::EntryValue(k, id_key));
    }
    return entries;
  }
  // The first of them.
  std::pair<std::string, std::string> EntryFor(std::string_view index_name, const std::string& doc) {
    return EntriesFor(index_name, doc).at(0);
  }

  // The BSON bytes of the records SetUp inserts.
  int64_t Bytes() const {
    int64_t n = 0;
    for (const std::string& doc : docs_) n += static_cast<int64_t>(doc.size());
    return n;
  }
  // The bytes of the documents' record keys.
  int64_t KeyBytes() {
    int64_t n = 0;
    for (const std::string& doc : docs_) {
      n += static_cast<int64_t>(storage::RecordKey(CollId(), DocView(doc).begin()->value).size());
    }
    return n;
  }
  // The bytes of the entries (keys and values) `index_name` holds for the records.
  int64_t EntryBytes(std::string_view index_name) {
    int64_t n = 0;
    for (const std::string& doc : docs_) {
      for (const auto& [key, value] : EntriesFor(index_name, doc)) n += static_cast<int64_t>(key.size() + value.size());
    }
    return n;
  }
  // validate's error for statistics that disagree with the records.
  std::string StatsError(int64_t stored, int64_t stored_bytes, int64_t stored_keys, int64_t held, int64_t held_bytes,
                         int64_t held_keys) {
    return StrCat("The collection's stored statistics count ", stored, " records of ", stored_bytes, " bytes (keys: ",
                  stored_keys, " bytes) but it holds ", held, " records of ", held_bytes, " bytes (keys: ", held_keys,
                  " bytes)");
  }

  std::vector<std::string> docs_;
  std::string dir_;
  std::unique_ptr<storage::Engine> engine_;
  std::shared_ptr<storage::Database> db_;
};

TEST_F(ValidateTest, ConsistentCollectionIsValid) {
  std::string r = Validate(/*full=*/true);
  EXPECT_EQ(Field(r, "valid"), "true") << bson::BsonToJson(r);
  EXPECT_EQ(Field(r, "ns"), "\"db.c\"");
  EXPECT_EQ(Field(r, "nrecords"), "4");
  EXPECT_EQ(Field(r, "nIndexes"), "4");
  EXPECT_EQ(Field(r, "nInvalidDocuments"), "0");
  EXPECT_EQ(Field(r, "nNonCompliantDocuments"), "0");
  // a_1: 5 | 5, 6, [7] | null (missing) | {b: [1]}; a_1_b_-1 the same keys.
  EXPECT_EQ(Field(r, "keysPerIndex"), Norm(R"({"_id_":4,"a_1":6,"u_1":4,"a_1_b_-1":6})"));
  EXPECT_EQ(Field(r, "indexDetails"),
            Norm(R"({"_id_":{"valid":true},"a_1":{"valid":true},"u_1":{"valid":true},"a_1_b_-1":{"valid":true}})"));
  EXPECT_EQ(Field(r, "errors"), "[]");
  EXPECT_EQ(Field(r, "warnings"), "[]");
  EXPECT_EQ(Field(r, "missingIndexEntries"), "[]");
  EXPECT_EQ(Field(r, "extraIndexEntries"), "[]");
  EXPECT_EQ(Field(r, "corruptRecords"), "[]");
  EXPECT_EQ(Field(r, "repaired"), "false");
}

struct DamageCase {
  std::string name;
  std::function<void(ValidateTest*, storage::WriteUnit*)> damage;
  std::string errors;         // the errors array
  std::string missing;        // missingIndexEntries
  std::string extra;          // extraIndexEntries
  std::string invalid_index;  // the index whose indexDetails says valid: false ("" none)
  int64_t invalid_documents = 0;
};

// The recordId validate shows for the record with int32 _id `id`: its key string, in hex.
std::string Rid(int id) {
  bson::Builder b;
  b.AppendInt32("_id", id);
  std::string doc = std::move(b).Finish();
  std::string key;
  bson::AppendKeyString(DocView(doc).begin()->value, &key);
  return absl::BytesToHexString(key);
}

TEST_F(ValidateTest, ReportsEachKindOfDamage) {
  const std::string doc1 = Bson(R"({"_id": 1, "a": 5, "u": 1, "b": "x"})");
  const std::string doc3 = Bson(R"({"_id": 3, "u": 3, "b": {"$numberDecimal": "1.5"}})");
  std::vector<DamageCase> cases = {
      {"missing entry",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         auto [key, value] = t->EntryFor("a_1", doc1);
         u->DeleteIndexEntry(key, value.size(), false);
       },
       R"(["Index with name: a_1 has inconsistencies","Detected 1 missing index entries"])",
       R"([{"indexName":"a_1","recordId":")" + Rid(1) + R"(","idKey":{"_id":1},"indexKey":{"a":5}}])",
       "[]", "a_1"},
      {"extra entry",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         auto [key, value] = t->EntryFor("u_1", Bson(R"({"_id": 9, "u": 9})"));
         u->PutIndexEntry(key, value);
       },
       R"(["Index with name: u_1 has inconsistencies","Detected 1 extra index entries"])", "[]",
       R"([{"indexName":"u_1","recordId":")" + Rid(9) + R"(","indexKey":{"u":9}}])", "u_1"},
      {"unique entry naming another record",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         // Over the entry of _id 3, of the same size: the statistics stay right.
         auto [key, value] = t->EntryFor("u_1", Bson(R"({"_id": 2, "u": 3})"));
         u->batch()->Put(key, value);
       },
       R"(["Index with name: u_1 has inconsistencies","Detected 1 missing index entries","Detected 1 extra index entries"])",
       R"([{"indexName":"u_1","recordId":")" + Rid(3) + R"(","idKey":{"_id":3},"indexKey":{"u":3}}])",
       R"([{"indexName":"u_1","recordId":")" + Rid(2) + R"(","indexKey":{"u":3}}])", "u_1"},
      {"entry of an index the catalog does not name",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         u->PutIndexEntry(storage::IndexPrefix(t->CollId(), 999) + "k", "v", false);
       },
       R"j(["Index with name: (unknown index id 999) has inconsistencies","Detected 1 extra index entries"])j",
       "[]",
       R"j([{"indexName":"(unknown index id 999)","entryKey":")j" +
           absl::BytesToHexString(storage::IndexPrefix(CollId(), 999) + "k") + R"(","entryValue":"76"}])",
       ""},
      {"record that is not BSON",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         u->batch()->Put(storage::RecordPrefix(t->CollId()) + "zz", std::string("\x07\0\0\0\x01", 5));
       },
       StrCat(R"(["The collection's count is 4 but it holds 5 records",")",
              StatsError(4, Bytes(), KeyBytes(), 5, Bytes() + 5,
                         KeyBytes() + static_cast<int64_t>(storage::RecordPrefix(CollId()).size()) + 2),
              R"(","Detected 1 invalid documents"])"),
       "[]", "[]", "", 1},
      {"record stored under another _id's key",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         u->batch()->Put(storage::RecordKey(t->CollId(), DocView(Bson(R"({"x": 8})")).begin()->value), doc3);
       },
       StrCat(R"(["The collection's count is 4 but it holds 5 records",")",
              StatsError(4, Bytes(), KeyBytes(), 5, Bytes() + static_cast<int64_t>(doc3.size()),
                         KeyBytes() + static_cast<int64_t>(
                                          storage::RecordKey(CollId(), DocView(Bson(R"({"x": 8})")).begin()->value).size())),
              R"(","Detected 1 invalid documents"])"),
       "[]", "[]", "_id_", 1},
      {"stored statistics that disagree with the records",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         u->batch()->Merge(storage::StatsKey(t->CollId()), storage::StatsOperand(1, 10, 0, 0));
       },
       StrCat(R"([")", StatsError(5, Bytes() + 10, KeyBytes(), 4, Bytes(), KeyBytes()), R"("])"),
       "[]", "[]", ""},
      {"stored key bytes that disagree with the records' keys",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         u->batch()->Merge(storage::StatsKey(t->CollId()), storage::StatsOperand(0, 0, 0, 3));
       },
       StrCat(R"([")", StatsError(4, Bytes(), KeyBytes() + 3, 4, Bytes(), KeyBytes()), R"("])"),
       "[]", "[]", ""},
      {"index statistics that disagree with its entries",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         u->batch()->Merge(storage::IndexStatsKey(t->CollId(), t->Index("a_1").id), storage::IndexStatsOperand(1, 7));
       },
       StrCat(R"(["Index with name: a_1 has stored statistics of 7 entries of )", EntryBytes("a_1") + 7,
              R"( bytes but holds 6 entries of )", EntryBytes("a_1"), R"( bytes"])"),
       "[]", "[]", "a_1"},
      {"array where the index is not multikey",
       [&](ValidateTest* t, storage::WriteUnit* u) {
         // u_1 has never seen an array; store one with its entries but no multikey flag.
         std::string doc = Bson(R"({"_id": 5, "u": [10, 11]})");
         u->PutRecord(t->db_->FindCollection("c").get(),
                      storage::RecordKey(t->CollId(), DocView(doc).begin()->value), doc,
                      storage::RecordWrite::kInsert);
         for (const auto& [key, value] : t->EntriesFor("u_1", doc)) u->PutIndexEntry(key, value);
         // The other indexes get theirs through the ordinary path's rules: a document
         // without `a` has the null key in a_1 and a_1_b_-1.
         for (std::string_view name : {"a_1", "a_1_b_-1"}) {
           auto [key, value] = t->EntryFor(name, doc);
           u->PutIndexEntry(key, value, false);
         }
       },
       R"(["Index with name: u_1 is not multi-key but has more than one key in one or more documents"])", "[]",
       "[]", "u_1"},
  };
  for (const DamageCase& c : cases) {
    SCOPED_TRACE(c.name);
    TearDown();
    SetUp();
    Damage([&](storage::WriteUnit* u) { c.damage(this, u); });
    std::string r = Validate();
    EXPECT_EQ(Field(r, "valid"), "false") << bson::BsonToJson(r);
    EXPECT_EQ(Field(r, "errors"), Norm(c.errors));
    EXPECT_EQ(Field(r, "missingIndexEntries"), Norm(c.missing));
    EXPECT_EQ(Field(r, "extraIndexEntries"), Norm(c.extra));
    EXPECT_EQ(Field(r, "nInvalidDocuments"), std::to_string(c.invalid_documents));
    EXPECT_EQ(Field(r, "corruptRecords") == "[]", c.invalid_documents == 0);
    for (std::string_view name : {"_id_", "a_1", "u_1", "a_1_b_-1"}) {
      EXPECT_EQ(Field(r, StrCat("indexDetails.", name, ".valid")), name == c.invalid_index ? "false" : "true")
          << name;
    }
  }
}

TEST_F(ValidateTest, NonCompliantDocumentsWarnButStayValid) {
  ASSERT_TRUE(db_->CreateCollection("v", Bson(R"({"validator": {"n": {"$type": "int"}}})")).ok());
  std::vector<std::string> docs = {Bson(R"({"_id": 1, "n": 1})"), Bson(R"({"_id": 2, "n": "one"})")};
  ASSERT_TRUE(Insert(engine_.get(), "db", "v", docs, true, {.bypass_validation = true}).ok());
  auto r = ValidateCollection(engine_.get(), "db", "v", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Field(*r, "valid"), "true");
  EXPECT_EQ(Field(*r, "nNonCompliantDocuments"), "1");
  EXPECT_EQ(Field(*r, "warnings"),
            Norm(R"(["Detected one or more documents in this collection not conformant to the schema"])"));
}

TEST_F(ValidateTest, Errors) {
  ASSERT_TRUE(db_->CreateCollection("view", Bson(R"({"viewOn": "c", "pipeline": []})")).ok());
  struct Case {
    std::string db, coll;
    int code;
  };
  for (const Case& c : std::vector<Case>{{"db", "nope", 26}, {"nodb", "c", 26}, {"db", "view", 166},
                                         {"db", "", 73}, {"d.b", "c", 73}}) {
    auto r = ValidateCollection(engine_.get(), c.db, c.coll, {});
    ASSERT_FALSE(r.ok()) << c.db << "." << c.coll;
    EXPECT_EQ(MongoCodeOf(r.status()), c.code) << r.status();
  }
}

}  // namespace
}  // namespace micromongo::service

namespace micromongo::service {
namespace {

TEST_F(ValidateTest, CappedInsertionOrderAgreesWithTheRecords) {
  ASSERT_TRUE(db_->CreateCollection("cap", Bson(R"({"capped": true, "size": 4096})")).ok());
  auto inserted = Insert(engine_.get(), "db", "cap",
                         {Bson(R"({"_id": 3})"), Bson(R"({"_id": 1})"), Bson(R"({"_id": 2})")}, /*ordered=*/true);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  auto validate = [&] {
    auto r = ValidateCollection(engine_.get(), "db", "cap", {});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::string();
  };
  EXPECT_EQ(Field(validate(), "valid"), "true") << bson::BsonToJson(validate());
  uint32_t id = db_->FindCollection("cap")->id();
  // The first insert's place is lost: one record unplaced, and its o entry dangles.
  Damage([&](storage::WriteUnit* u) { u->batch()->Delete(storage::NaturalKey(id, 1)); });
  std::string r = validate();
  EXPECT_EQ(Field(r, "valid"), "false");
  EXPECT_EQ(Field(r, "errors"),
            Norm(R"(["The capped collection's insertion order places 2 of its 3 records",)"
                 R"("The capped collection's insertion order has 1 entries that name no record"])"));
  // A place that names no record.
  Damage([&](storage::WriteUnit* u) {
    std::string id_key;
    bson::AppendKeyString(DocView(Bson(R"({"_id": 3})")).begin()->value, &id_key);
    u->batch()->Put(storage::NaturalKey(id, 1), id_key);
    u->batch()->Put(storage::NaturalKey(id, 9), "\x01");
  });
  r = validate();
  EXPECT_EQ(Field(r, "errors"), Norm(R"(["The capped collection's insertion order has 1 entries that name no record"])"));
}

}  // namespace
}  // namespace micromongo::service
