#include "exec/geo_near_stage.h"

#include <algorithm>
#include <cmath>
#include <map>

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
    if (next_ < ring_.size()) {
      Member& m = ring_[next_++];
      if (ctx_.filter != nullptr && !ctx_.filter->MatchesAll()) {
        auto matched = ctx_.filter->Evaluate(bson::DocView(m.doc));
        if (!matched.ok()) return matched.status();
        if (!*matched) return State::kNeedTime;
      }
      *out = std::move(m);
      return State::kAdvanced;
    }
    if (done_) return State::kEof;
    return NextRing();
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
  // Reads the ring [inner_, outer] and queues its records nearest first.
  absl::StatusOr<State> NextRing() {
    ++rings_;
    double outer = std::min(max_, inner_ + width_);
    const bool last = outer >= max_;
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
      if (decided_.contains(m.record_key) || pending_.contains(m.record_key)) continue;
      if (point_keys) {
        // One point per document, and the key says where: a record past this ring is
        // left for the ring that reaches it (every ring scans its whole cap).
        double error = 0;
        double d = q.KeyDistance(KeyOf(m.key_values), grid_, &error) / scale_;
        if (d - error / scale_ > outer) continue;
      }
      keys.push_back(std::move(m.record_key));
    }
    stats_.keys_examined += ixscan.stats().keys_examined;
    // New records: fetched once, measured, kept until their ring comes.
    if (!keys.empty()) {
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
        pending_.emplace(keys[k], Pending{*d, std::move(docs[k])});
      }
    }
    ring_.clear();
    next_ = 0;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.distance <= outer || last) {
        Member m;
        m.record_key = it->first;
        m.doc = std::move(it->second.doc);
        m.has_doc = true;
        m.geo_distance = it->second.distance * scale_;
        m.has_geo_distance = true;
        decided_.insert(it->first);
        ring_.push_back(std::move(m));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    std::stable_sort(ring_.begin(), ring_.end(),
                     [](const Member& a, const Member& b) { return a.geo_distance < b.geo_distance; });
    // The next ring from the density seen so far: wide enough for about 20 more records
    // if they keep coming at the rate this cap held them (at least 1.4 and at most 4
    // times the radius; 4 times when none were found).
    found_ += static_cast<int64_t>(ring_.size());
    double grow = found_ == 0 ? 4.0
                              : std::clamp(std::sqrt((static_cast<double>(found_) + 20) / static_cast<double>(found_)),
                                           1.4, 4.0);
    width_ = std::max(outer * grow, outer + width_ / 2) - outer;
    inner_ = outer;
    scanned_ = outer;
    if (last) done_ = true;
    return State::kNeedTime;
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
  std::vector<Member> ring_;
  size_t next_ = 0;
  std::map<std::string, Pending> pending_;
  absl::flat_hash_set<std::string> decided_;
};

}  // namespace

std::unique_ptr<PlanStage> MakeGeoNearStage(const planner::PlanNode& node, const ExecContext& ctx) {
  return std::make_unique<GeoNearStage>(node, ctx);
}

}  // namespace micromongo::exec
