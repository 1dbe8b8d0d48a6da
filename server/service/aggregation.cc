#include "service/aggregation.h"

#include <unistd.h>

#include <atomic>

#include "document/builder.h"
#include "document/status.h"
#include "service/crud.h"
#include "service/open_namespace.h"
#include "storage/namespace.h"

namespace micromongo::service {

using bson::DocView;
using bson::ValueView;

namespace {

class ScanStage : public pipeline::Stage {
 public:
  ScanStage(std::shared_ptr<storage::Database> db, std::unique_ptr<storage::KvIterator> it,
            Deadline deadline)
      : db_(std::move(db)), it_(std::move(it)), deadline_(deadline) {}
  absl::StatusOr<bool> Next(Document* out) override {
    if (it_ == nullptr) return false;
    if (!it_->Valid()) {
      if (!it_->status().ok()) return it_->status();
      return false;
    }
    if ((++scanned_ & 255) == 0) {
      if (auto s = deadline_.Check(); !s.ok()) return s;
    }
    *out = bson::Decode(DocView(it_->value().data()));
    it_->Next();
    return true;
  }

 private:
  std::shared_ptr<storage::Database> db_;  // keeps the iterator's database open
  std::unique_ptr<storage::KvIterator> it_;
  Deadline deadline_;
  uint32_t scanned_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<pipeline::Stage>> CollectionScan(storage::Engine* engine,
                                                                std::string_view db_name,
                                                                std::string_view coll_name,
                                                                const Deadline& deadline) {
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  std::unique_ptr<storage::KvIterator> it;
  if (ns->coll != nullptr) it = ns->db->ScanRecords(*ns->coll);
  return std::unique_ptr<pipeline::Stage>(std::make_unique<ScanStage>(ns->db, std::move(it), deadline));
}

absl::StatusOr<std::vector<std::string>> RunPipeline(
    std::unique_ptr<pipeline::Stage> source, const std::vector<Document>& stages,
    const pipeline::VariableMap* let, std::shared_ptr<const bson::Collator> collator,
    std::optional<pipeline::OutputSpec>* output) {
  auto top = pipeline::BuildPipeline(std::move(source), stages, let, output, std::move(collator));
  if (!top.ok()) return top.status();
  std::vector<std::string> results;
  Document doc;
  while (true) {
    auto more = (*top)->Next(&doc);
    if (!more.ok()) return more.status();
    if (!*more) break;
    results.push_back(bson::Encode(doc));
  }
  return results;
}

absl::Status WriteOutput(storage::Engine* engine, std::string_view db_name,
                         const pipeline::OutputSpec& spec, std::vector<std::string> docs,
                         const WriteOptions& options) {
  std::string target_db = spec.db.empty() ? std::string(db_name) : spec.db;
  if (auto s = storage::ValidateCollectionName(target_db, spec.collection); !s.ok()) return s;
  if (spec.kind == pipeline::OutputSpec::Kind::kOut) {
    // $out replaces the target's contents with the results, as MongoDB does it: into a
    // temporary collection with the target's options and indexes, renamed over the target
    // at the end. On failure (a validator, a unique index) the target is untouched.
    auto db = engine->GetDatabase(target_db, /*create=*/true);
    if (!db.ok()) return db.status();
    std::shared_ptr<storage::Collection> target = (*db)->FindCollection(spec.collection);
    if (target != nullptr && target->is_view()) {
      return MongoError(kCommandNotSupportedOnView,
                        StrCat("Cannot $out to ", target_db, ".", spec.collection, ": it is a view"));
    }
    static std::atomic<uint64_t> out_counter{0};
    std::string temp = StrCat("tmp.agg_out.", getpid(), ".", out_counter.fetch_add(1));
    if (auto s = (*db)->CreateCollection(temp, target ? target->options().bytes() : std::string_view());
        !s.ok()) {
      return s;
    }
    auto fail = [&](absl::Status s) {
      (void)(*db)->DropCollection(temp);
      return s;
    };
    if (target != nullptr) {
      for (const storage::IndexDef& def : target->indexes()) {
        auto no_entries = [](const storage::Collection&, uint32_t, storage::WriteUnit*) {
          return absl::OkStatus();
        };
        if (auto s = (*db)->CreateIndex(temp, def.spec, no_entries); !s.ok()) return fail(s);
      }
    }
    if (!docs.empty()) {
      auto outcome = Insert(engine, target_db, temp, std::move(docs), /*ordered=*/true, options);
      if (!outcome.ok()) return fail(outcome.status());
      if (!outcome->write_errors.empty()) return fail(outcome->write_errors[0].status);
    }
    if (auto s = (*db)->RenameCollection(temp, spec.collection, /*drop_target=*/true); !s.ok()) {
      return fail(s);
    }
    return absl::OkStatus();
  }
  using Matched = pipeline::OutputSpec::Matched;
  using NotMatched = pipeline::OutputSpec::NotMatched;
  for (std::string& doc : docs) {
    doc = WithIdFirst(std::move(doc));
    ValueView id = DocView(doc).begin()->value;
    auto by_id = query::Matcher::Parse(IdDocument(id));
    if (!by_id.ok()) return by_id.status();
    auto existing = Count(engine, target_db, spec.collection, **by_id, 0, 1);
    if (!existing.ok()) return existing.status();
    if (*existing > 0) {
      if (spec.when_matched == Matched::kKeepExisting) continue;
      if (spec.when_matched == Matched::kFail) return DuplicateKey(target_db, spec.collection, id);
      Document body = bson::Decode(DocView(doc));
      std::unique_ptr<update::Update> u;
      if (spec.when_matched == Matched::kReplace) {
        auto parsed = update::Update::Parse(DocView(doc), /*replace=*/true);
        if (!parsed.ok()) return parsed.status();
        u = *std::move(parsed);
      } else {
        body.Remove("_id");
        std::string set = bson::Encode(Document{{"$set", body}});
        auto parsed = update::Update::Parse(DocView(set), /*replace=*/false);
        if (!parsed.ok()) return parsed.status();
        u = *std::move(parsed);
      }
      if (body.empty() && spec.when_matched == Matched::kMerge) continue;
      auto r = Update(engine, target_db, spec.collection, **by_id, *u, false, false, Deadline(),
                      options);
      if (!r.ok()) return r.status();
      continue;
    }
    if (spec.when_not_matched == NotMatched::kDiscard) continue;
    if (spec.when_not_matched == NotMatched::kFail) {
      return MongoError(13113, "$merge could not find a matching document in the target collection");
    }
    std::vector<std::string> one;
    one.push_back(std::move(doc));
    auto outcome = Insert(engine, target_db, spec.collection, std::move(one), true, options);
    if (!outcome.ok()) return outcome.status();
    if (!outcome->write_errors.empty()) return outcome->write_errors[0].status;
  }
  return absl::OkStatus();
}

// ---- FindCursor ---------------------------------------------------------------------------

}  // namespace micromongo::service
