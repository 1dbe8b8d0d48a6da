#include "service/query_planning.h"

#include "service/indexes.h"

#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "document/builder.h"
#include "document/key_string.h"
#include "document/status.h"
#include "planner/index_bounds.h"
#include "planner/plan_cache_key.h"
#include "planner/near_plan.h"
#include "planner/text_plan.h"
#include "planner/wildcard_expansion.h"
#include "service/indexes.h"

namespace micromongo::service {
namespace {

using bson::DocView;

// {_id: 1}, named _id_: the records themselves, keyed by _id.
const std::shared_ptr<const index::IndexSpec>& IdIndexSpec() {
  static const auto* spec = [] {
    std::string bytes = IdIndexDocument();
    return new std::shared_ptr<const index::IndexSpec>(
        std::make_shared<const index::IndexSpec>(*index::IndexSpec::Parse(DocView(bytes))));
  }();
  return *spec;
}

// Key patterns are the same index when their fields and directions agree (1 == 1.0).
bool SameKeyPattern(DocView a, DocView b) {
  auto x = a.begin(), y = b.begin();
  for (; x != a.end() && y != b.end(); ++x, ++y) {
    if (x->key != y->key) return false;
    if (x->value.IsNumber() && y->value.IsNumber()) {
      if ((x->value.AsDouble() < 0) != (y->value.AsDouble() < 0)) return false;
    } else if (bson::CompareValues(x->value, y->value) != 0) {
      return false;
    }
  }
  return x == a.end() && y == b.end();
}

absl::Status NoSuchHint() {
  return MongoError(kBadValue, "hint provided does not correspond to an existing index");
}

}  // namespace

std::shared_ptr<const index::IndexSpec> ParsedIndexSpec(std::string_view spec_bson) {
  static std::mutex mu;
  static auto* cache = new absl::flat_hash_map<std::string, std::shared_ptr<const index::IndexSpec>>();
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = cache->find(std::string(spec_bson));
    if (it != cache->end()) return it->second;
  }
  auto parsed = index::IndexSpec::Parse(DocView(spec_bson));
  if (!parsed.ok()) return nullptr;
  auto spec = std::make_shared<const index::IndexSpec>(*std::move(parsed));
  std::lock_guard<std::mutex> l(mu);
  if (cache->size() > 10000) cache->clear();
  cache->emplace(std::string(spec_bson), spec);
  return spec;
}

std::string PlanCachePrefix(const storage::Database& db, const storage::Collection& coll) {
  // The indexes as they stand: creating or dropping one, or one becoming multikey, makes
  // the collection's old entries unreachable (and invisible to $planCacheStats).
  std::string prefix = StrCat(db.name(), "\x01", coll.id(), "\x01");
  for (const storage::IndexDef& def : coll.indexes()) {
    auto spec = ParsedIndexSpec(def.spec);
    prefix += StrCat(def.id, ":", def.multikey_fields(), spec != nullptr && spec->hidden() ? "h," : ",");
  }
  prefix += "\x01";
  return prefix;
}

absl::StatusOr<QueryHint> ParseHint(const bson::ValueView& hint) {
  QueryHint h;
  if (hint.type == BsonType::kString) {
    h.index_name = std::string(hint.String());
    return h;
  }
  if (hint.type != BsonType::kDocument) return MongoError(kBadValue, "hint must be a string or an object");
  DocView d = hint.Doc();
  if (d.empty()) return h;
  if (d.begin()->key == "$natural") {
    bson::ValueView v = d.begin()->value;  // a copy: the iterator is a temporary
    if (!v.IsNumber() || (v.AsDouble() != 1 && v.AsDouble() != -1)) {
      return MongoError(kBadValue, "$natural hint must be 1 or -1");
    }
    h.natural = v.AsDouble() > 0 ? 1 : -1;
    return h;
  }
  h.key_pattern = std::string(d.bytes());
  return h;
}

namespace {

// One min or max bound as the hinted index's key string: false when it does not name the
// key pattern's fields in order, or holds strings (or documents, arrays) compared under a
// collation other than the index's.
bool EncodeBound(DocView bound, const planner::IndexEntry& ix, const bson::Collator* query_collator,
                 std::string* out) {
  const auto& fields = ix.spec->fields();
  bool collation_matches = planner::SameCollation(ix.spec->collator(), query_collator);
  size_t i = 0;
  for (const bson::ElementView& e : bound) {
    if (i >= fields.size() || e.key != fields[i].path.dotted()) return false;
    BsonType t = e.value.type;
    if (!collation_matches && (t == BsonType::kString || t == BsonType::kDocument || t == BsonType::kArray ||
                               t == BsonType::kSymbol)) {
      return false;
    }
    size_t start = out->size();
    bson::AppendKeyString(e.value, out, fields[i].kind == index::KeyKind::kHashed ? nullptr : ix.spec->collator());
    if (fields[i].descending()) {
      for (size_t b = start; b < out->size(); ++b) (*out)[b] = static_cast<char>(~(*out)[b]);
    }
    ++i;
  }
  return i == fields.size();
}

// find's min/max over the hinted index (MongoDB's planner rules and codes).
absl::Status SetKeyRange(const planner::IndexEntry& ix, const QueryRequest& request, planner::PlannerInput* input) {
  const bson::Collator* collator = request.filter->collator();
  bool ok = !ix.spec->wildcard();
  if (ok && !request.min.empty()) ok = EncodeBound(DocView(request.min), ix, collator, &input->key_min);
  if (ok && !request.max.empty()) ok = EncodeBound(DocView(request.max), ix, collator, &input->key_max);
  if (!ok) return MongoError(51174, "The index chosen is not compatible with min/max");
  if (!request.min.empty() && !request.max.empty() && input->key_min >= input->key_max) {
    return MongoError(51175, "The value provided for min() does not come before the value provided for max() "
                             "in the hinted index");
  }
  input->key_range = true;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<exec::PlanExecutor>> PlanQuery(std::shared_ptr<storage::Database> db,
                                                             std::shared_ptr<const storage::Collection> coll,
                                                             const QueryRequest& request, const Deadline* deadline) {
  exec::ExecContext ctx;
  // The snapshot before the multikey flags: a write it holds set its flags before it
  // committed, so the planner sees them.
  ctx.snapshot = db->Snapshot();
  ctx.db = std::move(db);
  ctx.coll = std::move(coll);
  ctx.filter = request.filter;
  ctx.deadline = deadline;

  auto input = std::make_shared<planner::PlannerInput>();
  input->filter = request.filter.get();
  input->sort = request.sort;
  input->projection_fields = request.projection_fields;
  input->projection_includes_id = request.projection_includes_id;
  input->distinct_field = request.distinct_field;
  input->count = request.count;
  if (ctx.coll->timeseries()) {
    input->has_id_index = false;  // records keyed by time: no _id index
  } else {
    planner::IndexEntry id;
    id.id = 0;
    id.name = ClusteredIndexName(*ctx.coll);  // a clustered collection's records are its _id index
    if (id.name.empty()) id.name = "_id_";
    id.spec = IdIndexSpec();
    input->indexes.push_back(std::move(id));
  }
  const bool has_text = request.filter->contains_text();
  for (const storage::IndexDef& def : ctx.coll->indexes()) {
    planner::IndexEntry e;
    e.id = def.id;
    e.name = std::string(def.name());
    e.spec = ParsedIndexSpec(def.spec);
    if (e.spec == nullptr) continue;
    // A text index answers $text and nothing else.
    if (e.spec->text() != nullptr && !has_text) continue;
    e.multikey_fields = def.multikey_fields();
    input->indexes.push_back(std::move(e));
  }
  // A wildcard index is planned as one entry per path of the query it covers (after every
  // other index, so that positions above stay put).
  size_t stored = input->indexes.size();
  for (size_t i = 0; i < stored; ++i) {
    if (!input->indexes[i].spec->wildcard()) continue;
    for (planner::IndexEntry& e : planner::ExpandWildcard(input->indexes[i], request.filter->root(), request.sort)) {
      input->indexes.push_back(std::move(e));
    }
  }
  if (request.filter->near() != nullptr || has_text) {
    // $near and $text have one plan each, over a geo index on the path or over the text
    // index (hints do not change it).
    auto solution = has_text ? planner::PlanText(*input) : planner::PlanNear(*input);
    if (!solution.ok()) return solution.status();
    std::vector<planner::QuerySolution> solutions;
    solutions.push_back(*std::move(solution));
    return exec::PlanExecutor::Make(std::move(ctx), std::move(input), std::move(solutions), request.results_target,
                                    !request.sort.empty());
  }
  const QueryHint& hint = request.hint;
  if (hint.natural != 0) {
    input->hint_natural = hint.natural;
  } else if (!hint.empty()) {
    for (size_t i = 0; i < input->indexes.size(); ++i) {
      const planner::IndexEntry& e = input->indexes[i];
      bool named = !hint.index_name.empty() ? e.name == hint.index_name
                                            : SameKeyPattern(e.spec->key_pattern(), DocView(hint.key_pattern));
      if (!named) continue;
      if (e.spec->hidden()) return NoSuchHint();  // hidden indexes cannot be hinted
      input->hint_index = i;
      break;
    }
    if (!input->hint_index) return NoSuchHint();
    if (!request.min.empty() || !request.max.empty()) {
      if (auto s = SetKeyRange(input->indexes[*input->hint_index], request, input.get()); !s.ok()) return s;
    }
    if (input->indexes[*input->hint_index].spec->wildcard()) {
      // A hinted wildcard index: its entry for the first path of the query it can serve.
      uint32_t id = input->indexes[*input->hint_index].id;
      input->hint_index.reset();
      for (size_t i = stored; i < input->indexes.size(); ++i) {
        if (input->indexes[i].id == id) {
          input->hint_index = i;
          break;
        }
      }
      if (!input->hint_index) {
        return MongoError(kNoQueryExecutionPlans,
                          "$hint: refusing to build whole-index solution, because it's a wildcard index");
      }
    }
  }
  if ((!request.min.empty() || !request.max.empty()) && !input->key_range) {
    return MongoError(51173, "When using min()/max() a hint of which index to use must be provided");
  }
  std::vector<planner::QuerySolution> solutions = planner::Plan(*input);
  if (input->hint_index && !input->indexes[*input->hint_index].wildcard_path.empty() &&
      solutions[0].root->kind == planner::NodeKind::kCollScan) {
    return MongoError(kNoQueryExecutionPlans,
                      "$hint: refusing to build whole-index solution, because it's a wildcard index");
  }
  std::string cache_key;
  if (hint.empty() && solutions.size() > 1 && request.use_plan_cache) {
    // The collection, its indexes as they stand (ids and multikey flags), the collation and
    // the query's shape.
    // PlanCachePrefix's form, from the multikey flags this plan was made with.
    cache_key = StrCat(ctx.db->name(), "\x01", ctx.coll->id(), "\x01");
    for (const planner::IndexEntry& e : input->indexes) {
      if (e.id != 0) cache_key += StrCat(e.id, ":", e.multikey_fields, e.spec->hidden() ? "h," : ",");
    }
    cache_key += "\x01";
    if (const bson::Collator* c = request.filter->collator()) cache_key += std::string(c->spec());
    cache_key += "\x01";
    cache_key += planner::QueryShape(request.filter->root(), request.sort,
                                     request.projection_fields ? &*request.projection_fields : nullptr,
                                     request.projection_includes_id);
    if (request.count) cache_key += "\x01count";
  }
  // The cache entry's description, made only when an entry is made (decoding the filter
  // on every use of a cached plan was a measurable part of a planned query).
  auto note = [&request] {
    Document from{{"query", bson::Decode(request.filter->filter())},
                  {"sort", request.sort.empty() ? Document() : bson::Decode(DocView(request.sort))}};
    Document projection;
    if (request.projection_fields) {
      for (const std::string& f : *request.projection_fields) projection.Append(f, 1);
      if (!request.projection_includes_id) projection.Append("_id", 0);
    }
    from.Append("projection", projection);
    return bson::Encode(from);
  };
  return exec::PlanExecutor::Make(std::move(ctx), std::move(input), std::move(solutions), request.results_target,
                                  !request.sort.empty(), std::move(cache_key), note);
}

}  // namespace micromongo::service
