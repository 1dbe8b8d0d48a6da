#include "exec/geo_near_stage.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "document/builder.h"
#include "document/key_string.h"
#include "exec/index_scan.h"
#include "geo/cells.h"
#include "geo/grid.h"
#include "planner/index_bounds.h"

namespace micromongo::exec {
namespace {

class GeoNearStage final : public PlanStage {
 public:
  GeoNearStage(const planner::PlanNode& node, const ExecContext& ctx)
      : node_(node), ctx_(ctx), grid_(node.index->spec->grid()) {
    const geo::NearQuery& q = node.near->query();
    // Radians on the sphere (meters for GeoJSON points, radians already for legacy ones),
    // plane units on a 2d index's plane.
    scale_ = q.geojson ? geo::kEarthRadiusMeters : 1.0;
    double extent = q.spherical ? M_PI : (grid_->max - grid_->min) * std::sqrt(2.0);
    inner_ = q.min_distance / scale_;
    max_ = q.max_distance < 0 ? extent : std::min(extent, q.max_distance / scale_);
    // A first ring that would hold about 20 documents were they spread over the whole
    // earth, made 64 times narrower: data is usually clustered, and widening costs a ring
    // per doubling while too wide a ring fetches every document in it.
    double n = std::max<double>(1, static_cast<double>(ctx.coll->count()));
    width_ = std::clamp(std::sqrt(80.0 / n) / 16 * extent / M_PI, 1e-9 * extent, extent);
  }

 protected:
  absl::StatusOr<State> DoWork(Member* out) override {
    if ((stats_.works & 255) == 0 && ctx_.deadline != nullptr) {
      if (auto s = ctx_.deadline->Check(); !s.ok()) return s;
    }
    if (ring_open_) {
      Member m;
      auto next = NextInRing(&m);
      if (!next.ok()) return next.status();
      if (!*next) {
        CloseRing();
        return State::kNeedTime;
      }
      if (ctx_.filter != nullptr && !ctx_.filter->MatchesAll()) {
        auto matched = ctx_.filter->Evaluate(bson::DocView(m.doc));
        if (!matched.ok()) return matched.status();
        if (!*matched) return State::kNeedTime;
      }
      *out = std::move(m);
      return State::kAdvanced;
    }
    if (done_) return State::kEof;
    return OpenRing();
  }

  void AddExplain(Document* out, bool stats) const override {
    out->Append("stage", grid_ != nullptr ? "GEO_NEAR_2D" : "GEO_NEAR_2DSPHERE");
    out->Append("keyPattern", bson::Decode(node_.index->spec->key_pattern()));
    out->Append("indexName", node_.index->name);
    if (ctx_.filter != nullptr && !ctx_.filter->MatchesAll()) {
      out->Append("filter", bson::Decode(ctx_.filter->filter()));
    }
    if (stats) {
      out->Append("keysExamined", stats_.keys_examined);
      out->Append("docsExamined", stats_.docs_examined);
      out->Append("searchIntervals", rings_);
    }
  }

 private:
  // Reads the index over the ring [inner_, outer]. Records whose key places them in it
  // are fetched lazily, nearest bound first, as NextInRing needs them: a $near with a
  // limit reads the records it returns and few more. Other records (keys of shapes, or
  // several points per document) are fetched at once.
  absl::StatusOr<State> OpenRing() {
    ++rings_;
    ring_outer_ = std::min(max_, inner_ + width_);
    ring_last_ = ring_outer_ >= max_;
    const double outer = ring_outer_;
    planner::PlanNode scan;
    scan.kind = planner::NodeKind::kIndexScan;
    scan.index = node_.index;
    scan.bounds = node_.bounds;
    const geo::NearQuery& q = node_.near->query();
    if (grid_ != nullptr) {
      double min_x, min_y, max_x, max_y;
      q.Bounds(outer * scale_, &min_x, &min_y, &max_x, &max_y);
      scan.bounds[node_.geo_field] = planner::CellIntervals(grid_->BoxRanges(min_x, min_y, max_x, max_y));
    } else {
      // Cells wholly inside the caps read so far are left out: every key there was read,
      // its record decided or kept (a point there is no farther than those caps). Before
      // the first ring, those inside $minDistance hold nothing to return.
      double hole = scanned_ > 0 ? scanned_ : std::max(0.0, inner_ - 1e-9);
      scan.bounds[node_.geo_field] = planner::CellIntervals(
          geo::CapRanges(q.point, outer, node_.index->field_multikey(node_.geo_field), hole));
    }
    const bool point_keys = !node_.index->field_multikey(node_.geo_field);
    ExecContext scan_ctx = ctx_;
    scan_ctx.filter = nullptr;
    IndexScanStage ixscan(scan, scan_ctx);
    std::vector<std::string> keys;
    for (;;) {
      Member m;
      auto s = ixscan.Work(&m);
      if (!s.ok()) return s.status();
      if (*s == State::kEof) break;
      if (*s != State::kAdvanced) continue;
      if (decided_.contains(m.record_key) || pending_.contains(m.record_key) || unfetched_.contains(m.record_key)) {
        continue;
      }
      if (point_keys) {
        // One point per document, and the key says where: a record past this ring is
        // left for the ring that reaches it (every ring scans its whole cap).
        double error = 0;
        double d = q.KeyDistance(KeyOf(m.key_values), grid_, &error) / scale_;
        double bound = d - error / scale_;
        if (bound > outer) continue;
        unfetched_by_bound_.emplace(bound, m.record_key);
        unfetched_.insert(std::move(m.record_key));
        continue;
      }
      keys.push_back(std::move(m.record_key));
    }
    stats_.keys_examined += ixscan.stats().keys_examined;
    if (auto s = Fetch(keys); !s.ok()) return s;
    ring_open_ = true;
    ring_found_ = 0;
    return State::kNeedTime;
  }

  // Fetches the records `keys` names, measures them and keeps those that may be returned
  // (new records: each is fetched once, kept until its ring comes).
  absl::Status Fetch(const std::vector<std::string>& keys) {
    if (keys.empty()) return absl::OkStatus();
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::string> docs;
    std::vector<bool> found;
    if (auto s = ctx_.db->GetRecords(views, &docs, &found, ctx_.snapshot.get(), &scattered_); !s.ok()) return s;
    for (size_t k = 0; k < keys.size(); ++k) {
      if (!found[k]) continue;
      ++stats_.docs_examined;
      std::optional<double> d = Distance(bson::DocView(docs[k]));
      if (!d || *d < inner_ - 1e-15 || *d > max_) {
        decided_.insert(keys[k]);  // never in any ring
        continue;
      }
      pending_by_distance_.emplace(*d, keys[k]);
      pending_.emplace(keys[k], Pending{*d, std::move(docs[k])});
    }
    return absl::OkStatus();
  }

  // The next record of the open ring, nearest first (ties in record key order); false
  // once the ring has no more. A record not yet fetched whose bound is below the nearest
  // fetched one's distance is fetched first: it may be nearer.
  absl::StatusOr<bool> NextInRing(Member* out) {
    for (;;) {
      const bool in_ring = !pending_by_distance_.empty() &&
                           (pending_by_distance_.begin()->first <= ring_outer_ || ring_last_);
      if (!unfetched_by_bound_.empty()) {
        auto nearest = unfetched_by_bound_.begin();
        if ((nearest->first <= ring_outer_ || ring_last_) &&
            (!in_ring || nearest->first <= pending_by_distance_.begin()->first)) {
          std::vector<std::string> keys{nearest->second};
          unfetched_.erase(nearest->second);
          unfetched_by_bound_.erase(nearest);
          if (auto s = Fetch(keys); !s.ok()) return s;
          continue;
        }
      }
      if (!in_ring) return false;
      auto first = pending_by_distance_.begin();
      auto it = pending_.find(first->second);
      out->record_key = it->first;
      out->doc = std::move(it->second.doc);
      out->has_doc = true;
      out->geo_distance = it->second.distance * scale_;
      out->has_geo_distance = true;
      decided_.insert(it->first);
      pending_.erase(it);
      pending_by_distance_.erase(first);
      ++ring_found_;
      return true;
    }
  }

  // The open ring returned all it holds: the next ring from the density seen so far,
  // wide enough for about 20 more records if they keep coming at the rate this cap held
  // them (at least 1.4 and at most 4 times the radius; 4 times when none were found).
  void CloseRing() {
    ring_open_ = false;
    const double outer = ring_outer_;
    found_ += ring_found_;
    double grow = found_ == 0 ? 4.0
                              : std::clamp(std::sqrt((static_cast<double>(found_) + 20) / static_cast<double>(found_)),
                                           1.4, 4.0);
    width_ = std::max(outer * grow, outer + width_ / 2) - outer;
    inner_ = outer;
    scanned_ = outer;
    if (ring_last_) done_ = true;
  }

  // The geo field's value of an entry's key values.
  int64_t KeyOf(const std::string& key_values) const {
    size_t i = 0;
    for (const bson::ElementView& e : bson::DocView(key_values)) {
      if (i++ == node_.geo_field) return e.value.type == BsonType::kInt64 ? e.value.Int64() : 0;
    }
    return 0;
  }

  // The distance in radians of the nearest geometry at the $near's path.
  std::optional<double> Distance(bson::DocView doc) const {
    const geo::NearQuery& q = node_.near->query();
    std::optional<double> best;
    std::vector<bson::ValueView> values;
    CollectValues(bson::ValueView{BsonType::kDocument, doc.data(), doc.size()}, 0, &values);
    for (const bson::ValueView& v : values) {
      std::optional<double> d = q.Distance(v);
      if (d && (!best || *d < *best)) best = d;
    }
    if (best) *best /= scale_;
    return best;
  }

  void CollectValues(const bson::ValueView& v, size_t i, std::vector<bson::ValueView>* out) const {
    const query::FieldPath& path = node_.near->path();
    if (i == path.size()) {
      out->push_back(v);
      if (v.type == BsonType::kArray) {
        for (const bson::ElementView& e : v.Doc()) out->push_back(e.value);
      }
      return;
    }
    if (v.type == BsonType::kDocument) {
      bson::ValueView child;
      if (v.Doc().Find(path.part(i), &child)) CollectValues(child, i + 1, out);
    } else if (v.type == BsonType::kArray) {
      for (const bson::ElementView& e : v.Doc()) {
        if (e.value.type == BsonType::kDocument) CollectValues(e.value, i, out);
      }
    }
  }

  struct Pending {
    double distance;
    std::string doc;
  };

  const planner::PlanNode& node_;
  ExecContext ctx_;
  bool scattered_ = false;  // its records proved scattered: point lookups (KvStore::MultiGet)
  const geo::Grid2d* grid_;  // a 2d index's grid (null: 2dsphere)
  double scale_ = 1, inner_ = 0, max_ = M_PI, width_ = 0;
  double scanned_ = 0;  // the radius of the caps the rings so far read (2dsphere)
  bool done_ = false;
  int64_t rings_ = 0;
  int64_t found_ = 0;  // records returned by the rings so far
  // The ring being returned: its outer radius, whether it is the last.
  bool ring_open_ = false, ring_last_ = false;
  double ring_outer_ = 0;
  int64_t ring_found_ = 0;  // records it returned
  // Fetched records not yet returned, by key and by (distance, key).
  std::map<std::string, Pending> pending_;
  std::set<std::pair<double, std::string>> pending_by_distance_;
  // Records an index key placed in a ring read so far, not fetched yet: their keys, and
  // (the lower bound of their distance, key) in order.
  absl::flat_hash_set<std::string> unfetched_;
  std::set<std::pair<double, std::string>> unfetched_by_bound_;
  absl::flat_hash_set<std::string> decided_;
};

}  // namespace

std::unique_ptr<PlanStage> MakeGeoNearStage(const planner::PlanNode& node, const ExecContext& ctx) {
  return std::make_unique<GeoNearStage>(node, ctx);
}

}  // namespace micromongo::exec
