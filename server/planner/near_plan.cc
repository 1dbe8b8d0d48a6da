#include "planner/near_plan.h"

#include "document/status.h"
#include "planner/index_bounds.h"

#include "geo/geo_query.h"

namespace micromongo::planner {
namespace {

using query::MatchExpression;
using query::MatchKind;

void PathPredicates(const MatchExpression* e, const std::string& path, std::vector<const MatchExpression*>* out) {
  if (e == nullptr) return;
  if (e->kind() == MatchKind::kAnd) {
    for (size_t i = 0; i < e->num_children(); ++i) PathPredicates(e->child(i), path, out);
    return;
  }
  if (e->kind() == MatchKind::kOr || e->kind() == MatchKind::kNot || e->kind() == MatchKind::kExpr ||
      e->kind() == MatchKind::kJsonSchema || e->kind() == MatchKind::kText || e->kind() == MatchKind::kElemMatch) {
    return;
  }
  if (static_cast<const query::PathMatchExpression&>(*e).path().dotted() == path) out->push_back(e);
}

}  // namespace

absl::StatusOr<QuerySolution> PlanNear(const PlannerInput& in) {
  const query::GeoNearMatch* near = in.filter->near();
  const std::string& path = near->path().dotted();
  const IndexEntry* ix = nullptr;
  size_t geo_field = 0;
  // A GeoJSON point needs a 2dsphere index; a legacy pair a 2d index ($near, on the plane)
  // or either ($nearSphere).
  const geo::NearQuery& q = near->query();
  auto serves = [&](index::KeyKind kind) {
    if (kind == index::KeyKind::kGeo2dsphere) return q.spherical;
    if (kind == index::KeyKind::kGeo2d) return !q.geojson;
    return false;
  };
  for (const IndexEntry& e : in.indexes) {
    if (ix != nullptr || e.spec->hidden() || !e.wildcard_path.empty()) continue;
    const auto& fields = e.spec->fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (serves(fields[i].kind) && fields[i].path.dotted() == path) {
        ix = &e;
        geo_field = i;
        break;
      }
    }
  }
  if (ix == nullptr) {
    return MongoError(kNoQueryExecutionPlans,
                      "error processing query: planner returned error :: caused by :: unable to find index for "
                      "$geoNear query");
  }
  auto node = std::make_unique<PlanNode>();
  node->kind = NodeKind::kGeoNear2dSphere;
  node->index = ix;
  node->near = near;
  node->geo_field = geo_field;
  const auto& fields = ix->spec->fields();
  node->bounds.assign(fields.size(), IntervalList{FullInterval()});
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i == geo_field || fields[i].opaque()) continue;
    std::vector<const MatchExpression*> preds;
    PathPredicates(in.filter->root(), fields[i].path.dotted(), &preds);
    for (const MatchExpression* p : preds) {
      auto list = PredicateBounds(*p, *ix->spec, i, SameCollation(ix->spec->collator(), in.filter->collator()));
      if (!list) continue;
      // Several predicates narrow a field only if it never held an array.
      if (IsFull(node->bounds[i])) {
        node->bounds[i] = *std::move(list);
      } else if (!ix->field_multikey(i)) {
        node->bounds[i] = Intersect(node->bounds[i], *list);
      }
    }
  }
  // The stage measures every record itself: it applies only the rest of the filter.
  auto rest = in.filter->WithoutNear();
  if (!rest.ok()) return rest.status();
  node->has_residual = true;
  if (!(*rest)->MatchesAll()) node->residual = std::shared_ptr<const query::Matcher>(*std::move(rest));
  QuerySolution s;
  s.root = std::move(node);
  return s;
}

}  // namespace micromongo::planner
