// $group, and the stages MongoDB defines in terms of it: $sortByCount and $bucket.
//
// Groups live in a hash table keyed by the key string of their _id (under the collation, so
// that values the collation calls equal share a group). Past the memory limit, with
// allowDiskUse, the table is written out as a run of (key, partial accumulator states)
// sorted by key and emptied; at the end the runs are merged, partial states of the same key
// combined, and each group finished.

#include <deque>

#include "absl/container/flat_hash_map.h"
#include "document/builder.h"
#include "document/key_string.h"
#include "pipeline/accumulators/accumulator.h"
#include "pipeline/accumulators/states.h"
#include "pipeline/spill.h"
#include "pipeline/stages/registry.h"

namespace micromongo::pipeline::stages {
namespace {

// The group key: one expression, or an object of expressions whose missing fields become
// null ({_id: {a: "$x"}} groups documents without x under {a: null}).
struct GroupId {
  std::shared_ptr<const Expression> single;
  std::vector<std::pair<std::string, std::shared_ptr<const Expression>>> fields;

  absl::StatusOr<Value> Evaluate(const Variables& vars) const {
    if (single) {
      auto v = single->Evaluate(vars);
      if (!v.ok()) return v.status();
      return *v ? **std::move(v) : Value(nullptr);
    }
    Document d;
    for (const auto& [name, e] : fields) {
      auto v = e->Evaluate(vars);
      if (!v.ok()) return v.status();
      d.Append(name, *v ? **std::move(v) : Value(nullptr));
    }
    return Value(std::move(d));
  }
};

// The key string of a value (its BSON element encoded for ordering and equality).
void AppendValueKey(const Value& v, const bson::Collator* collator, std::string* out) {
  bson::Builder b;
  b.AppendValue("", v);
  std::string doc = std::move(b).Finish();
  bson::AppendKeyString(bson::DocView(doc).begin()->value, out, collator);
}

class GroupStage final : public Stage {
 public:
  GroupStage(StagePtr input, const GroupId* id, const std::vector<AccumulatorOutput>* outputs, ExecContext* ctx)
      : input_(std::move(input)), id_(id), outputs_(outputs), ctx_(ctx), reader_(FieldPaths(*id, *outputs)) {}

  absl::StatusOr<bool> Next(Row* out) override {
    if (!loaded_) {
      loaded_ = true;
      if (auto s = Consume(); !s.ok()) return s;
    }
    if (spill_ == nullptr) {
      if (next_ >= groups_.size()) {
        groups_.clear();
        return false;
      }
      auto doc = Finish(groups_[next_]);
      groups_[next_].states.clear();
      ++next_;
      if (!doc.ok()) return doc.status();
      out->doc = *std::move(doc);
      out->meta.reset();
      return true;
    }
    return NextMerged(out);
  }

 private:
  struct Group {
    Value key;
    std::vector<std::unique_ptr<AccumulatorState>> states;
  };

  absl::Status Consume() {
    Row row;
    std::string key;
    uint32_t n = 0;
    while (true) {
      auto more = input_->Next(&row);
      if (!more.ok()) return more.status();
      if (!*more) break;
      if ((++n & 1023) == 0) {
        if (auto s = ctx_->deadline.Check(); !s.ok()) return s;
      }
      bson::DocView view = row.view();
      Variables vars = ctx_->VariablesFor(row, &view);
      // The key: read straight from the BSON for a field path, else evaluated.
      key.clear();
      reader_.Read(view, &lookups_, &views_);
      bson::ValueView id_view = views_[0];
      PathLookup id_lookup = lookups_[0];
      std::optional<Value> id;
      if (id_lookup == PathLookup::kFound) {
        bson::AppendKeyString(id_view, &key, ctx_->collator_ptr());
      } else if (id_lookup == PathLookup::kMissing) {
        bson::AppendKeyString(bson::kNullValue, &key, ctx_->collator_ptr());
      } else {
        auto v = id_->Evaluate(vars);
        if (!v.ok()) return v.status();
        id = *std::move(v);
        AppendValueKey(*id, ctx_->collator_ptr(), &key);
      }
      auto [it, inserted] = index_.try_emplace(key, groups_.size());
      if (inserted) {
        if (!id) id = id_lookup == PathLookup::kFound ? bson::ToValue(id_view) : Value(nullptr);
        Group g;
        for (const AccumulatorOutput& o : *outputs_) {
          auto state = o.accumulator.NewState(*id, ctx_->collator_ptr(), ctx_->let);
          if (!state.ok()) return state.status();
          g.states.push_back(*std::move(state));
        }
        memory_ += static_cast<int64_t>(GroupOverhead(key, g.states.size()) + accumulators::ApproxBytes(*id));
        for (const auto& s : g.states) memory_ += static_cast<int64_t>(s->MemoryBytes());
        g.key = *std::move(id);
        groups_.push_back(std::move(g));
      }
      Group& g = groups_[it->second];
      for (size_t i = 0; i < outputs_->size(); ++i) {
        AccumulatorState* state = g.states[i].get();
        if (!state->NeedsInput()) continue;
        bool fixed = state->FixedSize();
        size_t before = fixed ? 0 : state->MemoryBytes();
        absl::Status processed;
        const AccumulatorSpec& spec = (*outputs_)[i].accumulator;
        PathLookup lookup = lookups_[i + 1];
        if (lookup == PathLookup::kFound) {
          processed = state->ProcessView(views_[i + 1]);  // a field, read in place
        } else if (lookup == PathLookup::kMissing) {
          processed = state->Process(std::nullopt);
        } else if (const std::optional<Value>* constant = spec.argument().constant()) {
          processed = state->Process(*constant);  // {$sum: 1}: nothing to evaluate
        } else {
          auto v = spec.Input(vars);
          if (!v.ok()) return v.status();
          processed = state->Process(*v);
        }
        if (!processed.ok()) return processed;
        if (!fixed) memory_ += static_cast<int64_t>(state->MemoryBytes()) - static_cast<int64_t>(before);
      }
      if (memory_ > ctx_->group_memory_limit) {
        if (!ctx_->allow_disk_use || ctx_->temp_dir.empty()) {
          return MemoryLimitExceeded("$group", ctx_->group_memory_limit);
        }
        if (auto s = Spill(); !s.ok()) return s;
      }
    }
    input_.reset();
    if (spill_ != nullptr) {
      if (!groups_.empty()) {
        if (auto s = Spill(); !s.ok()) return s;
      }
      return StartMerge();
    }
    // No input and a constant _id: MongoDB still emits nothing (a $group over no documents
    // has no groups).
    return absl::OkStatus();
  }

  // What a group costs beyond its key's and states' own bytes: its hash-table slot (with
  // the table's spare capacity), its entry in groups_, its key string if not inline, and
  // the allocator's headers of the state objects.
  static size_t GroupOverhead(const std::string& key, size_t states) {
    constexpr size_t kMallocHeader = 16;
    size_t slot = (sizeof(std::string) + sizeof(size_t) + 1) * 2;  // load factor and growth
    size_t heap_key = key.size() > 15 ? key.capacity() + kMallocHeader : 0;
    return slot + sizeof(Group) + heap_key + states * (sizeof(void*) + kMallocHeader) + kMallocHeader;
  }

  // Writes the table as one run sorted by key, and empties it.
  absl::Status Spill() {
    if (spill_ == nullptr) {
      auto f = SpillFile::Create(ctx_->temp_dir);
      if (!f.ok()) return f.status();
      spill_ = *std::move(f);
    }
    std::vector<std::pair<const std::string*, size_t>> order;
    order.reserve(index_.size());
    for (const auto& [k, i] : index_) order.emplace_back(&k, i);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (const auto& [k, i] : order) {
      Group& g = groups_[i];
      bson::Builder b;
      b.AppendValue("k", g.key);
      size_t t = b.StartArray("p");
      char scratch[24];
      for (size_t s = 0; s < g.states.size(); ++s) {
        b.AppendValue(bson::ArrayKey(s, scratch), g.states[s]->Partial());
      }
      b.End(t);
      if (auto st = spill_->Append(*k, std::move(b).Finish()); !st.ok()) return st;
    }
    auto run = spill_->EndRun();
    if (!run.ok()) return run.status();
    decltype(index_)().swap(index_);
    std::deque<Group>().swap(groups_);
    memory_ = 0;
    return absl::OkStatus();
  }

  absl::Status StartMerge() {
    heads_.resize(spill_->runs());
    for (size_t i = 0; i < spill_->runs(); ++i) {
      readers_.push_back(spill_->Read(i));
      auto more = readers_[i].Next(&heads_[i].first, &heads_[i].second);
      if (!more.ok()) return more.status();
      if (*more) heap_.push_back(i);
    }
    std::make_heap(heap_.begin(), heap_.end(), Greater());
    return absl::OkStatus();
  }

  // Orders run indices for a min-heap by their head keys.
  struct HeadGreater {
    const GroupStage* stage;
    bool operator()(size_t a, size_t b) const { return stage->heads_[b].first < stage->heads_[a].first; }
  };
  HeadGreater Greater() const { return HeadGreater{this}; }

  // Pops the smallest record of the runs into key/value; false when they are exhausted.
  absl::StatusOr<bool> Pop(std::string* key, std::string* value) {
    if (heap_.empty()) return false;
    std::pop_heap(heap_.begin(), heap_.end(), Greater());
    size_t i = heap_.back();
    *key = std::move(heads_[i].first);
    *value = std::move(heads_[i].second);
    auto more = readers_[i].Next(&heads_[i].first, &heads_[i].second);
    if (!more.ok()) return more.status();
    if (*more) {
      std::push_heap(heap_.begin(), heap_.end(), Greater());
    } else {
      heap_.pop_back();
    }
    return true;
  }

  absl::StatusOr<bool> NextMerged(Row* out) {
    std::string key, value;
    auto more = Pop(&key, &value);
    if (!more.ok() || !*more) return more;
    Group g;
    Document first = bson::Decode(bson::DocView(value));
    g.key = first.Get("k");
    for (const AccumulatorOutput& o : *outputs_) {
      auto state = o.accumulator.NewState(g.key, ctx_->collator_ptr(), ctx_->let);
      if (!state.ok()) return state.status();
      g.states.push_back(*std::move(state));
    }
    auto merge = [&](const Document& record) -> absl::Status {
      const Array& partials = record.Get("p").AsArray();
      for (size_t i = 0; i < g.states.size() && i < partials.size(); ++i) {
        if (auto s = g.states[i]->Merge(partials[i]); !s.ok()) return s;
      }
      return absl::OkStatus();
    };
    if (auto s = merge(first); !s.ok()) return s;
    // The same key's partials from the other runs come next in the merge.
    while (!heap_.empty() && heads_[heap_.front()].first == key) {
      std::string k2, v2;
      auto popped = Pop(&k2, &v2);
      if (!popped.ok()) return popped.status();
      if (auto s = merge(bson::Decode(bson::DocView(v2))); !s.ok()) return s;
    }
    auto doc = Finish(g);
    if (!doc.ok()) return doc.status();
    out->doc = *std::move(doc);
    out->meta.reset();
    return true;
  }

  absl::StatusOr<std::string> Finish(const Group& g) {
    bson::Builder b;
    b.AppendValue("_id", g.key);
    for (size_t i = 0; i < outputs_->size(); ++i) {
      auto v = g.states[i]->Result();
      if (!v.ok()) return v.status();
      // A missing result is null, as in MongoDB's $group.
      b.AppendValue((*outputs_)[i].field, *v ? **v : Value(nullptr));
    }
    return std::move(b).Finish();
  }

  StagePtr input_;
  const GroupId* id_;
  const std::vector<AccumulatorOutput>* outputs_;
  ExecContext* ctx_;
  // The key's and the accumulators' field paths, read from the BSON in one pass (null:
  // evaluate the expression).
  static std::vector<const std::vector<std::string>*> FieldPaths(const GroupId& id, const std::vector<AccumulatorOutput>& outputs) {
    std::vector<const std::vector<std::string>*> paths{id.single ? CurrentFieldPath(*id.single) : nullptr};
    for (const AccumulatorOutput& o : outputs) paths.push_back(CurrentFieldPath(o.accumulator.argument()));
    return paths;
  }
  FieldReader reader_;
  std::vector<PathLookup> lookups_;
  std::vector<bson::ValueView> views_;
  bool loaded_ = false;

  absl::flat_hash_map<std::string, size_t> index_;
  std::deque<Group> groups_;  // in order of first appearance (a deque: no doubling slack)
  size_t next_ = 0;
  int64_t memory_ = 0;

  std::unique_ptr<SpillFile> spill_;
  std::vector<SpillFile::RunReader> readers_;
  std::vector<std::pair<std::string, std::string>> heads_;
  std::vector<size_t> heap_;
};

class GroupSpec final : public StageSpec {
 public:
  GroupSpec(GroupId id, std::vector<AccumulatorOutput> outputs) : id_(std::move(id)), outputs_(std::move(outputs)) {}
  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    return StagePtr(std::make_unique<GroupStage>(std::move(input), &id_, &outputs_, ctx));
  }

 private:
  GroupId id_;
  std::vector<AccumulatorOutput> outputs_;
};

bool IsOperatorObject(const Value& v) {
  return v.type() == BsonType::kDocument && !v.AsDocument().empty() &&
         v.AsDocument().begin()->first.starts_with("$");
}

// Parses $group's body (shared with the shorthands, which build one).
absl::StatusOr<std::shared_ptr<GroupSpec>> MakeGroup(const Document& spec, const ParseOptions& options) {
  ParseContext context = options.ExpressionContext();
  GroupId id;
  bool have_id = false;
  std::vector<AccumulatorOutput> outputs;
  for (const auto& [name, v] : spec) {
    if (name == "_id") {
      have_id = true;
      if (v.type() == BsonType::kDocument && !IsOperatorObject(v) && !v.AsDocument().empty()) {
        for (const auto& [k, e] : v.AsDocument()) {
          if (k.empty() || k[0] == '$') {
            return MongoError(16410, StrCat("FieldPath field names may not start with '$'. Consider using "
                                            "$getField or $setField."));
          }
          auto expr = ParseExpression(e, context);
          if (!expr.ok()) return expr.status();
          id.fields.emplace_back(k, std::shared_ptr<const Expression>(*std::move(expr)));
        }
      } else {
        auto expr = ParseExpression(v, context);
        if (!expr.ok()) return expr.status();
        id.single = std::shared_ptr<const Expression>(*std::move(expr));
      }
      continue;
    }
    if (name.find('.') != std::string::npos) {
      return MongoError(40235, StrCat("The field name '", name, "' cannot contain '.'"));
    }
    if (!name.empty() && name[0] == '$') {
      return MongoError(40236, StrCat("The field name '", name, "' cannot be an operator name"));
    }
    if (v.type() != BsonType::kDocument) {
      return MongoError(40234, StrCat("The field '", name, "' must be an accumulator object"));
    }
    if (v.AsDocument().size() != 1) {
      return MongoError(40238, StrCat("The field '", name, "' must specify one accumulator"));
    }
    const auto& [op, arg] = *v.AsDocument().begin();
    auto acc = AccumulatorSpec::Parse(op, arg, context);
    if (!acc.ok()) return acc.status();
    outputs.push_back(AccumulatorOutput{name, *std::move(acc)});
  }
  if (!have_id) return MongoError(15955, "a group specification must include an _id");
  return std::make_shared<GroupSpec>(std::move(id), std::move(outputs));
}

}  // namespace

absl::Status ParseGroup(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(15947, "a group's fields must be specified in an object");
  }
  auto group = MakeGroup(arg.AsDocument(), options);
  if (!group.ok()) return group.status();
  Emit(out, "$group", arg, *std::move(group));
  return absl::OkStatus();
}

absl::Status ParseSortByCount(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() == BsonType::kString) {
    if (!arg.AsString().starts_with("$")) {
      return MongoError(40148, StrCat("the sortByCount field must be defined as a $-prefixed path or an "
                                      "expression inside an object"));
    }
  } else if (arg.type() == BsonType::kDocument) {
    if (!IsOperatorObject(arg) || arg.AsDocument().size() != 1) {
      return MongoError(40147, "the sortByCount field must be defined as a $-prefixed path or an "
                               "expression inside an object");
    }
  } else {
    return MongoError(40149, "the sortByCount field must be specified as a string or as an object");
  }
  if (auto s = ParseInto(Document{{"$group", Document{{"_id", arg}, {"count", Document{{"$sum", 1}}}}}},
                         options, out);
      !s.ok()) {
    return s;
  }
  return ParseInto(Document{{"$sort", Document{{"count", -1}}}}, options, out);
}

absl::Status ParseBucket(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(40201, StrCat("Argument to $bucket stage must be an object, but found type: ",
                                    BsonTypeName(arg.type()), "."));
  }
  const Value* group_by = nullptr;
  const Value* boundaries = nullptr;
  const Value* def = nullptr;
  const Value* output = nullptr;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "groupBy") {
      group_by = &v;
    } else if (k == "boundaries") {
      boundaries = &v;
    } else if (k == "default") {
      def = &v;
    } else if (k == "output") {
      output = &v;
    } else {
      return MongoError(40197, StrCat("Unrecognized option to $bucket: ", k, "."));
    }
  }
  if (group_by == nullptr || boundaries == nullptr) {
    return MongoError(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.");
  }
  if (!(group_by->type() == BsonType::kString && group_by->AsString().starts_with("$")) &&
      !IsOperatorObject(*group_by)) {
    return MongoError(40202, StrCat("The $bucket 'groupBy' field must be defined as a $-prefixed path or an "
                                    "expression, but found: ", group_by->ToJson(), "."));
  }
  if (boundaries->type() != BsonType::kArray) {
    return MongoError(40200, StrCat("The $bucket 'boundaries' field must be an array, but found type: ",
                                    BsonTypeName(boundaries->type()), "."));
  }
  const Array& raw = boundaries->AsArray();
  if (raw.size() < 2) {
    return MongoError(40192, StrCat("The $bucket 'boundaries' field must have at least 2 values, but found ",
                                    raw.size(), " value(s)."));
  }
  ParseContext context = options.ExpressionContext();
  std::vector<Value> bounds;
  for (size_t i = 0; i < raw.size(); ++i) {
    auto e = ParseExpression(raw[i], context);
    if (!e.ok()) return e.status();
    const std::optional<Value>* c = (*e)->constant();
    if (c == nullptr || !*c) {
      return MongoError(40191, StrCat("The $bucket 'boundaries' field must be an array of constant values, but "
                                      "found value: ", raw[i].ToJson(), "."));
    }
    bounds.push_back(**c);
    if (i > 0) {
      const Value& a = bounds[i - 1];
      const Value& b = bounds[i];
      if (bson::CanonicalTypeOrder(a.type()) != bson::CanonicalTypeOrder(b.type())) {
        return MongoError(40193, StrCat("All values in the the 'boundaries' option to $bucket must have the same "
                                        "type. Found conflicting types ", BsonTypeName(a.type()), " and ",
                                        BsonTypeName(b.type()), "."));
      }
      if (CompareOptional(a, b, options.collator.get()) >= 0) {
        return MongoError(40194, StrCat("The 'boundaries' option to $bucket must be sorted, but elements ", i - 1,
                                        " and ", i, " are not in ascending order (", a.ToJson(),
                                        " is not less than ", b.ToJson(), ")."));
      }
    }
  }
  std::optional<Value> default_value;
  if (def != nullptr) {
    auto e = ParseExpression(*def, context);
    if (!e.ok()) return e.status();
    const std::optional<Value>* c = (*e)->constant();
    if (c == nullptr || !*c) {
      return MongoError(40195, StrCat("The $bucket 'default' field must be a constant expression, but found: ",
                                      def->ToJson(), "."));
    }
    default_value = **c;
    // The default must lie outside [first boundary, last boundary).
    if (bson::CanonicalTypeOrder(default_value->type()) == bson::CanonicalTypeOrder(bounds[0].type()) &&
        CompareOptional(*default_value, bounds.front(), options.collator.get()) >= 0 &&
        CompareOptional(*default_value, bounds.back(), options.collator.get()) < 0) {
      return MongoError(40199, "The $bucket 'default' field must be less than the lowest boundary or greater than "
                               "or equal to the highest boundary.");
    }
  }
  Document outputs;
  if (output != nullptr) {
    if (output->type() != BsonType::kDocument) {
      return MongoError(40196, StrCat("The $bucket 'output' field must be an object, but found type: ",
                                      BsonTypeName(output->type()), "."));
    }
    outputs = output->AsDocument();
  } else {
    outputs = Document{{"count", Document{{"$sum", 1}}}};
  }
  // {_id: {$switch: {branches: [{case: {$and: [{$gte: [groupBy, b_i]}, {$lt: [groupBy, b_i+1]}]},
  // then: b_i}, ...], default: default}}, ...output}, then {$sort: {_id: 1}}: MongoDB's own
  // definition of $bucket.
  Array branches;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    Value lo = Document{{"$literal", bounds[i]}};
    Value hi = Document{{"$literal", bounds[i + 1]}};
    branches.push_back(Document{
        {"case", Document{{"$and", Array{Document{{"$gte", Array{*group_by, lo}}},
                                         Document{{"$lt", Array{*group_by, hi}}}}}}},
        {"then", lo}});
  }
  Document sw{{"branches", branches}};
  if (default_value) sw.Append("default", Document{{"$literal", *default_value}});
  Document group{{"_id", Document{{"$switch", sw}}}};
  for (const auto& [k, v] : outputs) group.Append(k, v);
  if (auto s = ParseInto(Document{{"$group", group}}, options, out); !s.ok()) return s;
  return ParseInto(Document{{"$sort", Document{{"_id", 1}}}}, options, out);
}

}  // namespace micromongo::pipeline::stages
