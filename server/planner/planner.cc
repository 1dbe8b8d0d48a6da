#include "planner/planner.h"

#include <algorithm>
#include <set>

#include <cmath>

#include "document/bson_view.h"
#include "document/builder.h"
#include "document/compare.h"
#include "document/status.h"
#include "planner/index_bounds.h"
#include "planner/wildcard_expansion.h"

namespace micromongo::planner {
namespace {

using query::MatchExpression;
using query::MatchKind;

// A predicate on one path of the documents, from the AND at the top of a filter (or of an
// $or branch). `group` ties predicates of one $elemMatch object (-1: none).
struct Pred {
  std::string path;
  const MatchExpression* expr;
  int group;
};

bool IsPath(MatchKind k) {
  return k != MatchKind::kAnd && k != MatchKind::kOr && k != MatchKind::kNot && k != MatchKind::kExpr &&
         k != MatchKind::kJsonSchema && k != MatchKind::kText;
}

const std::string& PathOf(const MatchExpression& e) {
  return static_cast<const query::PathMatchExpression&>(e).path().dotted();
}

struct Collected {
  std::vector<Pred> preds;
  std::vector<const MatchExpression*> ors;
};

void Collect(const MatchExpression* e, const std::string& prefix, int group, int* groups, Collected* out) {
  switch (e->kind()) {
    case MatchKind::kAnd:
      for (size_t i = 0; i < e->num_children(); ++i) Collect(e->child(i), prefix, group, groups, out);
      return;
    case MatchKind::kOr:
      if (prefix.empty()) out->ors.push_back(e);
      return;
    case MatchKind::kNot: {
      const MatchExpression* c = e->child(0);
      if (IsPath(c->kind())) out->preds.push_back({prefix + PathOf(*c), e, group});
      return;
    }
    case MatchKind::kElemMatch: {
      const auto& em = static_cast<const query::ElemMatch&>(*e);
      if (em.value_form()) {
        out->preds.push_back({prefix + PathOf(*e), e, group});
      } else {
        Collect(&em.inner(), prefix + PathOf(*e) + ".", (*groups)++, groups, out);
      }
      return;
    }
    default:
      if (IsPath(e->kind())) out->preds.push_back({prefix + PathOf(*e), e, group});
  }
}

Collected CollectFrom(const MatchExpression* root) {
  Collected c;
  int groups = 0;
  if (root != nullptr) Collect(root, "", -1, &groups, &c);
  return c;
}

std::string FirstComponent(const std::string& path) { return path.substr(0, path.find('.')); }

// The bounds of every key field; `bounded[i]` when a predicate bounds field i.
struct Bounds {
  std::vector<IntervalList> lists;
  std::vector<bool> bounded;
};

Bounds BoundsFor(const IndexEntry& ix, const std::vector<Pred>& preds, bool collation_matches) {
  const auto& fields = ix.spec->fields();
  Bounds b;
  b.lists.assign(fields.size(), IntervalList{FullInterval()});
  b.bounded.assign(fields.size(), false);
  std::vector<int> groups(fields.size(), -1);
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& path = fields[i].path.dotted();
    std::optional<IntervalList> list;
    int group = -1;
    for (const Pred& p : preds) {
      if (p.path != path) continue;
      auto pb = PredicateBounds(*p.expr, *ix.spec, i, collation_matches);
      if (!pb) continue;
      if (!list) {
        list = std::move(pb);
        group = p.group;
      } else if (!ix.field_multikey(i) || (p.group >= 0 && p.group == group)) {
        list = Intersect(*list, *pb);
      } else if (!AllPoints(*list) && AllPoints(*pb)) {
        list = std::move(pb);  // one predicate only on a multikey field: the equality
        group = p.group;
      }
    }
    if (!list) continue;
    if (fields[i].kind == index::KeyKind::kGeo2dsphere && !ix.field_multikey(i)) {
      // Only points so far: no key is a coarser cell, so the covering's ancestors (the
      // point intervals) can go.
      list->erase(std::remove_if(list->begin(), list->end(), [](const Interval& iv) { return iv.IsPoint(); }),
                  list->end());
    }
    if (ix.field_multikey(i)) {
      // Fields under one multikey path are compounded only within one $elemMatch.
      bool shared = false;
      for (size_t j = 0; j < i; ++j) {
        if (b.bounded[j] && ix.field_multikey(j) &&
            FirstComponent(fields[j].path.dotted()) == FirstComponent(path) && (group < 0 || groups[j] != group)) {
          shared = true;
        }
      }
      if (shared) continue;
    }
    b.lists[i] = *std::move(list);
    b.bounded[i] = true;
    groups[i] = group;
  }
  return b;
}

// Whether a document missing every key field can match (then a sparse index misses it).
bool ExcludesMissing(const IndexEntry& ix, const Bounds& b) {
  static const char kNone[1] = {};
  for (size_t i = 0; i < b.lists.size(); ++i) {
    if (!b.bounded[i]) continue;
    std::string null_key = FieldKey(bson::ValueView{BsonType::kNull, kNone, 0}, *ix.spec, i);
    if (!ListContains(b.lists[i], null_key)) return true;
  }
  return false;
}

// Whether every document matching `preds` matches the partial filter expression `p`.
bool Implied(const MatchExpression& p, const std::vector<Pred>& preds) {
  if (p.kind() == MatchKind::kAnd) {
    for (size_t i = 0; i < p.num_children(); ++i) {
      if (!Implied(*p.child(i), preds)) return false;
    }
    return true;
  }
  if (!IsPath(p.kind())) return false;
  const auto& leaf = static_cast<const query::PathMatchExpression&>(p);
  for (const Pred& q : preds) {
    if (q.path != leaf.path().dotted() || q.group >= 0) continue;
    const MatchExpression& e = *q.expr;
    auto plain = [](const bson::ValueView& v) {
      return v.type != BsonType::kNull && v.type != BsonType::kArray && v.type != BsonType::kUndefined;
    };
    if (e.kind() == MatchKind::kComparison) {
      const auto& c = static_cast<const query::ComparisonMatch&>(e);
      if (c.op() == query::CompareOp::kEq) {
        if (plain(c.operand()) && leaf.MatchesValue(c.operand())) return true;
        continue;
      }
      if (p.kind() == MatchKind::kExists) return c.operand().type != BsonType::kNull;
      if (p.kind() != MatchKind::kComparison) continue;
      const auto& pc = static_cast<const query::ComparisonMatch&>(p);
      if (bson::CanonicalTypeOrder(pc.operand().type) != bson::CanonicalTypeOrder(c.operand().type)) continue;
      int cmp = bson::CompareValues(c.operand(), pc.operand());
      bool q_lower = c.op() == query::CompareOp::kGt || c.op() == query::CompareOp::kGte;
      bool p_lower = pc.op() == query::CompareOp::kGt || pc.op() == query::CompareOp::kGte;
      if (q_lower != p_lower || pc.op() == query::CompareOp::kEq) continue;
      bool q_strict = c.op() == query::CompareOp::kGt || c.op() == query::CompareOp::kLt;
      bool p_strict = pc.op() == query::CompareOp::kGt || pc.op() == query::CompareOp::kLt;
      if (q_lower ? (cmp > 0 || (cmp == 0 && (q_strict || !p_strict))) : (cmp < 0 || (cmp == 0 && (q_strict || !p_strict)))) {
        return true;
      }
      continue;
    }
    if (e.kind() == MatchKind::kIn) {
      const auto& in = static_cast<const query::InMatch&>(e);
      if (!in.regexes().empty() || in.operands().empty()) continue;
      bool all = true;
      for (const auto& v : in.operands()) all = all && plain(v) && leaf.MatchesValue(v);
      if (all) return true;
      continue;
    }
    if (p.kind() == MatchKind::kExists &&
        (e.kind() == MatchKind::kRegex || e.kind() == MatchKind::kMod || e.kind() == MatchKind::kBits ||
         e.kind() == MatchKind::kSize || e.kind() == MatchKind::kElemMatch)) {
      return true;
    }
    if (e.kind() == p.kind() && e.kind() == MatchKind::kExists) return true;
  }
  return false;
}

struct SortField {
  std::string path;
  int direction;
};

std::vector<SortField> ParseSort(const std::string& sort) {
  std::vector<SortField> out;
  if (sort.empty()) return out;
  for (const bson::ElementView& e : bson::DocView(sort)) {
    int dir = 1;
    if (e.value.IsNumber()) dir = e.value.AsDouble() < 0 ? -1 : 1;
    out.push_back({std::string(e.key), dir});
  }
  return out;
}

bool SortHasMeta(const std::string& sort) {
  for (const bson::ElementView& e : bson::DocView(sort)) {
    if (!e.value.IsNumber()) return true;
  }
  return false;
}

// How an index gives the sort: its scan direction, and the multi-point prefix fields whose
// points must be merged (SORT_MERGE). nullopt: it does not.
struct SortProvision {
  int direction = 1;
  std::vector<size_t> merge_fields;
};

std::optional<SortProvision> ProvidesSort(const IndexEntry& ix, const Bounds& b, const std::vector<SortField>& sort,
                                          bool collation_matches) {
  if (sort.empty()) return SortProvision{};
  if (!collation_matches) return std::nullopt;
  const auto& fields = ix.spec->fields();
  SortProvision out;
  int dir = 0;
  size_t i = 0;
  for (const SortField& s : sort) {
    while (i < fields.size() && fields[i].path.dotted() != s.path && AllPoints(b.lists[i])) {
      if (b.lists[i].size() > 1) out.merge_fields.push_back(i);
      ++i;
    }
    if (i >= fields.size() || fields[i].path.dotted() != s.path) return std::nullopt;
    if (b.lists[i].size() == 1 && b.lists[i][0].IsPoint()) {
      ++i;
      continue;
    }
    if (fields[i].opaque() || ix.field_multikey(i)) return std::nullopt;
    int d = s.direction * (fields[i].descending() ? -1 : 1);
    if (dir != 0 && d != dir) return std::nullopt;
    dir = d;
    ++i;
  }
  out.direction = dir == 0 ? 1 : dir;
  if (!out.merge_fields.empty()) {
    size_t combos = 1;
    for (size_t f : out.merge_fields) combos *= b.lists[f].size();
    if (combos > 200) return std::nullopt;
  }
  return out;
}

bool Usable(const IndexEntry& ix, const Bounds& b, const Collected& c, bool hinted) {
  if (ix.spec->geo()) {
    // Documents without a geometry are not in a geo index: only a geo predicate on
    // one of its geo fields (which no such document matches) lets a plan use it.
    bool geo_bounded = false;
    for (size_t i = 0; i < ix.spec->fields().size(); ++i) {
      index::KeyKind kind = ix.spec->fields()[i].kind;
      geo_bounded = geo_bounded ||
                    ((kind == index::KeyKind::kGeo2dsphere || kind == index::KeyKind::kGeo2d) && b.bounded[i]);
    }
    if (!geo_bounded) return false;
  }
  if (hinted) return true;
  if (ix.spec->hidden()) return false;
  if (ix.spec->sparse() && !ExcludesMissing(ix, b)) return false;
  if (ix.spec->partial() && !Implied(*ix.spec->partial_filter()->root(), c.preds)) return false;
  return true;
}

std::unique_ptr<PlanNode> Scan(const IndexEntry& ix, std::vector<IntervalList> bounds, int direction) {
  auto n = std::make_unique<PlanNode>();
  n->kind = NodeKind::kIndexScan;
  n->index = &ix;
  n->bounds = std::move(bounds);
  n->direction = direction;
  return n;
}

std::unique_ptr<PlanNode> Over(NodeKind kind, std::unique_ptr<PlanNode> child) {
  auto n = std::make_unique<PlanNode>();
  n->kind = kind;
  n->children.push_back(std::move(child));
  return n;
}

// Whether the filter only reads `keys` with predicates a key value decides alike.
bool FilterOnKeys(const MatchExpression* e, const std::set<std::string>& keys) {
  if (e == nullptr) return true;
  switch (e->kind()) {
    case MatchKind::kAnd:
    case MatchKind::kOr:
    case MatchKind::kNot:
      for (size_t i = 0; i < e->num_children(); ++i) {
        if (!FilterOnKeys(e->child(i), keys)) return false;
      }
      return true;
    case MatchKind::kComparison:
    case MatchKind::kIn:
    case MatchKind::kRegex:
    case MatchKind::kMod:
    case MatchKind::kBits:
      return keys.count(PathOf(*e)) > 0;
    default:
      return false;
  }
}

void FilterPaths(const MatchExpression* e, std::set<std::string>* out) {
  if (e == nullptr) return;
  if (IsPath(e->kind())) {
    out->insert(PathOf(*e));
    return;
  }
  for (size_t i = 0; i < e->num_children(); ++i) FilterPaths(e->child(i), out);
}

bool Coverable(const PlannerInput& in, const IndexEntry& ix, const Bounds& b, bool sorted,
               const std::vector<SortField>& sort) {
  if (!in.projection_fields || ix.multikey()) return false;
  std::set<std::string> keys;
  for (const auto& f : ix.spec->fields()) {
    if (f.opaque()) return false;
    for (size_t i = 0; i < f.path.size(); ++i) {
      if (f.path.index(i)) return false;
    }
    keys.insert(f.path.dotted());
  }
  if (in.projection_includes_id && !keys.count("_id")) return false;
  std::set<std::string> used(in.projection_fields->begin(), in.projection_fields->end());
  if (in.projection_includes_id) used.insert("_id");
  const MatchExpression* root = in.filter->root();
  if (!FilterOnKeys(root, keys)) return false;
  FilterPaths(root, &used);
  if (!sorted) {
    for (const SortField& s : sort) used.insert(s.path);
  }
  static const char kNone[1] = {};
  for (size_t i = 0; i < ix.spec->fields().size(); ++i) {
    const std::string& path = ix.spec->fields()[i].path.dotted();
    if (!used.count(path)) continue;
    // A missing field is keyed null: the key cannot tell it from a stored null.
    std::string null_key = FieldKey(bson::ValueView{BsonType::kNull, kNone, 0}, *ix.spec, i);
    if (ListContains(b.lists[i], null_key)) return false;
  }
  for (const std::string& u : used) {
    if (!keys.count(u)) return false;
  }
  return true;
}

// Whether the bounds of a non-multikey ascending or descending key field answer a
// comparison with `v` exactly: comparisons are type-bracketed and key strings order values
// as comparisons do. Decimals, NaN, null, arrays, objects and regexes keep their filter
// (their bounds are looser than their matches, as in MongoDB's INEXACT_FETCH).
bool ExactOperand(const bson::ValueView& v, bool collation_matches) {
  switch (v.type) {
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kObjectId:
    case BsonType::kBool:
    case BsonType::kDate:
      return true;
    case BsonType::kDouble:
      return !std::isnan(v.Double());
    case BsonType::kString:
      return collation_matches;
    default:
      return false;
  }
}

// Whether the top-level filter element `e` (a path's equality or operators) is answered
// exactly by the bounds of key field `i`.
bool ExactElement(const bson::ElementView& e, const IndexEntry& ix, size_t i, bool collation_matches) {
  const index::KeyField& f = ix.spec->fields()[i];
  if (f.opaque() || ix.field_multikey(i) || ix.spec->wildcard() || !ix.wildcard_path.empty()) {
    return false;
  }
  for (size_t c = 0; c < f.path.size(); ++c) {
    if (f.path.index(c)) return false;  // positional components select elements, not values
  }
  if (e.value.type != BsonType::kDocument) return ExactOperand(e.value, collation_matches);
  bson::DocView ops = e.value.Doc();
  if (ops.empty() || ops.begin()->key.empty() || ops.begin()->key[0] != '$') return false;
  for (const bson::ElementView& op : ops) {
    if (op.key == "$in") {
      if (op.value.type != BsonType::kArray || op.value.Doc().empty()) return false;
      for (const bson::ElementView& v : op.value.Doc()) {
        if (!ExactOperand(v.value, collation_matches)) return false;
      }
    } else if (op.key == "$eq" || op.key == "$gt" || op.key == "$gte" || op.key == "$lt" || op.key == "$lte") {
      if (!ExactOperand(op.value, collation_matches)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// The filter a stage over `ix`'s bounds `b` still has to apply: the top-level elements of
// the query's filter that the bounds do not answer exactly. Sets `node`'s residual unless
// nothing is answered exactly (then the stage applies the whole filter).
void SetResidual(const PlannerInput& in, const IndexEntry& ix, const Bounds& b, PlanNode* node) {
  bson::DocView filter = in.filter->filter();
  if (filter.empty() || in.filter->root() == nullptr) return;
  bool collation_matches = SameCollation(ix.spec->collator(), in.filter->collator());
  const auto& fields = ix.spec->fields();
  bson::Builder rest;
  bool any_exact = false, any_rest = false;
  for (const bson::ElementView& e : filter) {
    bool exact = false;
    for (size_t i = 0; i < fields.size() && !exact; ++i) {
      exact = b.bounded[i] && fields[i].path.dotted() == e.key && ExactElement(e, ix, i, collation_matches);
    }
    if (exact) {
      any_exact = true;
    } else {
      rest.AppendView(e.key, e.value);
      any_rest = true;
    }
  }
  if (!any_exact) return;
  if (any_rest) {
    const pipeline::VariableMap* let = in.filter->let();
    auto parsed = let != nullptr ? query::Matcher::Parse(std::move(rest).Finish(), *let, in.filter->shared_collator())
                                 : query::Matcher::Parse(std::move(rest).Finish(), nullptr, in.filter->shared_collator());
    if (!parsed.ok()) return;  // the whole filter parsed, so its parts do too
    node->residual = std::shared_ptr<const query::Matcher>(*std::move(parsed));
  }
  node->has_residual = true;
}

// A wildcard index's view of one path: its first field is the path itself; usable only when
// every predicate on the path is one its keys can answer, and one bounds it (documents
// without the path are not in the index, so it can serve neither a bare sort nor a scan).
bool WildcardBounds(const IndexEntry& ix, const Collected& c, Bounds* b) {
  bool any = false;
  for (const Pred& p : c.preds) {
    if (p.path != ix.wildcard_path) continue;
    if (p.group >= 0 || !WildcardCompatible(*p.expr)) return false;
    any = true;
  }
  if (!any || !b->bounded[1]) return false;
  b->lists[0] = IntervalList{PointInterval(index::PathKeyString(ix.wildcard_path), StrCat("\"", ix.wildcard_path, "\""))};
  b->bounded[0] = true;
  return true;
}

// The plan of one index for the filter: bounds, sort and coverage.
std::optional<QuerySolution> IndexPlan(const PlannerInput& in, const IndexEntry& ix, const Collected& c,
                                       const std::vector<SortField>& sort, bool hinted) {
  // Without a hint or a sort, an index serves only a query that bounds its first field
  // (checked below on the bounds): an index no predicate's path leads is left before its
  // other fields' bounds are derived (two of a find's three BoundsFor calls, ~3% of an
  // indexed find's instructions, went to indexes it then refused).
  if (!hinted && sort.empty() && ix.wildcard_path.empty()) {
    const std::string& first = ix.spec->fields()[0].path.dotted();
    if (std::none_of(c.preds.begin(), c.preds.end(), [&](const Pred& p) { return p.path == first; })) {
      return std::nullopt;
    }
  }
  bool collation_matches = SameCollation(ix.spec->collator(), in.filter->collator());
  Bounds b = BoundsFor(ix, c.preds, collation_matches);
  if (!ix.wildcard_path.empty() && !WildcardBounds(ix, c, &b)) return std::nullopt;
  auto provision = ProvidesSort(ix, b, sort, collation_matches);
  bool leading = b.bounded[0];
  if (!hinted && !leading && !(provision && !sort.empty())) return std::nullopt;
  if (!Usable(ix, b, c, hinted)) return std::nullopt;
  QuerySolution s;
  s.provides_sort = provision.has_value();
  int direction = provision ? provision->direction : 1;
  if (provision && !provision->merge_fields.empty()) {
    // One scan per combination of the merged fields' points, each in sort order.
    auto merge = std::make_unique<PlanNode>();
    merge->kind = NodeKind::kSortMerge;
    merge->sort_pattern = in.sort;
    std::vector<std::vector<IntervalList>> combos{b.lists};
    for (size_t f : provision->merge_fields) {
      std::vector<std::vector<IntervalList>> next;
      for (const auto& combo : combos) {
        for (const Interval& point : b.lists[f]) {
          auto copy = combo;
          copy[f] = IntervalList{point};
          next.push_back(std::move(copy));
        }
      }
      combos = std::move(next);
    }
    for (auto& combo : combos) merge->children.push_back(Scan(ix, std::move(combo), direction));
    s.root = Over(NodeKind::kFetch, std::move(merge));
    SetResidual(in, ix, b, s.root.get());
    return s;
  }
  auto scan = Scan(ix, b.lists, direction);
  if (Coverable(in, ix, b, s.provides_sort, sort)) {
    scan->filter_keys = true;
    s.covered = true;
    s.root = std::move(scan);
  } else {
    s.root = Over(NodeKind::kFetch, std::move(scan));
  }
  SetResidual(in, ix, b, s.root.get());
  if (in.count && s.covered && s.root->has_residual && s.root->residual == nullptr &&
      std::all_of(b.lists.begin(), b.lists.end(), [](const IntervalList& l) { return l.size() == 1; })) {
    s.root->kind = NodeKind::kCountScan;
  }
  return s;
}

// Rates how narrowly an index's bounds select, to pick one per $or branch.
int Selectivity(const IndexEntry& ix, const Collected& c, bool collation_matches) {
  Bounds b = BoundsFor(ix, c.preds, collation_matches);
  int score = 0;
  for (size_t i = 0; i < b.lists.size() && b.bounded[i]; ++i) {
    score += AllPoints(b.lists[i]) ? 4 : 1;
    if (!AllPoints(b.lists[i])) break;
  }
  return score;
}

std::optional<QuerySolution> OrPlan(const PlannerInput& in, const MatchExpression& orx, const Collected& outer) {
  auto n = std::make_unique<PlanNode>();
  n->kind = NodeKind::kOr;
  for (size_t i = 0; i < orx.num_children(); ++i) {
    Collected branch = CollectFrom(orx.child(i));
    if (!branch.ors.empty()) return std::nullopt;
    Collected context = branch;
    context.preds.insert(context.preds.end(), outer.preds.begin(), outer.preds.end());
    const IndexEntry* best = nullptr;
    int best_score = 0;
    for (const IndexEntry& ix : in.indexes) {
      bool cm = SameCollation(ix.spec->collator(), in.filter->collator());
      Bounds b = BoundsFor(ix, branch.preds, cm);
      if (!b.bounded[0] || !Usable(ix, BoundsFor(ix, context.preds, cm), context, false)) continue;
      int score = Selectivity(ix, branch, cm);
      if (best == nullptr || score > best_score) best = &ix, best_score = score;
    }
    if (best == nullptr) return std::nullopt;
    bool cm = SameCollation(best->spec->collator(), in.filter->collator());
    n->children.push_back(Scan(*best, BoundsFor(*best, branch.preds, cm).lists, 1));
  }
  QuerySolution s;
  s.root = Over(NodeKind::kFetch, std::move(n));
  return s;
}

QuerySolution CollScan(int direction, bool provides_sort) {
  QuerySolution s;
  s.root = std::make_unique<PlanNode>();
  s.root->kind = NodeKind::kCollScan;
  s.root->direction = direction;
  s.provides_sort = provides_sort;
  return s;
}

// distinct's plan: the first entry per value of `in.distinct_field`, from an index that
// leads with it (the hinted one, if any).
std::optional<QuerySolution> DistinctPlan(const PlannerInput& in, const Collected& c) {
  const MatchExpression* root = in.filter->root();
  if (!FilterOnKeys(root, {in.distinct_field})) return std::nullopt;
  for (size_t i = 0; i < in.indexes.size(); ++i) {
    const IndexEntry& ix = in.indexes[i];
    if (in.hint_index && *in.hint_index != i) continue;
    const auto& fields = ix.spec->fields();
    if (ix.id == 0 || ix.spec->wildcard() || !ix.wildcard_path.empty()) continue;
    if (fields[0].path.dotted() != in.distinct_field) continue;
    if (fields[0].opaque() || ix.field_multikey(0)) continue;
    if (ix.spec->partial() || ix.spec->hidden() || ix.spec->collator() != nullptr) continue;
    if (in.filter->collator() != nullptr) continue;
    Bounds b = BoundsFor(ix, c.preds, /*collation_matches=*/true);
    std::vector<IntervalList> lists;
    lists.push_back(b.lists[0]);
    for (size_t f = 1; f < fields.size(); ++f) lists.push_back(IntervalList{FullInterval()});
    auto scan = Scan(ix, std::move(lists), 1);
    scan->kind = NodeKind::kDistinctScan;
    scan->filter_keys = true;
    QuerySolution s;
    s.covered = true;
    s.root = std::move(scan);
    return s;
  }
  return std::nullopt;
}

}  // namespace

std::vector<QuerySolution> Plan(const PlannerInput& in) {
  std::vector<QuerySolution> out;
  std::vector<SortField> sort = ParseSort(in.sort);
  bool meta_sort = !in.sort.empty() && SortHasMeta(in.sort);
  int natural_sort = 0;
  if (sort.size() == 1 && sort[0].path == "$natural") natural_sort = sort[0].direction;
  if (in.hint_natural != 0) {
    out.push_back(CollScan(in.hint_natural, sort.empty() || natural_sort == in.hint_natural));
    return out;
  }
  if (in.filter->id_equality() != nullptr && !in.hint_index && in.has_id_index) {
    QuerySolution s;
    s.root = std::make_unique<PlanNode>();
    s.root->kind = NodeKind::kIdHack;
    s.provides_sort = true;  // one document at most
    out.push_back(std::move(s));
    return out;
  }
  if (natural_sort != 0 && !in.hint_index) {
    out.push_back(CollScan(natural_sort, true));
    return out;
  }
  if (meta_sort) sort.clear();
  Collected c = CollectFrom(in.filter->root());
  if (!in.distinct_field.empty()) {
    if (auto s = DistinctPlan(in, c)) {
      out.push_back(*std::move(s));
      return out;
    }
  }
  if (in.hint_index && in.key_range) {
    // find's min/max: the hinted index's keys in that range, the filter applied after.
    const IndexEntry& ix = in.indexes[*in.hint_index];
    Bounds full;
    full.lists.assign(ix.spec->fields().size(), IntervalList{FullInterval()});
    full.bounded.assign(ix.spec->fields().size(), false);
    auto provision = ProvidesSort(ix, full, sort, SameCollation(ix.spec->collator(), in.filter->collator()));
    auto scan = Scan(ix, full.lists, provision ? provision->direction : 1);
    scan->key_range = true;
    scan->key_min = in.key_min;
    scan->key_max = in.key_max;
    QuerySolution s;
    s.provides_sort = provision.has_value() && !meta_sort;
    s.root = Over(NodeKind::kFetch, std::move(scan));
    out.push_back(std::move(s));
    return out;
  }
  if (in.hint_index && !in.indexes[*in.hint_index].wildcard_path.empty()) {
    // A hinted wildcard index: the first of its paths whose predicates it can answer; a
    // collection scan if none (the caller reports the hint as unusable).
    uint32_t id = in.indexes[*in.hint_index].id;
    for (size_t i = *in.hint_index; i < in.indexes.size(); ++i) {
      if (in.indexes[i].id != id) continue;
      if (auto s = IndexPlan(in, in.indexes[i], c, sort, /*hinted=*/true)) {
        out.push_back(*std::move(s));
        if (meta_sort) out.back().provides_sort = false;
        return out;
      }
    }
    out.push_back(CollScan(1, sort.empty() && !meta_sort));
    return out;
  }
  if (in.hint_index) {
    auto s = IndexPlan(in, in.indexes[*in.hint_index], c, sort, /*hinted=*/true);
    out.push_back(*std::move(s));
    if (meta_sort) out.back().provides_sort = false;
    return out;
  }
  for (const IndexEntry& ix : in.indexes) {
    if (ix.spec->wildcard()) continue;  // planned through its per-path entries
    auto s = IndexPlan(in, ix, c, sort, /*hinted=*/false);
    if (!s) continue;
    if (meta_sort) s->provides_sort = false;
    out.push_back(*std::move(s));
  }
  if (c.ors.size() == 1) {
    auto s = OrPlan(in, *c.ors[0], c);
    if (s) out.push_back(*std::move(s));
  }
  if (out.empty()) out.push_back(CollScan(1, sort.empty() && !meta_sort));
  return out;
}

}  // namespace micromongo::planner
