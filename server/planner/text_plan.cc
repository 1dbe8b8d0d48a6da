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

}  // namespace

absl::StatusOr<QuerySolution> PlanText(const PlannerInput& in) {
  const query::TextMatch* text = in.filter->text();
  if (text == nullptr) {
    return MongoError(kNoQueryExecutionPlans,
                      "error processing query: planner returned error :: caused by :: Failed to produce a "
                      "solution for TEXT under OR - other non-TEXT clauses under OR have to be indexed as well.");
  }
  const IndexEntry* ix = nullptr;
  for (const IndexEntry& e : in.indexes) {
    if (e.spec->text() != nullptr && !e.spec->hidden()) ix = &e;
  }
  if (ix == nullptr) return MongoError(kIndexNotFound, "text index required for $text query");
  const index::IndexSpec& spec = *ix->spec;
  auto query = text::TextQuery::Parse(text->search(), text->language(), text->case_sensitive(),
                                      text->diacritic_sensitive(), *spec.text());
  if (!query.ok()) return query.status();

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
    const query::ComparisonMatch* eq = EqualityOn(in.filter->root(), f.path.dotted());
    std::optional<IntervalList> list;
    if (eq != nullptr) list = PredicateBounds(*eq, spec, i, SameCollation(nullptr, in.filter->collator()));
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
  text_or->index = ix;
  text_or->text_query = *query;
  auto residual = in.filter->WithoutText();
  if (!residual.ok()) return residual.status();
  text_or->has_residual = true;
  if (!(*residual)->MatchesAll()) text_or->residual = std::shared_ptr<const query::Matcher>(*std::move(residual));
  for (const std::string& term : (*query)->terms_for_bounds()) {
    auto scan = std::make_unique<PlanNode>();
    scan->kind = NodeKind::kIndexScan;
    scan->index = ix;
    scan->bounds = bounds;
    scan->bounds[term_field] = IntervalList{PointInterval(StringKey(term), StrCat("\"", term, "\""))};
    scan->has_residual = true;  // entries are not filtered: TEXT_OR filters the documents
    text_or->children.push_back(std::move(scan));
  }
  auto match = std::make_unique<PlanNode>();
  match->kind = NodeKind::kTextMatch;
  match->index = ix;
  match->text_query = *query;
  match->index_prefix = std::move(index_prefix).Finish();
  match->has_residual = true;
  match->children.push_back(std::move(text_or));
  QuerySolution s;
  s.root = std::move(match);
  return s;
}

}  // namespace micromongo::planner
