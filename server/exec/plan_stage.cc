#include "exec/plan_stage.h"

#include <set>

#include "document/builder.h"
#include "document/compare.h"
#include "exec/index_scan.h"
#include "exec/geo_near_stage.h"
#include "exec/text_stages.h"
#include "storage/key_codec.h"

namespace micromongo::exec {

absl::StatusOr<State> PlanStage::Work(Member* out) {
  ++stats_.works;
  auto s = DoWork(out);
  if (!s.ok()) return s;
  switch (*s) {
    case State::kAdvanced: ++stats_.advanced; break;
    case State::kNeedTime: ++stats_.need_time; break;
    case State::kEof: stats_.eof = true; break;
  }
  return s;
}

int64_t PlanStage::TotalKeysExamined() const {
  int64_t n = stats_.keys_examined;
  for (const auto& c : children_) n += c->TotalKeysExamined();
  return n;
}

int64_t PlanStage::TotalDocsExamined() const {
  int64_t n = stats_.docs_examined;
  for (const auto& c : children_) n += c->TotalDocsExamined();
  return n;
}

Document PlanStage::Explain(bool stats) const {
  Document out;
  AddExplain(&out, stats);
  if (stats) {
    out.Append("nReturned", stats_.advanced);
    out.Append("works", stats_.works);
    out.Append("advanced", stats_.advanced);
    out.Append("needTime", stats_.need_time);
    out.Append("isEOF", stats_.eof);
  }
  if (ExplainsChildren()) {
    // described above
  } else if (children_.size() == 1) {
    out.Append("inputStage", children_[0]->Explain(stats));
  } else if (children_.size() > 1) {
    Array inputs;
    for (const auto& c : children_) inputs.push_back(c->Explain(stats));
    out.Append("inputStages", inputs);
  }
  return out;
}

namespace {

// Runs the filter; an $expr that fails fails the query.
absl::StatusOr<bool> Matches(const ExecContext& ctx, std::string_view doc) {
  if (ctx.filter == nullptr || ctx.filter->MatchesAll()) return true;
  return ctx.filter->Evaluate(bson::DocView(doc));
}

// Reads the member's record unless it has its document, then filters it. A record gone
// from the snapshot (never, for keys read from the same snapshot) is skipped.
absl::StatusOr<State> FetchAndMatch(const ExecContext& ctx, Member* m, StageStats* stats) {
  if (!m->has_doc) {
    auto found = ctx.db->GetRecord(*ctx.coll, m->record_key, &m->doc, ctx.snapshot.get());
    if (!found.ok()) return found.status();
    if (!*found) return State::kNeedTime;
    ++stats->docs_examined;
    m->has_doc = true;
  }
  auto matched = Matches(ctx, m->doc);
  if (!matched.ok()) return matched.status();
  return *matched ? State::kAdvanced : State::kNeedTime;
}

Document FilterDocument(const ExecContext& ctx) {
  return ctx.filter == nullptr ? Document() : bson::Decode(ctx.filter->filter());
}

absl::Status CheckDeadline(const ExecContext& ctx, int64_t works) {
  if ((works & 255) != 0 || ctx.deadline == nullptr) return absl::OkStatus();
  return ctx.deadline->Check();
}

class EofStage final : public PlanStage {
 protected:
  absl::StatusOr<State> DoWork(Member*) override { return State::kEof; }
  void AddExplain(Document* out, bool) const override { out->Append("stage", "EOF"); }
};

class IdHackStage final : public PlanStage {
 public:
  explicit IdHackStage(const ExecContext& ctx) : ctx_(ctx) {}

 protected:
  absl::StatusOr<State> DoWork(Member* out) override {
    if (done_) return State::kEof;
    done_ = true;
    out->record_key = storage::RecordKey(ctx_.coll->id(), *ctx_.filter->id_equality());
    ++stats_.keys_examined;
    out->has_doc = false;
    return FetchAndMatch(ctx_, out, &stats_);
  }
  void AddExplain(Document* out, bool stats) const override {
    if (ctx_.coll->clustered()) {
      // A clustered collection's _id lookup is a scan of its records from that _id to
      // itself, as MongoDB shows it.
      Value id = bson::ToValue(*ctx_.filter->id_equality());
      out->Append("stage", "CLUSTERED_IXSCAN");
      out->Append("filter", Document{{"_id", Document{{"$eq", id}}}});
      out->Append("direction", "forward");
      out->Append("minRecord", id);
      out->Append("maxRecord", id);
      if (stats) out->Append("docsExamined", stats_.docs_examined);
      return;
    }
    out->Append("stage", "IDHACK");
    if (stats) {
      out->Append("keysExamined", stats_.keys_examined);
      out->Append("docsExamined", stats_.docs_examined);
    }
  }

 private:
  ExecContext ctx_;
  bool done_ = false;
};

class CollScanStage final : public PlanStage {
 public:
  CollScanStage(const ExecContext& ctx, int direction)
      : ctx_(ctx), direction_(direction), it_(ctx.db->ScanNaturalOrder(*ctx.coll, ctx.snapshot.get())) {}

 protected:
  absl::StatusOr<State> DoWork(Member* out) override {
    if (auto s = CheckDeadline(ctx_, stats_.works); !s.ok()) return s;
    if (!started_) {
      started_ = true;
      if (direction_ > 0) {
        it_->SeekToFirst();
      } else {
        it_->SeekToLast();
      }
    }
    if (!it_->Valid()) {
      if (!it_->status().ok()) return it_->status();
      return State::kEof;
    }
    ++stats_.docs_examined;
    std::string_view value = it_->value();
    auto m = Matches(ctx_, value);
    if (!m.ok()) return m.status();
    if (*m) {
      out->record_key.assign(it_->key());
      out->doc.assign(value);
      out->has_doc = true;
    }
    if (direction_ > 0) {
      it_->Next();
    } else {
      it_->Prev();
    }
    return *m ? State::kAdvanced : State::kNeedTime;
  }
  void AddExplain(Document* out, bool stats) const override {
    out->Append("stage", "COLLSCAN");
    if (ctx_.filter != nullptr && !ctx_.filter->MatchesAll()) out->Append("filter", FilterDocument(ctx_));
    out->Append("direction", direction_ > 0 ? "forward" : "backward");
    if (stats) out->Append("docsExamined", stats_.docs_examined);
  }

 private:
  ExecContext ctx_;
  int direction_;
  bool started_ = false;
  std::unique_ptr<storage::KvIterator> it_;
};

// Fetches in batches: it gathers its child's next entries (a few at first, more as the
// scan goes on) and reads their records with one MultiGet, which costs RocksDB far less
// per record than a Get each.
class FetchStage final : public PlanStage {
 public:
  FetchStage(const ExecContext& ctx, std::unique_ptr<PlanStage> child) : ctx_(ctx) {
    children_.push_back(std::move(child));
  }

 protected:
  absl::StatusOr<State> DoWork(Member* out) override {
    if (next_ < ready_.size()) {
      Member& m = ready_[next_++];
      if (!found_[next_ - 1]) return State::kNeedTime;
      *out = std::move(m);
      return FetchAndMatch(ctx_, out, &stats_);
    }
    if (child_eof_) return State::kEof;
    ready_.clear();
    next_ = 0;
    // Gather up to a batch of entries, spending at most a few works per entry wanted; one
    // entry per work until the executor allows batches.
    bool batching = ctx_.batch_fetches != nullptr && *ctx_.batch_fetches;
    size_t want = batching ? batch_ : 1;
    for (size_t works = 0; ready_.size() < want && works < (batching ? 4 * want : 1); ++works) {
      Member m;
      auto s = children_[0]->Work(&m);
      if (!s.ok()) return s.status();
      if (*s == State::kEof) {
        child_eof_ = true;
        break;
      }
      if (*s == State::kAdvanced) ready_.push_back(std::move(m));
    }
    if (batching) batch_ = std::min<size_t>(batch_ * 2, 256);
    std::vector<std::string_view> keys;
    std::vector<size_t> which;
    for (size_t i = 0; i < ready_.size(); ++i) {
      if (!ready_[i].has_doc) {
        keys.push_back(ready_[i].record_key);
        which.push_back(i);
      }
    }
    found_.assign(ready_.size(), true);
    if (!keys.empty()) {
      std::vector<std::string> docs;
      std::vector<bool> found;
      if (auto s = ctx_.db->GetRecords(keys, &docs, &found, ctx_.snapshot.get(), &scattered_); !s.ok()) return s;
      for (size_t k = 0; k < which.size(); ++k) {
        Member& m = ready_[which[k]];
        found_[which[k]] = found[k];
        if (!found[k]) continue;
        m.doc = std::move(docs[k]);
        m.has_doc = true;
        ++stats_.docs_examined;
      }
    }
    return ready_.empty() && child_eof_ ? State::kEof : State::kNeedTime;
  }
  void AddExplain(Document* out, bool stats) const override {
    Value min, max;
    const IndexScanStage* ixscan = ClusteredScan(&min, &max);
    out->Append("stage", ixscan != nullptr ? "CLUSTERED_IXSCAN" : "FETCH");
    if (ctx_.filter != nullptr && !ctx_.filter->MatchesAll()) out->Append("filter", FilterDocument(ctx_));
    if (ixscan != nullptr) {
      out->Append("direction", ixscan->direction() > 0 ? "forward" : "backward");
      out->Append("minRecord", min);
      out->Append("maxRecord", max);
    }
    if (stats) out->Append("docsExamined", stats_.docs_examined);
  }
  bool ExplainsChildren() const override {
    Value min, max;
    return ClusteredScan(&min, &max) != nullptr;
  }

 private:
  ExecContext ctx_;
  // Over a bounded scan of a clustered collection's records (the _id pseudo index),
  // MongoDB shows one stage: the scan of the records from minRecord to maxRecord, with the
  // filter. That scan and its bounds, or null.
  const IndexScanStage* ClusteredScan(Value* min, Value* max) const {
    const auto* ixscan = dynamic_cast<const IndexScanStage*>(children_[0].get());
    bool bounded = ctx_.coll->clustered() && ixscan != nullptr && ixscan->RecordRange(min, max);
    return bounded ? ixscan : nullptr;
  }
  bool scattered_ = false;  // its records proved scattered: point lookups (KvStore::MultiGet)
  std::vector<Member> ready_;
  std::vector<bool> found_;
  size_t next_ = 0;
  size_t batch_ = 1;  // doubles with each batch: a limit is over-read by less than it returned
  bool child_eof_ = false;
};

class OrStage final : public PlanStage {
 public:
  explicit OrStage(std::vector<std::unique_ptr<PlanStage>> children) { children_ = std::move(children); }

 protected:
  absl::StatusOr<State> DoWork(Member* out) override {
    if (current_ >= children_.size()) return State::kEof;
    auto s = children_[current_]->Work(out);
    if (!s.ok()) return s;
    if (*s == State::kEof) {
      ++current_;
      return current_ >= children_.size() ? State::kEof : State::kNeedTime;
    }
    if (*s == State::kNeedTime) return s;
    ++stats_.dups_tested;
    if (!seen_.insert(out->record_key).second) {
      ++stats_.dups_dropped;
      return State::kNeedTime;
    }
    return State::kAdvanced;
  }
  void AddExplain(Document* out, bool stats) const override {
    out->Append("stage", "OR");
    if (stats) {
      out->Append("dupsTested", stats_.dups_tested);
      out->Append("dupsDropped", stats_.dups_dropped);
    }
  }

 private:
  size_t current_ = 0;
  std::set<std::string> seen_;
};

// Merges children that are each in sort order (one per point of an $in prefix).
class SortMergeStage final : public PlanStage {
 public:
  SortMergeStage(const planner::PlanNode& node, std::vector<std::unique_ptr<PlanStage>> children,
                 const bson::Collator* collator)
      : node_(node), collator_(collator) {
    children_ = std::move(children);
    pending_.resize(children_.size());
    state_.assign(children_.size(), Slot::kEmpty);
    // Where each sort field sits among the index's key values.
    const auto& fields = node.children[0]->index->spec->fields();
    for (const bson::ElementView& e : bson::DocView(node.sort_pattern)) {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].path.dotted() == e.key) {
          positions_.push_back(i);
          directions_.push_back(e.value.IsNumber() && e.value.AsDouble() < 0 ? -1 : 1);
        }
      }
    }
  }

 protected:
  absl::StatusOr<State> DoWork(Member* out) override {
    // Fill every child's slot first.
    for (size_t i = 0; i < children_.size(); ++i) {
      if (state_[i] != Slot::kEmpty) continue;
      auto s = children_[i]->Work(&pending_[i]);
      if (!s.ok()) return s.status();
      if (*s == State::kAdvanced) state_[i] = Slot::kFull;
      if (*s == State::kEof) state_[i] = Slot::kDone;
      return State::kNeedTime;
    }
    int best = -1;
    for (size_t i = 0; i < children_.size(); ++i) {
      if (state_[i] != Slot::kFull) continue;
      if (best < 0 || Less(pending_[i], pending_[best])) best = static_cast<int>(i);
    }
    if (best < 0) return State::kEof;
    state_[best] = Slot::kEmpty;
    ++stats_.dups_tested;
    if (!seen_.insert(pending_[best].record_key).second) {
      ++stats_.dups_dropped;
      return State::kNeedTime;
    }
    *out = std::move(pending_[best]);
    return State::kAdvanced;
  }
  void AddExplain(Document* out, bool stats) const override {
    out->Append("stage", "SORT_MERGE");
    out->Append("sortPattern", bson::Decode(bson::DocView(node_.sort_pattern)));
    if (stats) {
      out->Append("dupsTested", stats_.dups_tested);
      out->Append("dupsDropped", stats_.dups_dropped);
    }
  }

 private:
  enum class Slot { kEmpty, kFull, kDone };

  bool Less(const Member& a, const Member& b) const {
    std::vector<bson::ValueView> va = Values(a), vb = Values(b);
    for (size_t k = 0; k < positions_.size(); ++k) {
      int c = bson::CompareValues(va[k], vb[k], collator_) * directions_[k];
      if (c != 0) return c < 0;
    }
    return false;
  }
  std::vector<bson::ValueView> Values(const Member& m) const {
    std::vector<bson::ValueView> all;
    for (const bson::ElementView& e : bson::DocView(m.key_values)) all.push_back(e.value);
    std::vector<bson::ValueView> out;
    for (size_t p : positions_) out.push_back(p < all.size() ? all[p] : bson::ValueView{});
    return out;
  }

  const planner::PlanNode& node_;
  const bson::Collator* collator_;
  std::vector<size_t> positions_;
  std::vector<int> directions_;
  std::vector<Member> pending_;
  std::vector<Slot> state_;
  std::set<std::string> seen_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PlanStage>> BuildStages(const planner::PlanNode& node, const ExecContext& query_ctx) {
  std::vector<std::unique_ptr<PlanStage>> children;
  for (const auto& c : node.children) {
    auto s = BuildStages(*c, query_ctx);
    if (!s.ok()) return s.status();
    children.push_back(*std::move(s));
  }
  // A stage whose index bounds answer part of the filter applies only the rest.
  ExecContext residual_ctx;
  if (node.has_residual) {
    residual_ctx = query_ctx;
    residual_ctx.filter = node.residual;
  }
  const ExecContext& ctx = node.has_residual ? residual_ctx : query_ctx;
  switch (node.kind) {
    case planner::NodeKind::kEof: return std::unique_ptr<PlanStage>(std::make_unique<EofStage>());
    case planner::NodeKind::kIdHack: return std::unique_ptr<PlanStage>(std::make_unique<IdHackStage>(ctx));
    case planner::NodeKind::kCollScan:
      return std::unique_ptr<PlanStage>(std::make_unique<CollScanStage>(ctx, node.direction));
    case planner::NodeKind::kIndexScan:
    case planner::NodeKind::kDistinctScan:
    case planner::NodeKind::kCountScan:
      return std::unique_ptr<PlanStage>(std::make_unique<IndexScanStage>(node, ctx));
    case planner::NodeKind::kFetch:
      return std::unique_ptr<PlanStage>(std::make_unique<FetchStage>(ctx, std::move(children[0])));
    case planner::NodeKind::kOr:
      return std::unique_ptr<PlanStage>(std::make_unique<OrStage>(std::move(children)));
    case planner::NodeKind::kSortMerge:
      return std::unique_ptr<PlanStage>(
          std::make_unique<SortMergeStage>(node, std::move(children), ctx.filter ? ctx.filter->collator() : nullptr));
    case planner::NodeKind::kTextOr: return MakeTextOrStage(node, ctx, std::move(children));
    case planner::NodeKind::kTextMatch: return MakeTextMatchStage(node, std::move(children[0]));
    case planner::NodeKind::kGeoNear2dSphere: return MakeGeoNearStage(node, ctx);
  }
  return absl::InternalError("unknown plan node");
}

}  // namespace micromongo::exec
