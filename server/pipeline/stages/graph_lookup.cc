// $graphLookup: a breadth-first search over a collection, from the values of `startWith`,
// following connectFromField -> connectToField, up to maxDepth, within
// restrictSearchWithMatch.
//
// Each level is one read of the documents whose connectToField equals a value of the
// frontier (through an index on it when there is one); without such an index the
// collection is read once per query into an in-memory hash index instead.

#include "absl/container/flat_hash_set.h"
#include "document/builder.h"
#include "document/key_string.h"
#include "pipeline/stages/join_util.h"
#include "pipeline/stages/registry.h"
#include "query/matcher.h"

namespace micromongo::pipeline::stages {
namespace {

struct GraphDef {
  std::string db, coll;
  std::shared_ptr<const Expression> start_with;
  std::vector<std::string> connect_from;
  std::string connect_to;
  std::vector<std::string> connect_to_parts;
  std::vector<std::string> as;
  std::optional<std::vector<std::string>> depth_field;
  std::optional<int64_t> max_depth;
  std::optional<Document> restrict;
};

class GraphLookupStage final : public Stage {
 public:
  GraphLookupStage(StagePtr input, const GraphDef* def, ExecContext* ctx)
      : input_(std::move(input)), def_(def), ctx_(ctx) {}

  absl::StatusOr<bool> Next(Row* out) override {
    auto more = input_->Next(out);
    if (!more.ok() || !*more) return more;
    if (!started_) {
      started_ = true;
      if (auto s = Start(); !s.ok()) return s;
    }
    bson::DocView doc = out->view();
    auto start = def_->start_with->Evaluate(ctx_->VariablesFor(*out, &doc));
    if (!start.ok()) return start.status();
    std::vector<Value> frontier;
    if (*start) {
      if ((*start)->type() == BsonType::kArray) {
        frontier = (*start)->AsArray();
      } else {
        frontier.push_back(**start);
      }
    }
    absl::flat_hash_set<std::string> visited_ids, queried;
    std::vector<std::string> results;
    int64_t memory = 0;
    for (int64_t depth = 0; !frontier.empty(); ++depth) {
      if (def_->max_depth && depth > *def_->max_depth) break;
      std::vector<Value> to_query;
      for (Value& v : frontier) {
        if (queried.insert(ValueKey(v, ctx_->collator_ptr())).second) to_query.push_back(std::move(v));
      }
      frontier.clear();
      if (to_query.empty()) break;
      std::vector<std::string> found;
      if (auto s = Fetch(to_query, &found); !s.ok()) return s;
      for (std::string& d : found) {
        bson::DocView fd(d);
        bson::ValueView id;
        std::string id_key;
        if (fd.Find("_id", &id)) bson::AppendKeyString(id, &id_key, nullptr);
        if (!visited_ids.insert(id_key).second) continue;
        ValuesAlongPath(fd, def_->connect_from, &frontier);
        if (def_->depth_field) d = SetField(fd, *def_->depth_field, Value(depth));
        memory += static_cast<int64_t>(d.size());
        if (memory > ctx_->memory_limit) return MemoryLimitExceeded("$graphLookup", ctx_->memory_limit);
        results.push_back(std::move(d));
      }
      if (auto s = ctx_->deadline.Check(); !s.ok()) return s;
    }
    std::vector<std::string_view> views(results.begin(), results.end());
    out->doc = SetFieldToDocuments(doc, def_->as, views);
    return true;
  }

 private:
  std::string Db() const { return def_->db.empty() ? ctx_->db : def_->db; }

  absl::StatusOr<std::shared_ptr<const query::Matcher>> Filter(const std::vector<Value>& values) {
    Document filter = Document::FromBson(EqualityFilter(def_->connect_to, values));
    if (def_->restrict) filter.Append("$and", Array{*def_->restrict});
    auto m = query::Matcher::Parse(bson::Encode(filter), ctx_->let != nullptr ? *ctx_->let : kNoLet, ctx_->collator);
    if (!m.ok()) return m.status();
    return std::shared_ptr<const query::Matcher>(*std::move(m));
  }

  absl::Status Start() {
    if (ctx_->data == nullptr) return MongoError(kInternalError, "$graphLookup needs collection access");
    auto view = ctx_->data->ResolveView(Db(), def_->coll);
    if (!view.ok()) return view.status();
    if (view->has_value()) {
      // A view: each level runs the view's pipeline, then the level's filter.
      view_ = true;
      return absl::OkStatus();
    }
    auto probe = Filter({Value(1)});
    if (!probe.ok()) return probe.status();
    if (ctx_->data->CanUseIndex(ReadRequest{Db(), def_->coll, *probe})) return absl::OkStatus();
    std::shared_ptr<const query::Matcher> restrict;
    if (def_->restrict) {
      auto m = query::Matcher::Parse(bson::Encode(*def_->restrict), ctx_->let != nullptr ? *ctx_->let : kNoLet,
                                     ctx_->collator);
      if (!m.ok()) return m.status();
      restrict = std::shared_ptr<const query::Matcher>(*std::move(m));
    }
    auto hash = HashIndex::Build(ctx_, ReadRequest{Db(), def_->coll, restrict}, def_->connect_to_parts);
    if (hash.ok()) {
      hash_ = *std::move(hash);
    } else if (MongoCodeOf(hash.status()) != kQueryExceededMemoryLimitNoDiskUseAllowed) {
      return hash.status();
    }
    return absl::OkStatus();
  }

  absl::Status Fetch(const std::vector<Value>& values, std::vector<std::string>* out) {
    if (hash_ != nullptr) {
      for (const std::string* d : hash_->Probe(values)) out->push_back(*d);
      return absl::OkStatus();
    }
    auto m = Filter(values);
    if (!m.ok()) return m.status();
    static const Pipeline* const kEmpty = new Pipeline(*Pipeline::Parse({}, ParseOptions{}));
    auto source = view_ ? kEmpty->OpenOnCollection(Db(), def_->coll, ctx_, nullptr, *std::move(m))
                        : ctx_->data->Read(ReadRequest{Db(), def_->coll, *std::move(m)}, nullptr);
    if (!source.ok()) return source.status();
    auto docs = Drain(source->get());
    if (!docs.ok()) return docs.status();
    *out = *std::move(docs);
    return absl::OkStatus();
  }

  static inline const VariableMap kNoLet;

  StagePtr input_;
  const GraphDef* def_;
  ExecContext* ctx_;
  bool started_ = false;
  bool view_ = false;
  std::unique_ptr<HashIndex> hash_;
};

using GraphLookupSpec = DefSpec<GraphLookupStage, GraphDef>;

}  // namespace

absl::Status ParseGraphLookup(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(kFailedToParse, StrCat("the $graphLookup stage specification must be an object, but found ",
                                             BsonTypeName(arg.type())));
  }
  GraphDef def;
  bool have_start = false;
  std::string as;
  std::string from_field;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "startWith") {
      auto e = ParseExpression(v, options.ExpressionContext());
      if (!e.ok()) return e.status();
      def.start_with = std::shared_ptr<const Expression>(*std::move(e));
      have_start = true;
      continue;
    }
    if (k == "maxDepth") {
      if (!v.IsNumber()) {
        return MongoError(40100, StrCat("maxDepth must be numeric, found type: ", BsonTypeName(v.type())));
      }
      double d = v.ToDouble();
      int64_t n = v.type() == BsonType::kInt64 ? v.AsInt64() : static_cast<int64_t>(std::clamp(d, -9.2e18, 9.2e18));
      if (n < 0) return MongoError(40101, StrCat("maxDepth requires a nonnegative argument, found: ", n));
      if (v.type() != BsonType::kInt64 && static_cast<double>(n) != d) {
        return MongoError(40102, StrCat("maxDepth could not be represented as a long long: ", n));
      }
      def.max_depth = n;
      continue;
    }
    if (k == "restrictSearchWithMatch") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(40185, StrCat("restrictSearchWithMatch must be an object, found ", BsonTypeName(v.type())));
      }
      VariableMap names;
      if (options.let != nullptr) names = *options.let;
      for (const std::string& s : options.scope) names.emplace(s, Value());
      auto m = query::Matcher::Parse(bson::Encode(v.AsDocument()), names, options.collator);
      if (!m.ok()) return m.status();
      def.restrict = v.AsDocument();
      continue;
    }
    if (k == "from" || k == "as" || k == "connectFromField" || k == "depthField" || k == "connectToField") {
      if (v.type() != BsonType::kString && !(k == "from" && v.type() == BsonType::kDocument)) {
        return MongoError(40103, StrCat("expected string as argument for ", k, ", found: ", BsonTypeName(v.type())));
      }
    }
    if (k == "from") {
      if (v.type() == BsonType::kDocument) {
        const Value* db = v.AsDocument().Find("db");
        const Value* coll = v.AsDocument().Find("coll");
        if (db == nullptr || coll == nullptr || db->type() != BsonType::kString || coll->type() != BsonType::kString) {
          return MongoError(kFailedToParse, "$graphLookup 'from' must be a collection name or {db, coll}");
        }
        def.db = db->AsString();
        def.coll = coll->AsString();
      } else {
        def.coll = v.AsString();
      }
    } else if (k == "as") {
      as = v.AsString();
    } else if (k == "connectFromField") {
      from_field = v.AsString();
    } else if (k == "connectToField") {
      def.connect_to = v.AsString();
    } else if (k == "depthField") {
      if (auto s = ValidateOutputField("$graphLookup", v.AsString(), 40352); !s.ok()) return s;
      def.depth_field = SplitDotted(v.AsString());
    } else {
      return MongoError(40104, StrCat("Unknown argument to $graphLookup: ", k));
    }
  }
  if (def.coll.empty() || as.empty() || !have_start || from_field.empty() || def.connect_to.empty()) {
    return MongoError(40105, "$graphLookup requires 'from', 'as', 'startWith', 'connectFromField', and "
                             "'connectToField' to be specified.");
  }
  for (const std::string* f : {&as, &from_field, &def.connect_to}) {
    if (auto s = ValidateOutputField("$graphLookup", *f, 40352); !s.ok()) return s;
  }
  def.as = SplitDotted(as);
  def.connect_from = SplitDotted(from_field);
  def.connect_to_parts = SplitDotted(def.connect_to);
  Emit(out, "$graphLookup", arg, std::make_shared<GraphLookupSpec>(std::move(def)));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
