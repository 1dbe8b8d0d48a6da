#include "exec/index_scan.h"

#include <algorithm>

#include "document/builder.h"
#include "document/json.h"
#include "document/key_string.h"
#include "storage/key_codec.h"

namespace micromongo::exec {
namespace {

constexpr size_t kMaxRanges = 4096;

std::string Inverted(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(~c);
  return out;
}

// An interval of one field in storage byte order.
struct ByteInterval {
  std::string lo, hi;
  bool lo_open_end = false;  // no lower limit
  bool hi_open_end = false;  // no upper limit
  bool lo_inclusive = true, hi_inclusive = true;
};

ByteInterval ToBytes(const planner::Interval& i, bool descending) {
  ByteInterval b;
  bool lo_min = i.lo.empty(), hi_max = i.hi == "\xff";
  if (!descending) {
    b.lo = i.lo, b.hi = i.hi;
    b.lo_open_end = lo_min, b.hi_open_end = hi_max;
    b.lo_inclusive = i.lo_inclusive, b.hi_inclusive = i.hi_inclusive;
  } else {
    b.lo = Inverted(i.hi), b.hi = Inverted(i.lo);
    b.lo_open_end = hi_max, b.hi_open_end = lo_min;
    b.lo_inclusive = i.hi_inclusive, b.hi_inclusive = i.lo_inclusive;
  }
  return b;
}

// Documents holding each value at its dotted path ({a.b: 1, a.c: 2} -> {a: {b: 1, c: 2}}).
void AppendNested(const std::vector<std::pair<const query::FieldPath*, bson::ValueView>>& items, size_t depth,
                  bson::Builder* b) {
  // Top-level fields only (the common index): each value as it is, in order (an index
  // names a field once).
  if (depth == 0 && std::all_of(items.begin(), items.end(), [](const auto& i) { return i.first->size() == 1; })) {
    for (const auto& [path, value] : items) b->AppendView(path->part(0), value);
    return;
  }
  std::vector<bool> done(items.size(), false);
  for (size_t i = 0; i < items.size(); ++i) {
    if (done[i]) continue;
    std::string_view name = items[i].first->part(depth);
    std::vector<std::pair<const query::FieldPath*, bson::ValueView>> group;
    for (size_t j = i; j < items.size(); ++j) {
      if (!done[j] && items[j].first->part(depth) == name) {
        done[j] = true;
        group.push_back(items[j]);
      }
    }
    auto whole = std::find_if(group.begin(), group.end(), [&](const auto& g) { return g.first->size() == depth + 1; });
    if (whole != group.end()) {
      b->AppendView(name, whole->second);
      continue;
    }
    bson::Builder sub;
    AppendNested(group, depth + 1, &sub);
    std::string bytes = std::move(sub).Finish();
    b->AppendDocument(name, bson::DocView(bytes));
  }
}

}  // namespace

std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

KeyRanges MakeKeyRanges(const std::string& prefix, const std::vector<planner::IntervalList>& bounds,
                        const std::vector<bool>& descending, size_t* checked_from) {
  KeyRanges out;
  for (const auto& list : bounds) {
    if (list.empty()) {
      *checked_from = bounds.size();
      return out;  // a field no key can satisfy
    }
  }
  // Leading fields of points: every combination, in byte order.
  std::vector<std::string> prefixes{prefix};
  size_t f = 0;
  for (; f < bounds.size(); ++f) {
    if (!planner::AllPoints(bounds[f]) || prefixes.size() * bounds[f].size() > kMaxRanges) break;
    std::vector<std::string> points;
    for (const auto& p : bounds[f]) points.push_back(descending[f] ? Inverted(p.lo) : p.lo);
    std::sort(points.begin(), points.end());
    std::vector<std::string> next;
    for (const std::string& pre : prefixes) {
      for (const std::string& p : points) next.push_back(pre + p);
    }
    prefixes = std::move(next);
  }
  if (f == bounds.size()) {
    *checked_from = bounds.size();
    for (std::string& p : prefixes) {
      std::string end = PrefixSuccessor(p);
      out.emplace_back(std::move(p), std::move(end));
    }
    return out;
  }
  // Then the intervals of field f under each prefix.
  std::vector<ByteInterval> intervals;
  for (const auto& i : bounds[f]) intervals.push_back(ToBytes(i, descending[f]));
  std::sort(intervals.begin(), intervals.end(), [](const ByteInterval& a, const ByteInterval& b) {
    if (a.lo_open_end != b.lo_open_end) return a.lo_open_end;
    return a.lo < b.lo;
  });
  *checked_from = f + 1;
  for (const std::string& p : prefixes) {
    for (const ByteInterval& i : intervals) {
      std::string start = i.lo_open_end ? p : (i.lo_inclusive ? p + i.lo : PrefixSuccessor(p + i.lo));
      std::string end = i.hi_open_end ? PrefixSuccessor(p) : (i.hi_inclusive ? PrefixSuccessor(p + i.hi) : p + i.hi);
      if (start < end) out.emplace_back(std::move(start), std::move(end));
    }
  }
  return out;
}

IndexScanStage::IndexScanStage(const planner::PlanNode& node, const ExecContext& ctx)
    : node_(node), ctx_(ctx), id_index_(node.index->id == 0) {
  for (const auto& f : node.index->spec->fields()) descending_.push_back(f.descending());
  index_prefix_ = id_index_ ? storage::RecordPrefix(ctx.coll->id()) : storage::IndexPrefix(ctx.coll->id(), node.index->id);
  if (node.key_range) {
    ranges_ = {{index_prefix_ + node.key_min,
                node.key_max.empty() ? PrefixSuccessor(index_prefix_) : index_prefix_ + node.key_max}};
    checked_from_ = node.bounds.size();
  } else {
    ranges_ = MakeKeyRanges(index_prefix_, node.bounds, descending_, &checked_from_);
  }
  record_prefix_ = storage::RecordPrefix(ctx.coll->id());
  it_ = id_index_ ? ctx.db->ScanRecords(*ctx.coll, ctx.snapshot.get())
                  : ctx.db->ScanIndex(*ctx.coll, node.index->id, ctx.snapshot.get());
  if (node_.direction < 0) std::reverse(ranges_.begin(), ranges_.end());
}

void IndexScanStage::Position() {
  ++stats_.seeks;
  const auto& [start, end] = ranges_[range_];
  if (node_.direction > 0) {
    it_->Seek(start);
  } else {
    it_->SeekForPrev(end);
    if (it_->Valid() && it_->key() >= end) it_->Prev();
  }
  positioned_ = true;
}

// The iterator stopped at the first key past the range just read (or ran out of keys).
// Ranges come in scan order without overlapping, so that key says where the next ranges
// stand without a seek: when it lies within the next range it is where a seek would land;
// ranges it has passed hold nothing; no key left means no range holds any. When it stops
// short of the next range, up to kMaxSteps steps may reach it. A seek costs a search in
// every sorted run of the LSM tree (~24k instructions with three level-0 files, against
// ~2k a step: callgrind, $near over 100k points), and an $in over dense values, an $or of
// adjacent ranges or the cell ranges of a geo covering move through many small ranges
// with few keys between them (stepping: $near -13% instructions, $geoWithin -3%).
void IndexScanStage::ContinueInto(const std::string& prev_start, const std::string& prev_end) {
  const bool forward = node_.direction > 0;
  if (!it_->Valid()) {
    range_ = ranges_.size();
    return;
  }
  std::string_view key = it_->key();
  while (range_ < ranges_.size()) {
    const auto& [start, end] = ranges_[range_];
    // Only where the ranges really follow one another in scan order.
    if (forward ? start < prev_end : end > prev_start) return;
    // Short of it: a few steps may reach it for less than a seek; else Position() seeks.
    for (int step = 0; forward ? key < start : key >= end; ++step) {
      if (step == kMaxSteps) return;
      if (forward) {
        it_->Next();
      } else {
        it_->Prev();
      }
      if (!it_->Valid()) {
        if (it_->status().ok()) range_ = ranges_.size();  // no keys left (else the seek reports)
        return;
      }
      key = it_->key();
    }
    if (forward ? key < end : key >= start) {
      positioned_ = true;
      return;
    }
    ++range_;  // passed over, empty
  }
}

bool IndexScanStage::InBounds(std::string_view key_values) const {
  if (checked_from_ >= node_.bounds.size()) return true;
  const auto& fields = node_.index->spec->fields();
  size_t i = 0;
  for (const bson::ElementView& e : bson::DocView(key_values)) {
    if (i >= checked_from_ && !planner::IsFull(node_.bounds[i])) {
      std::string key;
      if (fields[i].kind == index::KeyKind::kHashed) {
        bson::AppendKeyString(e.value, &key);  // the stored hash
      } else {
        bson::AppendKeyString(e.value, &key, node_.index->spec->collator());
      }
      if (!planner::ListContains(node_.bounds[i], key)) return false;
    }
    ++i;
  }
  return true;
}

absl::StatusOr<State> IndexScanStage::DoWork(Member* out) {
  if ((stats_.works & 255) == 0 && ctx_.deadline != nullptr) {
    if (auto s = ctx_.deadline->Check(); !s.ok()) return s;
  }
  if (range_ >= ranges_.size()) return State::kEof;
  if (step_pending_) {
    step_pending_ = false;
    if (node_.direction > 0) {
      it_->Next();
    } else {
      it_->Prev();
    }
  }
  if (!positioned_) Position();
  const auto& [start, end] = ranges_[range_];
  bool valid = it_->Valid() && (node_.direction > 0 ? it_->key() < end : it_->key() >= start);
  if (!valid) {
    if (!it_->status().ok()) return it_->status();
    ++range_;
    positioned_ = false;
    if (range_ < ranges_.size() && node_.kind != planner::NodeKind::kDistinctScan) ContinueInto(start, end);
    return range_ >= ranges_.size() ? State::kEof : State::kNeedTime;
  }
  ++stats_.keys_examined;
  std::string_view value = it_->value();
  out->index = node_.index;
  bool keep = true;
  if (id_index_) {
    out->record_key.assign(it_->key());
    out->doc.assign(value);
    out->has_doc = true;
    out->key_values.clear();
  } else {
    std::string_view id = index::EntryRecordId(value);
    out->record_key = record_prefix_;
    out->record_key.append(id);
    out->key_values.assign(value.substr(0, value.size() - id.size()));
    out->has_doc = false;
    keep = InBounds(out->key_values);
    if (keep && node_.index->multikey()) {
      ++stats_.dups_tested;
      if (!seen_.insert(out->record_key).second) {
        ++stats_.dups_dropped;
        keep = false;
      }
    }
  }
  if (keep && node_.kind == planner::NodeKind::kDistinctScan) {
    SkipPastFirstField(out->key_values);
  } else {
    // The step to the next entry waits for the next call: a plan that stops at this entry
    // (a limit reached, findOne) never pays for it, and a step can cost a block read.
    step_pending_ = true;
  }
  if (!keep) return State::kNeedTime;
  if (node_.kind == planner::NodeKind::kCountScan) return State::kAdvanced;  // counted, not read
  if (node_.filter_keys) {
    if (!id_index_) {
      // The document the key values describe: what a covered plan returns.
      const auto& fields = node_.index->spec->fields();
      std::vector<std::pair<const query::FieldPath*, bson::ValueView>> items;
      size_t i = 0;
      for (const bson::ElementView& e : bson::DocView(out->key_values)) {
        // A wildcard entry's path is not a field of the document.
        if (i > 0 || node_.index->wildcard_path.empty()) items.emplace_back(&fields[i].path, e.value);
        ++i;
      }
      bson::Builder doc;
      AppendNested(items, 0, &doc);
      out->doc = std::move(doc).Finish();
      out->has_doc = true;
    }
    if (ctx_.filter != nullptr && !ctx_.filter->MatchesAll()) {
      auto matched = ctx_.filter->Evaluate(bson::DocView(out->doc));
      if (!matched.ok()) return matched.status();
      if (!*matched) return State::kNeedTime;
    }
  }
  return State::kAdvanced;
}

void IndexScanStage::SkipPastFirstField(std::string_view key_values) {
  // Every entry of one first-field value starts with the index prefix and that value's key
  // string (self-delimiting), so one seek passes them all.
  std::string group = index_prefix_;
  std::string first;
  bson::AppendKeyString(bson::DocView(key_values).begin()->value, &first);
  group += descending_[0] ? Inverted(first) : first;
  ++stats_.seeks;
  if (node_.direction > 0) {
    it_->Seek(PrefixSuccessor(group));
  } else {
    it_->SeekForPrev(group);
    if (it_->Valid() && it_->key() >= group) it_->Prev();
  }
}

namespace {

// The value an interval end's explain text names (COUNT_SCAN shows ends as values): the
// shell's notations for type brackets, else the end's Extended JSON.
Value BoundValue(const std::string& text) {
  if (text == "MinKey") return Value(MinKey{});
  if (text == "MaxKey") return Value(MaxKey{});
  if (text == "inf.0") return Value(std::numeric_limits<double>::infinity());
  if (text == "-inf.0") return Value(-std::numeric_limits<double>::infinity());
  constexpr std::string_view kDate = "new Date(", kOid = "ObjectId('";
  if (text.starts_with(kDate)) return Value(DateTime{std::stoll(text.substr(kDate.size()))});
  if (text.starts_with(kOid)) return Value(ObjectId::FromHex(text.substr(kOid.size(), 24)));
  if (text == "BinData(0, )") return Value(Binary{});
  auto bson = bson::JsonToBson("{\"v\": " + text + "}");
  if (!bson.ok()) return Value(text);
  return bson::Decode(bson::DocView(*bson)).Get("v");
}

}  // namespace

bool IndexScanStage::RecordRange(Value* min, Value* max) const {
  if (!id_index_ || node_.bounds.empty() || node_.bounds[0].empty() || planner::IsFull(node_.bounds[0])) return false;
  const planner::IntervalList& list = node_.bounds[0];  // ascending
  // A number range open below starts where numbers do: at NaN, which sorts first.
  const std::string& lo = list.front().lo_text;
  *min = lo == "-inf.0" ? Value(std::numeric_limits<double>::quiet_NaN()) : BoundValue(lo);
  *max = BoundValue(list.back().hi_text);
  return true;
}

void IndexScanStage::AddExplain(Document* out, bool stats) const {
  const index::IndexSpec& spec = *node_.index->spec;
  out->Append("stage", planner::StageName(node_.kind));
  out->Append("keyPattern", bson::Decode(spec.key_pattern()));
  out->Append("indexName", node_.index->name);
  out->Append("isMultiKey", node_.index->multikey());
  Document paths;
  for (size_t i = 0; i < spec.fields().size(); ++i) {
    Array parts;
    if (node_.index->field_multikey(i)) parts.push_back(spec.fields()[i].path.dotted());
    paths.Append(spec.fields()[i].path.dotted(), parts);
  }
  out->Append("multiKeyPaths", paths);
  out->Append("isUnique", node_.index->id == 0 || spec.unique());
  out->Append("isSparse", spec.sparse());
  out->Append("isPartial", spec.partial());
  out->Append("indexVersion", int32_t{2});
  if (node_.kind == planner::NodeKind::kCountScan) {
    // MongoDB's COUNT_SCAN shows its one key range by its ends (one interval per field).
    Document start, end;
    bool start_inclusive = true, end_inclusive = true;
    for (size_t i = 0; i < spec.fields().size(); ++i) {
      const planner::Interval& iv = node_.bounds[i].front();
      bool flip = spec.fields()[i].descending();
      start.Append(spec.fields()[i].path.dotted(), BoundValue(flip ? iv.hi_text : iv.lo_text));
      end.Append(spec.fields()[i].path.dotted(), BoundValue(flip ? iv.lo_text : iv.hi_text));
      start_inclusive = start_inclusive && (flip ? iv.hi_inclusive : iv.lo_inclusive);
      end_inclusive = end_inclusive && (flip ? iv.lo_inclusive : iv.hi_inclusive);
    }
    out->Append("indexBounds", Document{{"startKey", start},
                                        {"startKeyInclusive", start_inclusive},
                                        {"endKey", end},
                                        {"endKeyInclusive", end_inclusive}});
    if (stats) out->Append("keysExamined", stats_.keys_examined);
    return;
  }
  out->Append("direction", node_.direction > 0 ? "forward" : "backward");
  Document bounds;
  for (size_t i = 0; i < spec.fields().size(); ++i) {
    Array list;
    auto intervals = node_.bounds[i];
    if (spec.fields()[i].descending() != (node_.direction < 0)) {
      // Shown in scan order, as MongoDB does.
      std::reverse(intervals.begin(), intervals.end());
      for (auto& iv : intervals) {
        std::swap(iv.lo_text, iv.hi_text);
        std::swap(iv.lo_inclusive, iv.hi_inclusive);
      }
    }
    for (const auto& iv : intervals) list.push_back(iv.ToString());
    bounds.Append(spec.fields()[i].path.dotted(), list);
  }
  out->Append("indexBounds", bounds);
  if (stats) {
    out->Append("keysExamined", stats_.keys_examined);
    out->Append("seeks", stats_.seeks);
    out->Append("dupsTested", stats_.dups_tested);
    out->Append("dupsDropped", stats_.dups_dropped);
  }
}

}  // namespace micromongo::exec
