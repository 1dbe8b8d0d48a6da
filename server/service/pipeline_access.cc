#include "service/pipeline_access.h"

#include "exec/index_scan.h"
#include "exec/plan_cache.h"
#include "service/query_planning.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "document/builder.h"
#include "document/compare.h"
#include "document/key_string.h"
#include "document/status.h"
#include "storage/transaction.h"
#include "exec/index_scan.h"
#include "index/index_key.h"
#include "pipeline/pipeline.h"
#include "service/collection_options.h"
#include "service/crud.h"
#include "service/indexes.h"
#include "service/open_namespace.h"
#include "service/proto_docs.h"
#include "service/query_planning.h"
#include "service/views.h"
#include "storage/key_codec.h"
#include "storage/namespace.h"

namespace micromongo::service {
namespace {

using bson::DocView;
using bson::ValueView;

// ---- Index use counts -------------------------------------------------------------------------

struct IndexUse {
  int64_t ops = 0;
  DateTime since;
};

std::mutex& UsageMutex() {
  static std::mutex mu;
  return mu;
}

std::map<std::string, IndexUse, std::less<>>& Usage() {
  static auto* usage = new std::map<std::string, IndexUse, std::less<>>();
  return *usage;
}

std::string UsageKey(std::string_view db, std::string_view coll, std::string_view index) {
  std::string k(db);
  k.push_back('\0');
  k.append(coll);
  k.push_back('\0');
  k.append(index);
  return k;
}

IndexUse UsageOf(std::string_view db, std::string_view coll, std::string_view index) {
  std::lock_guard<std::mutex> l(UsageMutex());
  auto [it, inserted] = Usage().try_emplace(UsageKey(db, coll, index));
  if (inserted) it->second.since = DateTime::Now();
  return it->second;
}

// ---- Reads ------------------------------------------------------------------------------------

const std::shared_ptr<const query::Matcher>& MatchAll() {
  static const auto* all =
      new std::shared_ptr<const query::Matcher>(*query::Matcher::Parse(std::string("\x05\x00\x00\x00\x00", 5)));
  return *all;
}

// The results of a query plan, as pipeline rows. Holds the database and collection (not
// the DDL lock: an open cursor must not block DDL; the plan's snapshot keeps its view of
// the data).
class PlanStageSource final : public pipeline::Stage {
 public:
  // With `index_key_meta` or `record_id_meta`, rows carry those (ReadRequest); record keys
  // start with `record_prefix_size` bytes of collection prefix.
  PlanStageSource(std::shared_ptr<const query::Matcher> filter, std::shared_ptr<exec::PlanExecutor> exec,
                  bool index_key_meta, bool record_id_meta, size_t record_prefix_size)
      : filter_(std::move(filter)),
        exec_(std::move(exec)),
        index_key_meta_(index_key_meta),
        record_id_meta_(record_id_meta),
        record_prefix_size_(record_prefix_size) {}

  absl::StatusOr<bool> Next(pipeline::Row* out) override {
    if (done_) return false;
    auto more = exec_->Next(&key_, &out->doc, index_key_meta_ ? &index_key_ : nullptr);
    if (!more.ok() || !*more) {
      done_ = true;
      return more;
    }
    out->meta.reset();
    std::optional<double> score = exec_->text_score();
    std::optional<double> distance = exec_->geo_distance();
    if (index_key_meta_ || record_id_meta_ || score || distance) {
      auto meta = std::make_shared<pipeline::DocumentMeta>();
      meta->text_score = score;
      meta->geo_near_distance = distance;
      if (index_key_meta_) meta->index_key = Value(bson::Decode(bson::DocView(index_key_)));
      if (record_id_meta_) {
        meta->record_id = Value(Binary{0, key_.substr(std::min(record_prefix_size_, key_.size()))});
      }
      out->meta = std::move(meta);
    }
    return true;
  }

 private:
  std::shared_ptr<const query::Matcher> filter_;
  std::shared_ptr<exec::PlanExecutor> exec_;
  bool index_key_meta_, record_id_meta_;
  size_t record_prefix_size_;
  std::string key_, index_key_;
  bool done_ = false;
};

// Whether an equality on `v` can be looked up in an index by its key string: scalars other
// than null (missing fields index as null), regexes and MinKey/MaxKey; strings only without
// a collation.
bool IndexLookupScalar(const ValueView& v, const bson::Collator* collator) {
  switch (v.type) {
    case BsonType::kDocument:
    case BsonType::kArray:
    case BsonType::kRegex:
    case BsonType::kNull:
    case BsonType::kUndefined:
    case BsonType::kMinKey:
    case BsonType::kMaxKey:
      return false;
    case BsonType::kString:
    case BsonType::kSymbol:
      return collator == nullptr;
    default:
      return true;
  }
}

// A plain ascending binary index led by `field`, which equality joins probe.
bool SimpleLeadingField(const index::IndexSpec& spec, std::string_view field) {
  return !spec.partial() && !spec.hidden() && !spec.sparse() && spec.collator() == nullptr &&
         spec.fields()[0].kind == index::KeyKind::kAscending && spec.fields()[0].path.dotted() == field;
}

// The first index a plan scans (depth first), or null.
const planner::PlanNode* FirstScan(const planner::PlanNode& n) {
  if (planner::ScansIndex(n.kind)) return &n;
  for (const auto& c : n.children) {
    if (const planner::PlanNode* s = FirstScan(*c)) return s;
  }
  return nullptr;
}

size_t ScanCount(const planner::PlanNode& n) {
  size_t count = planner::ScansIndex(n.kind) ? 1 : 0;
  for (const auto& c : n.children) count += ScanCount(*c);
  return count;
}

void CountScans(const planner::PlanNode& n, std::string_view db, std::string_view coll) {
  if (planner::ScansIndex(n.kind)) {
    RecordIndexUse(db, coll, n.index->name);
  }
  if (n.kind == planner::NodeKind::kIdHack) RecordIndexUse(db, coll, "_id_");
  for (const auto& c : n.children) CountScans(*c, db, coll);
}

void RecordIndexUses(std::string_view db, std::string_view coll, const planner::QuerySolution& s) {
  CountScans(*s.root, db, coll);
}

void DescribePlan(const std::shared_ptr<exec::PlanExecutor>& executor, pipeline::ReadPlan* plan) {
  if (plan == nullptr) return;
  const exec::PlanExecutor& exec = *executor;
  const planner::QuerySolution& s = exec.solution();
  plan->stage = planner::StageName(s.root->kind);
  const planner::PlanNode* scan = FirstScan(*s.root);
  plan->index = scan != nullptr ? scan->index->name : "";
  plan->provides_sort = s.provides_sort;
  plan->covered = s.covered;
  // Not a wildcard index's (its documents hold the path each entry names) nor _id's (whose
  // scan makes its documents otherwise).
  if (s.covered && scan != nullptr && scan->kind == planner::NodeKind::kIndexScan &&
      scan->index->wildcard_path.empty() && scan->index->name != "_id_" && ScanCount(*s.root) == 1) {
    for (const index::KeyField& f : scan->index->spec->fields()) plan->covered_fields.push_back(f.path.dotted());
  }
  plan->winning_plan = [e = executor] { return e->WinningPlan(/*stats=*/false); };
  plan->rejected_plans = [e = executor] { return e->RejectedPlans(/*stats=*/false); };
  // The executor outlives its stage for this (a blocking stage may drop its input early).
  plan->execution_stats = [e = executor] {
    Document stages = e->WinningPlan(/*stats=*/true);
    const Value* returned = stages.Find("nReturned");
    return Document{{"nReturned", returned != nullptr ? *returned : Value(int64_t{0})},
                    {"totalKeysExamined", e->keys_examined()},
                    {"totalDocsExamined", e->docs_examined()},
                    {"executionStages", stages}};
  };
}

// ---- Equality joins through an index ----------------------------------------------------------

class IndexEqualityReader final : public pipeline::EqualityReader {
 public:
  IndexEqualityReader(std::shared_ptr<storage::Database> db, std::shared_ptr<storage::Collection> coll,
                      uint32_t index_id, const bson::Collator* collator)
      : db_(std::move(db)), coll_(std::move(coll)), collator_(collator),
        index_(db_->ScanIndex(*coll_, index_id, "", std::string(1, '\xff'))),
        index_prefix_(storage::IndexPrefix(coll_->id(), index_id)),
        record_prefix_(storage::RecordPrefix(coll_->id())) {}

  bool CanFind(const Value& v) const override {
    if (v.type() == BsonType::kDocument || v.type() == BsonType::kArray) return false;
    bson::Builder b;
    b.AppendValue("", v);
    std::string doc = std::move(b).Finish();
    return IndexLookupScalar(DocView(doc).begin()->value, collator_);
  }

  absl::Status Find(const std::vector<Value>& values, std::vector<std::string>* docs) override {
    keys_.clear();
    for (const Value& v : values) {
      bson::Builder b;
      b.AppendValue("", v);
      std::string doc = std::move(b).Finish();
      std::string lo = index_prefix_;
      bson::AppendKeyString(DocView(doc).begin()->value, &lo);
      std::string hi = exec::PrefixSuccessor(lo);
      for (index_->Seek(lo); index_->Valid() && index_->key() < hi; index_->Next()) {
        keys_.push_back(record_prefix_ + std::string(index::EntryRecordId(index_->value())));
      }
      if (!index_->status().ok()) return index_->status();
    }
    if (values.size() > 1) {
      std::sort(keys_.begin(), keys_.end());
      keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
    }
    for (const std::string& key : keys_) {
      std::string doc;
      auto found = db_->GetRecord(*coll_, key, &doc);
      if (!found.ok()) return found.status();
      if (*found) docs->push_back(std::move(doc));
    }
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<storage::Database> db_;
  std::shared_ptr<storage::Collection> coll_;
  const bson::Collator* collator_;
  std::unique_ptr<storage::KvIterator> index_;
  std::string index_prefix_, record_prefix_;
  std::vector<std::string> keys_;
};

// ---- $out -------------------------------------------------------------------------------------

class EngineOutWriter final : public pipeline::OutWriter {
 public:
  EngineOutWriter(storage::Engine* engine, std::shared_ptr<storage::Database> db, std::string db_name,
                  std::string temp, std::string target, bool bypass)
      : engine_(engine), db_(std::move(db)), db_name_(std::move(db_name)), temp_(std::move(temp)),
        target_(std::move(target)), bypass_(bypass) {}
  ~EngineOutWriter() override {
    if (!committed_) (void)db_->DropCollection(temp_);
  }

  absl::Status Insert(std::vector<std::string> docs) override {
    auto outcome = service::Insert(engine_, db_name_, temp_, std::move(docs), /*ordered=*/true,
                                   {.bypass_validation = bypass_});
    if (!outcome.ok()) return outcome.status();
    if (!outcome->write_errors.empty()) return outcome->write_errors[0].status;
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (auto s = db_->RenameCollection(temp_, target_, /*drop_target=*/true); !s.ok()) return s;
    committed_ = true;
    return absl::OkStatus();
  }

 private:
  storage::Engine* engine_;
  std::shared_ptr<storage::Database> db_;
  std::string db_name_, temp_, target_;
  bool bypass_;
  bool committed_ = false;
};

// ---- $merge -----------------------------------------------------------------------------------

// The value at a dotted path through documents only.
std::optional<ValueView> ValueAt(DocView doc, std::string_view path) {
  ValueView v{BsonType::kDocument, doc.data(), doc.size()};
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (v.type != BsonType::kDocument) return std::nullopt;
    ValueView child;
    if (!v.Doc().Find(part, &child)) return std::nullopt;
    v = child;
    if (dot == std::string_view::npos) return v;
    start = dot + 1;
  }
}

// Whether `coll` has a unique index on exactly the fields `on` (in any order).
bool HasUniqueIndexOn(const storage::Collection& coll, const std::vector<std::string>& on) {
  std::vector<std::string> want = on;
  std::sort(want.begin(), want.end());
  for (const storage::IndexDef& def : coll.indexes()) {
    DocView spec(def.spec);
    ValueView unique, key;
    if (!spec.Find("unique", &unique) || !(unique.type == BsonType::kBool && unique.Bool())) continue;
    if (spec.Find("partialFilterExpression", &unique)) continue;
    if (!spec.Find("key", &key) || key.type != BsonType::kDocument) continue;
    std::vector<std::string> fields;
    for (const bson::ElementView& e : key.Doc()) fields.emplace_back(e.key);
    std::sort(fields.begin(), fields.end());
    if (fields == want) return true;
  }
  return false;
}

}  // namespace

void RecordIndexUse(std::string_view db, std::string_view coll, std::string_view index) {
  std::lock_guard<std::mutex> l(UsageMutex());
  auto [it, inserted] = Usage().try_emplace(UsageKey(db, coll, index));
  if (inserted) it->second.since = DateTime::Now();
  ++it->second.ops;
}

std::string SpillDirectory(const storage::Engine& engine) { return engine.data_dir() + "/_tmp"; }

void ClearSpillDirectory(const storage::Engine& engine) {
  std::error_code ec;
  std::filesystem::remove_all(SpillDirectory(engine), ec);
}

absl::StatusOr<std::optional<pipeline::ViewDefinition>> EngineDataAccess::ResolveView(std::string_view db,
                                                                                      std::string_view coll) {
  auto view = service::ResolveView(engine_, db, coll);
  if (!view.ok()) return view.status();
  if (!*view) return std::optional<pipeline::ViewDefinition>();
  return std::optional<pipeline::ViewDefinition>(pipeline::ViewDefinition{(*view)->collection, (*view)->stages});
}

absl::StatusOr<pipeline::StagePtr> EngineDataAccess::Read(const pipeline::ReadRequest& request,
                                                          pipeline::ReadPlan* plan) {
  if (auto s = storage::ValidateCollectionName(request.db, request.collection); !s.ok()) return s;
  auto ns = OpenNamespace(engine_, request.db, request.collection, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr) {
    if (plan != nullptr) {
      *plan = pipeline::ReadPlan{};
      plan->stage = "EOF";
      plan->winning_plan = [] { return Document{{"stage", "EOF"}}; };
    }
    return pipeline::RowsSource({});
  }
  if (ns->coll->is_view()) {
    return MongoError(kCommandNotSupportedOnView,
                      StrCat("Namespace ", request.db, ".", request.collection, " is a view, not a collection"));
  }
  std::shared_ptr<const query::Matcher> filter = request.filter != nullptr ? request.filter : MatchAll();
  QueryRequest query;
  query.filter = filter;
  query.sort = request.sort;
  query.projection_fields = request.projection_fields;
  query.projection_includes_id = request.projection_includes_id;
  query.results_target = request.results_target;
  query.use_plan_cache = request.use_plan_cache;
  query.min = request.min;
  query.max = request.max;
  if (!request.hint.empty()) {
    auto hint = ParseHint(DocView(request.hint).begin()->value);
    if (!hint.ok()) return hint.status();
    query.hint = *std::move(hint);
  }
  auto exec = PlanQuery(ns->db, ns->coll, query, deadline_);
  if (!exec.ok()) return exec.status();
  std::shared_ptr<exec::PlanExecutor> executor = *std::move(exec);
  DescribePlan(executor, plan);
  RecordIndexUses(request.db, request.collection, executor->solution());
  return pipeline::StagePtr(std::make_unique<PlanStageSource>(std::move(filter), std::move(executor),
                                                              request.index_key_meta, request.record_id_meta,
                                                              storage::RecordPrefix(ns->coll->id()).size()));
}

bool EngineDataAccess::CanUseIndex(const pipeline::ReadRequest& request) {
  if (request.filter == nullptr) return false;
  auto ns = OpenNamespace(engine_, request.db, request.collection, /*create=*/false);
  if (!ns.ok() || ns->coll == nullptr || ns->coll->is_view()) return false;
  QueryRequest query;
  query.filter = request.filter;
  auto exec = PlanQuery(ns->db, ns->coll, query, &Deadline::None());
  if (!exec.ok()) return false;
  planner::NodeKind top = (*exec)->solution().root->kind;
  return top != planner::NodeKind::kCollScan;
}

absl::StatusOr<std::unique_ptr<pipeline::EqualityReader>> EngineDataAccess::OpenEqualityReader(
    std::string_view db, std::string_view coll, std::string_view field, const bson::Collator* collator) {
  auto ns = OpenNamespace(engine_, db, coll, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll == nullptr || ns->coll->is_view()) return std::unique_ptr<pipeline::EqualityReader>();
  if (field == "_id") {
    return std::unique_ptr<pipeline::EqualityReader>();  // records are keyed by _id: Read serves it
  }
  for (const storage::IndexDef& def : ns->coll->indexes()) {
    auto spec = index::IndexSpec::Parse(DocView(def.spec));
    if (!spec.ok() || !SimpleLeadingField(*spec, field)) continue;
    RecordIndexUse(db, coll, def.name());
    return std::unique_ptr<pipeline::EqualityReader>(
        std::make_unique<IndexEqualityReader>(ns->db, ns->coll, def.id, collator));
  }
  return std::unique_ptr<pipeline::EqualityReader>();
}

namespace {

// $out and $merge write: not in a transaction (263), nor in a snapshot read (72), as in
// MongoDB.
absl::Status RefuseWriteStage(std::string_view stage) {
  const storage::Transaction* txn = storage::BoundTransaction();
  if (txn == nullptr) return absl::OkStatus();
  if (txn->read_only_view()) {
    return MongoError(kInvalidOptions, StrCat(stage, " cannot be used with a 'snapshot' read concern level"));
  }
  return MongoError(kOperationNotSupportedInTransaction, StrCat(stage, " cannot be used in a transaction"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<pipeline::OutWriter>> EngineDataAccess::OpenOut(std::string_view db_name,
                                                                               std::string_view coll,
                                                                               bool bypass_validation,
                                                                               std::string_view timeseries) {
  if (auto s = RefuseWriteStage("$out"); !s.ok()) return s;
  if (auto s = storage::ValidateCollectionName(db_name, coll); !s.ok()) return s;
  auto db = engine_->GetDatabase(db_name, /*create=*/true);
  if (!db.ok()) return db.status();
  // $out replaces the target's contents with the results, as MongoDB does it: into a
  // temporary collection with the target's options and indexes, renamed over the target at
  // the end. On failure the target is untouched.
  std::shared_ptr<storage::Collection> target = (*db)->FindCollection(coll);
  auto ns = [&] { return StrCat(db_name, ".", coll); };
  // The temporary collection's options: the target's, or a new time series collection's.
  std::string new_options;
  if (!timeseries.empty()) {
    if (target != nullptr && target->is_view()) {
      return MongoError(7268703, StrCat("Cannot create the time-series collection ", ns(),
                                        " for $out: a view of that name exists"));
    }
    if (target != nullptr && !target->timeseries()) {
      return MongoError(7268700, StrCat("$out's 'timeseries' option names ", ns(),
                                        ", which exists and is not a time-series collection"));
    }
    // The option as create reads it (its checks and codes, its canonical form).
    v1::CollectionOptions requested;
    SetDoc(requested.mutable_timeseries(), std::string(timeseries), /*json=*/false);
    auto options = BuildCollectionOptions(db_name, requested, nullptr);
    if (!options.ok()) return options.status();
    if (target != nullptr) {
      // An existing time series target keeps its options; $out's must agree with them.
      bson::ValueView wanted, existing;
      bson::DocView(*options).Find("timeseries", &wanted);
      target->options().Find("timeseries", &existing);
      for (std::string_view field : {"timeField", "metaField", "granularity", "bucketMaxSpanSeconds",
                                     "bucketRoundingSeconds"}) {
        bson::ValueView a, b;
        bool has_a = wanted.Doc().Find(field, &a), has_b = existing.Doc().Find(field, &b);
        if (has_a != has_b || (has_a && bson::CompareValues(a, b) != 0)) {
          return MongoError(7406103, StrCat("Time-series options of $out differ from those of the existing "
                                            "collection ", ns(), " in '", field, "'"));
        }
      }
    } else {
      new_options = *std::move(options);
    }
  }
  if (target != nullptr && target->is_view()) {
    return MongoError(kCommandNotSupportedOnView, StrCat("Cannot $out to ", ns(), ": it is a view"));
  }
  if (target != nullptr && target->capped()) {
    return MongoError(17152, StrCat("namespace '", ns(), "' is capped so it can't be used for $out"));
  }
  static std::atomic<uint64_t> counter{0};
  std::string temp = StrCat("tmp.agg_out.", getpid(), ".", counter.fetch_add(1));
  std::string_view temp_options = target != nullptr ? target->options().bytes() : std::string_view(new_options);
  if (auto s = (*db)->CreateCollection(temp, temp_options); !s.ok()) return s;
  auto writer = std::make_unique<EngineOutWriter>(engine_, *db, std::string(db_name), temp, std::string(coll),
                                                  bypass_validation);
  if (target != nullptr) {
    for (const storage::IndexDef& def : target->indexes()) {
      auto no_entries = [](const storage::Collection&, uint32_t, storage::IndexBuildSink*) { return absl::OkStatus(); };
      if (auto s = (*db)->CreateIndex(temp, def.spec, no_entries); !s.ok()) return s;
    }
  } else if (!new_options.empty()) {
    if (auto s = CreateTimeseriesIndex(engine_, db_name, temp, bson::DocView(new_options)); !s.ok()) return s;
  }
  return std::unique_ptr<pipeline::OutWriter>(std::move(writer));
}

absl::Status EngineDataAccess::Merge(const pipeline::MergeRequest& request, std::vector<std::string> docs) {
  if (auto s = RefuseWriteStage("$merge"); !s.ok()) return s;
  using Matched = pipeline::MergeRequest::Matched;
  using NotMatched = pipeline::MergeRequest::NotMatched;
  if (auto s = storage::ValidateCollectionName(request.db, request.collection); !s.ok()) return s;
  bool by_id = request.on.size() == 1 && request.on[0] == "_id";
  {
    auto ns = OpenNamespace(engine_, request.db, request.collection, /*create=*/false);
    if (!ns.ok()) return ns.status();
    if (ns->coll != nullptr && ns->coll->is_view()) {
      return MongoError(kCommandNotSupportedOnView,
                        StrCat("Cannot $merge into ", request.db, ".", request.collection, ": it is a view"));
    }
    // MongoDB's time series collections are views over their buckets: $merge refuses them
    // as it refuses views ($out may write one).
    if (ns->coll != nullptr && ns->coll->timeseries()) {
      return MongoError(kCommandNotSupportedOnView, StrCat("Cannot $merge into ", request.db, ".", request.collection,
                                                           ": it is a time-series collection"));
    }
    if (!by_id && (ns->coll == nullptr || !HasUniqueIndexOn(*ns->coll, request.on))) {
      return MongoError(51183, "Cannot find index to verify that join fields will be unique");
    }
  }
  WriteOptions options{.bypass_validation = request.bypass_validation};
  for (std::string& doc : docs) {
    if (by_id) doc = WithIdFirst(std::move(doc));
    DocView incoming(doc);
    Document filter;
    for (const std::string& field : request.on) {
      std::optional<ValueView> v = ValueAt(incoming, field);
      if (!v || v->type == BsonType::kNull || v->type == BsonType::kUndefined || v->type == BsonType::kArray) {
        return MongoError(51132, StrCat("$merge write error: 'on' field '", field,
                                        "' cannot be missing, null, undefined or an array"));
      }
      filter.Append(field, Document{{"$eq", bson::ToValue(*v)}});
    }
    auto matcher = query::Matcher::Parse(bson::Encode(filter));
    if (!matcher.ok()) return matcher.status();
    std::shared_ptr<const query::Matcher> m(*std::move(matcher));
    auto source = Read(pipeline::ReadRequest{request.db, request.collection, m}, nullptr);
    if (!source.ok()) return source.status();
    pipeline::Row existing;
    auto found = (*source)->Next(&existing);
    if (!found.ok()) return found.status();
    if (*found) {
      if (request.when_matched == Matched::kKeepExisting) continue;
      ValueView id = DocView(existing.doc).begin()->value;
      if (request.when_matched == Matched::kFail) return DuplicateKey(request.db, request.collection, id);
      std::string replacement = doc;
      if (request.when_matched == Matched::kMerge || request.when_matched == Matched::kPipeline) {
        auto combined = request.combine(existing.view(), incoming);
        if (!combined.ok()) return combined.status();
        replacement = *std::move(combined);
      }
      auto update = update::Update::Parse(DocView(replacement), /*replace=*/true);
      if (!update.ok()) return update.status();
      auto by_existing_id = query::Matcher::Parse(IdDocument(id));
      if (!by_existing_id.ok()) return by_existing_id.status();
      auto r = service::Update(engine_, request.db, request.collection, **by_existing_id, **update,
                               /*multi=*/false, /*upsert=*/false, *deadline_, options);
      if (!r.ok()) return r.status();
      continue;
    }
    if (request.when_not_matched == NotMatched::kDiscard) continue;
    if (request.when_not_matched == NotMatched::kFail) {
      return MongoError(13113, "$merge could not find a matching document in the target collection for at least "
                               "one document in the source collection");
    }
    std::vector<std::string> one;
    one.push_back(std::move(doc));
    auto outcome = service::Insert(engine_, request.db, request.collection, std::move(one), true, options);
    if (!outcome.ok()) return outcome.status();
    if (!outcome->write_errors.empty()) return outcome->write_errors[0].status;
  }
  return absl::OkStatus();
}

absl::StatusOr<Document> EngineDataAccess::CollStats(std::string_view db, std::string_view coll,
                                                     const Document& spec) {
  auto ns = OpenNamespace(engine_, db, coll, /*create=*/false);
  if (!ns.ok()) return ns.status();
  if (ns->coll != nullptr && ns->coll->is_view()) {
    return MongoError(kCommandNotSupportedOnView, StrCat("Namespace ", db, ".", coll, " is a view, not a collection"));
  }
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  Document out{{"ns", StrCat(db, ".", coll)}, {"host", std::string(host)}, {"localTime", DateTime::Now()}};
  if (spec.Find("count") != nullptr) {
    out.Append("count", static_cast<int64_t>(ns->coll == nullptr ? 0 : ns->coll->count()));
  }
  if (const Value* storage = spec.Find("storageStats")) {
    if (ns->coll == nullptr) {
      return MongoError(kNamespaceNotFound, StrCat("Unable to find collection ", db, ".", coll));
    }
    double scale = 1;
    if (const Value* s = storage->AsDocument().Find("scale")) scale = s->ToDouble();
    // Sizes are logical: the bytes of the stored documents and index entries (RocksDB
    // compresses and compacts them on disk). All come from stored statistics, one read
    // each, as MongoDB walks neither records nor indexes: the records' count and bytes,
    // their keys' (the _id index), and each secondary index's entries' bytes. Read from one
    // snapshot, they agree with one another.
    std::shared_ptr<const storage::KvSnapshot> snapshot = ns->db->Snapshot();
    auto stored = ns->db->StoredStats(*ns->coll, snapshot.get());
    if (!stored.ok()) return stored.status();
    const int64_t size = stored->bytes, count = stored->count, id_bytes = stored->key_bytes;
    Document index_sizes{{"_id_", static_cast<int64_t>(id_bytes / scale)}};
    int64_t total_index = id_bytes;
    for (const storage::IndexDef& def : ns->coll->indexes()) {
      auto index = ns->db->StoredIndexStats(*ns->coll, def.id, snapshot.get());
      if (!index.ok()) return index.status();
      index_sizes.Append(std::string(def.name()), static_cast<int64_t>(index->bytes / scale));
      total_index += index->bytes;
    }
    auto scaled = [&](int64_t v) { return static_cast<int64_t>(static_cast<double>(v) / scale); };
    Document stats{{"size", scaled(size)},
                   {"count", count},
                   {"avgObjSize", count == 0 ? int64_t{0} : size / count},
                   {"storageSize", scaled(size)},
                   {"freeStorageSize", int64_t{0}},
                   {"capped", ns->coll->capped()}};
    if (ns->coll->capped()) {
      stats.Append("max", ns->coll->capped_max());
      stats.Append("maxSize", scaled(ns->coll->capped_size()));
    }
    stats.Append("nindexes", static_cast<int32_t>(ns->coll->indexes().size() + 1));
    stats.Append("totalIndexSize", scaled(total_index));
    stats.Append("totalSize", scaled(size + total_index));
    stats.Append("indexSizes", index_sizes);
    stats.Append("scaleFactor", static_cast<int32_t>(scale));
    out.Append("storageStats", stats);
  }
  return out;
}

namespace {

// The collection a statistics stage describes (its coll null if missing); 166 for a view.
absl::StatusOr<Namespace> OpenStatsTarget(storage::Engine* engine, std::string_view db, std::string_view coll) {
  auto ns = OpenNamespace(engine, db, coll, /*create=*/false);
  if (ns.ok() && ns->coll != nullptr && ns->coll->is_view()) {
    return MongoError(kCommandNotSupportedOnView, StrCat("Namespace ", db, ".", coll, " is a view, not a collection"));
  }
  return ns;
}

}  // namespace

absl::StatusOr<std::vector<Document>> EngineDataAccess::PlanCacheStats(std::string_view db, std::string_view coll) {
  auto ns = OpenStatsTarget(engine_, db, coll);
  if (!ns.ok()) return ns.status();
  std::vector<Document> out;
  if (ns->coll == nullptr) return out;
  for (const auto& [key, entry] : exec::PlanCache::Global().List(PlanCachePrefix(*ns->db, *ns->coll))) {
    char hash[17];
    snprintf(hash, sizeof(hash), "%016llX", static_cast<unsigned long long>(std::hash<std::string>()(key)));
    Document doc{{"planCacheKey", std::string(hash)},
                 {"isActive", true},
                 {"works", entry.works},
                 {"cachedPlan", entry.signature},
                 {"timeOfCreation", DateTime{entry.created_millis}}};
    if (!entry.created_from.empty()) doc.Append("createdFromQuery", bson::Decode(DocView(entry.created_from)));
    out.push_back(std::move(doc));
  }
  return out;
}

absl::StatusOr<std::vector<Document>> EngineDataAccess::IndexStats(std::string_view db, std::string_view coll) {
  auto ns = OpenStatsTarget(engine_, db, coll);
  if (!ns.ok()) return ns.status();
  std::vector<Document> out;
  if (ns->coll == nullptr) return out;
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  auto entry = [&](std::string name, Document key, Document spec) {
    IndexUse use = UsageOf(db, coll, name);
    out.push_back(Document{{"name", name},
                           {"key", key},
                           {"host", std::string(host)},
                           {"accesses", Document{{"ops", use.ops}, {"since", use.since}}},
                           {"spec", spec}});
  };
  entry("_id_", Document{{"_id", 1}}, Document{{"v", 2}, {"key", Document{{"_id", 1}}}, {"name", "_id_"}});
  for (const storage::IndexDef& def : ns->coll->indexes()) {
    Document spec = bson::Decode(DocView(def.spec));
    const Value* key = spec.Find("key");
    entry(std::string(def.name()), key != nullptr && key->type() == BsonType::kDocument ? key->AsDocument() : Document(),
          spec);
  }
  return out;
}

absl::StatusOr<std::string> EngineDataAccess::GeoNearKey(std::string_view db, std::string_view coll) {
  auto ns = OpenStatsTarget(engine_, db, coll);
  if (!ns.ok()) return ns.status();
  std::vector<std::string> paths;
  if (ns->coll != nullptr) {
    for (const storage::IndexDef& def : ns->coll->indexes()) {
      auto spec = ParsedIndexSpec(def.spec);
      if (spec == nullptr || !spec->geo()) continue;
      for (const index::KeyField& f : spec->fields()) {
        if (f.kind == index::KeyKind::kGeo2dsphere || f.kind == index::KeyKind::kGeo2d) {
          paths.push_back(f.path.dotted());
        }
      }
    }
  }
  if (paths.empty()) {
    return MongoError(kIndexNotFound, "$geoNear requires a 2d or 2dsphere index, but none were found");
  }
  if (paths.size() > 1) {
    return MongoError(kIndexNotFound, StrCat("There is more than one geo index on ", db, ".", coll,
                                             "; unsure which to use for $geoNear"));
  }
  return paths[0];
}

}  // namespace micromongo::service
