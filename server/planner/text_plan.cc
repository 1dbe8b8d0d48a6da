#include "planner/text_plan.h"

#include "document/builder.h"
#include "document/key_string.h"
#include "document/status.h"
#include "planner/index_bounds.h"

namespace micromongo::planner {
namespace {

using query::MatchExpression;
using query::MatchKind;

// The equality on `path` in the AND chain from the root, if any.
const query::ComparisonMatch* EqualityOn(const MatchExpression* e, const std::string& path) {
  if (e == nullptr) return nullptr;
  if (e->kind() == MatchKind::kAnd) {
    for (size_t i = 0; i < e->num_children(); ++i) {
      if (const auto* c = EqualityOn(e->child(i), path)) return c;
    }
    return nullptr;
  }
  if (e->kind() != MatchKind::kComparison) return nullptr;
  const auto& c = static_cast<const query::ComparisonMatch&>(*e);
  if (c.op() != query::CompareOp::kEq || c.path().dotted() != path) return nullptr;
  return &c;
}

std::string StringKey(const std::string& term) {
  bson::Builder b;
  b.AppendString("", term);
  std::string doc = std::move(b).Finish();
  std::string key;
  bson::AppendKeyString(bson::DocView(doc).begin()->value, &key);
  return key;
}

// TEXT_MATCH over TEXT_OR over one IXSCAN per term of `text`, for documents matching
// `filter` (whose equalities bound the index's prefix fields).
absl::StatusOr<std::unique_ptr<PlanNode>> TextSubplan(const query::Matcher& filter, const query::TextMatch& text,
                                                      const IndexEntry& ix, bool filter_rest) {
  const index::IndexSpec& spec = *ix.spec;
  auto query = text::TextQuery::Parse(text.search(), text.language(), text.case_sensitive(),
                                      text.diacritic_sensitive(), *spec.text());
  if (!query.ok()) return query.status();
  text.BindIndex(*query, spec.shared_text());

  // Every key field's bounds but the term's: prefix fields at the query's equalities,
  // the score and suffix fields whole.
  std::vector<IntervalList> bounds(spec.fields().size(), IntervalList{FullInterval()});
  bson::Builder index_prefix;
  size_t term_field = 0;
  bool prefix = true;
  for (size_t i = 0; i < spec.fields().size(); ++i) {
    const index::KeyField& f = spec.fields()[i];
    if (f.kind == index::KeyKind::kText) {
      term_field = i;
      prefix = false;
      continue;
    }
    if (!prefix) continue;
    const query::ComparisonMatch* eq = EqualityOn(filter.root(), f.path.dotted());
    std::optional<IntervalList> list;
    if (eq != nullptr) list = PredicateBounds(*eq, spec, i, SameCollation(nullptr, filter.collator()));
    if (!list || !AllPoints(*list) || list->size() != 1) {
      return MongoError(kNoQueryExecutionPlans,
                        "error processing query: planner returned error :: caused by :: failed to use text "
                        "index to satisfy $text query (if text index is compound, are equality predicates given "
                        "for all prefix fields?)");
    }
    bounds[i] = *std::move(list);
    index_prefix.AppendView(f.path.dotted(), eq->operand());
  }

  auto text_or = std::make_unique<PlanNode>();
  text_or->kind = NodeKind::kTextOr;
  text_or->index = &ix;
  text_or->text_query = *query;
  text_or->has_residual = true;
  if (filter_rest) {
    auto residual = filter.WithoutText();
    if (!residual.ok()) return residual.status();
    if (!(*residual)->MatchesAll()) text_or->residual = std::shared_ptr<const query::Matcher>(*std::move(residual));
  }
  for (const std::string& term : (*query)->terms_for_bounds()) {
    auto scan = std::make_unique<PlanNode>();
    scan->kind = NodeKind::kIndexScan;
    scan->index = &ix;
    scan->bounds = bounds;
    scan->bounds[term_field] = IntervalList{PointInterval(StringKey(term), StrCat("\"", term, "\""))};
    scan->has_residual = true;  // entries are not filtered: TEXT_OR filters the documents
    text_or->children.push_back(std::move(scan));
  }
  auto match = std::make_unique<PlanNode>();
  match->kind = NodeKind::kTextMatch;
  match->index = &ix;
  match->text_query = *query;
  match->index_prefix = std::move(index_prefix).Finish();
  match->has_residual = true;
  match->children.push_back(std::move(text_or));
  return match;
}

// The $or (at the top, or in a top-level $and) one of whose branches has $text.
std::optional<bson::DocView> TextOr(bson::DocView filter) {
  auto has_text = [](bson::DocView branch) {
    for (const bson::ElementView& e : branch) {
      if (e.key == "$text") return true;
      if (e.key == "$and" && e.value.type == BsonType::kArray) {
        for (const bson::ElementView& c : e.value.Doc()) {
          bson::ValueView t;
          if (c.value.type == BsonType::kDocument && c.value.Doc().Find("$text", &t)) return true;
        }
      }
    }
    return false;
  };
  for (const bson::ElementView& e : filter) {
    if (e.key == "$or" && e.value.type == BsonType::kArray) {
      for (const bson::ElementView& b : e.value.Doc()) {
        if (b.value.type == BsonType::kDocument && has_text(b.value.Doc())) return e.value.Doc();
      }
    }
    if (e.key == "$and" && e.value.type == BsonType::kArray) {
      for (const bson::ElementView& c : e.value.Doc()) {
        if (c.value.type != BsonType::kDocument) continue;
        if (auto found = TextOr(c.value.Doc())) return found;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<QuerySolution> PlanText(const PlannerInput& in) {
  const IndexEntry* ix = nullptr;
  for (const IndexEntry& e : in.indexes) {
    if (e.spec->text() != nullptr && !e.spec->hidden()) ix = &e;
  }
  if (ix == nullptr) return MongoError(kIndexNotFound, "text index required for $text query");
  QuerySolution s;
  if (const query::TextMatch* text = in.filter->text()) {
    auto plan = TextSubplan(*in.filter, *text, *ix, /*filter_rest=*/true);
    if (!plan.ok()) return plan.status();
    s.root = *std::move(plan);
    return s;
  }
  // $text in an $or branch: an OR of that branch's text plan and an index plan for every
  // other branch, under a FETCH that applies the whole filter.
  std::optional<bson::DocView> branches = TextOr(in.filter->filter());
  auto no_plan = [] {
    return MongoError(kNoQueryExecutionPlans,
                      "error processing query: planner returned error :: caused by :: Failed to produce a "
                      "solution for TEXT under OR - other non-TEXT clauses under OR have to be indexed as well.");
  };
  if (!branches) return no_plan();
  struct Kept {
    std::vector<std::shared_ptr<const query::Matcher>> filters;
    std::vector<std::shared_ptr<PlannerInput>> inputs;
  };
  auto kept = std::make_shared<Kept>();
  auto orn = std::make_unique<PlanNode>();
  orn->kind = NodeKind::kOr;
  for (const bson::ElementView& b : *branches) {
    auto sub = in.filter->Sibling(std::string(b.value.Doc().bytes()));
    if (!sub.ok()) return sub.status();
    std::shared_ptr<const query::Matcher> branch(*std::move(sub));
    kept->filters.push_back(branch);
    if (const query::TextMatch* text = branch->text()) {
      auto plan = TextSubplan(*branch, *text, *ix, /*filter_rest=*/false);
      if (!plan.ok()) return plan.status();
      // The FETCH above evaluates the whole filter, whose own $text node needs the index too.
      in.filter->any_text()->BindIndex((*plan)->text_query, ix->spec->shared_text());
      orn->children.push_back(*std::move(plan));
      continue;
    }
    auto input = std::make_shared<PlannerInput>();
    input->filter = branch.get();
    for (const IndexEntry& e : in.indexes) {
      if (e.spec->text() == nullptr) input->indexes.push_back(e);
    }
    kept->inputs.push_back(input);
    std::vector<QuerySolution> solutions = Plan(*input);
    if (solutions.empty() || solutions[0].root->kind == NodeKind::kCollScan) return no_plan();
    orn->children.push_back(std::move(solutions[0].root));
  }
  auto fetch = std::make_unique<PlanNode>();
  fetch->kind = NodeKind::kFetch;
  fetch->children.push_back(std::move(orn));
  fetch->keep_alive = kept;
  s.root = std::move(fetch);
  return s;
}

}  // namespace micromongo::planner
