// $lookup: joins each document with documents of another collection, by equality of a
// local and a foreign field, through a pipeline run per document (with `let` variables),
// or both.
//
// An equality join reads the foreign side through its index when one serves the foreign
// field; otherwise the foreign collection is read once into an in-memory hash index (while
// it fits the memory limit; past it, each document reads the collection again).

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "document/builder.h"
#include "document/key_string.h"
#include "pipeline/stages/join_util.h"
#include "pipeline/stages/registry.h"
#include "query/matcher.h"

namespace micromongo::pipeline::stages {
namespace {

// MongoDB's limit on the documents one $lookup gathers for one input document.
constexpr size_t kMaxJoinedBytes = 100 << 20;

struct LookupDef {
  std::string db;    // empty: the command's database
  std::string coll;  // empty: the sub-pipeline starts with $documents
  std::vector<std::string> local, foreign;  // both empty: no equality
  std::string foreign_dotted;
  LetVariables let;
  std::shared_ptr<const Pipeline> pipeline;  // null: equality only
  std::vector<std::string> as;
};

class LookupStage final : public Stage {
 public:
  LookupStage(StagePtr input, const LookupDef* def, ExecContext* ctx)
      : input_(std::move(input)), def_(def), ctx_(ctx), child_(*ctx) {}

  absl::StatusOr<bool> Next(Row* out) override {
    auto more = input_->Next(out);
    if (!more.ok() || !*more) return more;
    if (!started_) {
      started_ = true;
      if (auto s = Start(); !s.ok()) return s;
    }
    bson::DocView doc = out->view();
    std::vector<std::string_view> joined;
    // The common case: one scalar local value, probed by its key string (cached).
    if (def_->pipeline == nullptr && !view_ && reader_ != nullptr && hash_ == nullptr) {
      bson::ValueView local;
      if (LookupPath(doc, def_->local, &local) == PathLookup::kFound && local.type != BsonType::kArray &&
          local.type != BsonType::kDocument) {
        key_.clear();
        bson::AppendKeyString(local, &key_, nullptr);
        auto it = cache_.find(key_);
        if (it != cache_.end()) {
          for (const std::string& d : it->second) joined.push_back(d);
          out->doc = SetFieldToDocuments(doc, def_->as, joined);
          return true;
        }
      }
    }
    std::vector<Value> values;
    if (!def_->local.empty()) ValuesAlongPath(doc, def_->local, &values);
    std::vector<std::string> fetched;
    if (def_->pipeline == nullptr && !view_) {
      if (hash_ != nullptr) {
        for (const std::string* d : hash_->Probe(values)) joined.push_back(*d);
      } else if (reader_ != nullptr && !values.empty() &&
                 std::all_of(values.begin(), values.end(), [&](const Value& v) { return reader_->CanFind(v); })) {
        auto docs = Probe(values);
        if (!docs.ok()) return docs.status();
        for (const std::string& d : **docs) joined.push_back(d);
      } else {
        auto read = ReadMatching(values, &fetched);
        if (!read.ok()) return read;
        for (const std::string& d : fetched) joined.push_back(d);
      }
    } else {
      if (auto s = RunPipeline(*out, values, &fetched); !s.ok()) return s;
      for (const std::string& d : fetched) joined.push_back(d);
    }
    size_t total = 0;
    for (std::string_view d : joined) total += d.size();
    if (total > kMaxJoinedBytes) {
      return MongoError(4568, StrCat("Total size of documents in ", def_->coll, " matching pipeline's $lookup "
                                     "stage exceeds ", kMaxJoinedBytes, " bytes"));
    }
    out->doc = SetFieldToDocuments(doc, def_->as, joined);
    return true;
  }

 private:
  std::string Db() const { return def_->db.empty() ? ctx_->db : def_->db; }

  // Chooses how to read the foreign side, once.
  absl::Status Start() {
    if (def_->coll.empty()) return absl::OkStatus();
    if (ctx_->data == nullptr) return MongoError(kInternalError, "$lookup needs collection access");
    auto view = ctx_->data->ResolveView(Db(), def_->coll);
    if (!view.ok()) return view.status();
    view_ = view->has_value();
    if (def_->pipeline != nullptr || view_ || def_->local.empty()) return absl::OkStatus();
    // An index on the foreign field serves the join; without one the foreign side is read
    // once into memory.
    auto reader = ctx_->data->OpenEqualityReader(Db(), def_->coll, def_->foreign_dotted, ctx_->collator_ptr());
    if (!reader.ok()) return reader.status();
    reader_ = *std::move(reader);
    ReadRequest probe{Db(), def_->coll, nullptr};
    auto sample = query::Matcher::Parse(EqualityFilter(def_->foreign_dotted, {Value(1)}), nullptr, ctx_->collator);
    if (!sample.ok()) return sample.status();
    probe.filter = std::shared_ptr<const query::Matcher>(*std::move(sample));
    if (reader_ != nullptr || ctx_->data->CanUseIndex(probe)) return absl::OkStatus();
    auto hash = HashIndex::Build(ctx_, ReadRequest{Db(), def_->coll, nullptr}, def_->foreign);
    if (hash.ok()) {
      hash_ = *std::move(hash);
    } else if (MongoCodeOf(hash.status()) != kQueryExceededMemoryLimitNoDiskUseAllowed) {
      return hash.status();
    }
    return absl::OkStatus();
  }

  // The index's documents for `values`, remembered for the rest of the query: join keys
  // repeat (many orders per customer), and each probe costs an index seek and a record read.
  absl::StatusOr<const std::vector<std::string>*> Probe(const std::vector<Value>& values) {
    std::string key;
    for (const Value& v : values) key.append(ValueKey(v, nullptr));
    auto it = cache_.find(key);
    if (it != cache_.end()) return &it->second;
    std::vector<std::string> docs;
    if (auto s = reader_->Find(values, &docs); !s.ok()) return s;
    size_t bytes = key.size() + 64;
    for (const std::string& d : docs) bytes += d.size() + 32;
    if (cache_bytes_ + bytes > kMaxCacheBytes) {
      cache_.clear();
      cache_bytes_ = 0;
    }
    cache_bytes_ += bytes;
    return &(cache_[std::move(key)] = std::move(docs));
  }

  absl::StatusOr<std::shared_ptr<const query::Matcher>> EqualityMatcher(const std::vector<Value>& values) {
    auto m = query::Matcher::Parse(EqualityFilter(def_->foreign_dotted, values), nullptr, ctx_->collator);
    if (!m.ok()) return m.status();
    return std::shared_ptr<const query::Matcher>(*std::move(m));
  }

  absl::StatusOr<bool> ReadMatching(const std::vector<Value>& values, std::vector<std::string>* out) {
    auto m = EqualityMatcher(values);
    if (!m.ok()) return m.status();
    auto source = ctx_->data->Read(ReadRequest{Db(), def_->coll, *std::move(m)}, nullptr);
    if (!source.ok()) return source.status();
    auto docs = Drain(source->get());
    if (!docs.ok()) return docs.status();
    *out = *std::move(docs);
    return true;
  }

  absl::Status RunPipeline(const Row& row, const std::vector<Value>& values, std::vector<std::string>* out) {
    // The sub-pipeline sees the command's variables and this document's `let`.
    child_ = *ctx_;
    if (!def_->let.empty()) {
      child_let_ = ctx_->let != nullptr ? *ctx_->let : VariableMap();
      bson::DocView doc = row.view();
      Variables vars = ctx_->VariablesFor(row, &doc);
      for (const auto& [name, expr] : def_->let) {
        auto v = expr->Evaluate(vars);
        if (!v.ok()) return v.status();
        child_let_[name] = *v ? **std::move(v) : Value(nullptr);
      }
      child_.let = &child_let_;
    }
    std::shared_ptr<const query::Matcher> prefilter;
    if (!def_->local.empty()) {
      auto m = EqualityMatcher(values);
      if (!m.ok()) return m.status();
      prefilter = *std::move(m);
    }
    static const Pipeline* const kEmpty = new Pipeline(*Pipeline::Parse({}, ParseOptions{}));
    const Pipeline& p = def_->pipeline != nullptr ? *def_->pipeline : *kEmpty;
    absl::StatusOr<StagePtr> top =
        def_->coll.empty() ? p.Open(nullptr, &child_) : p.OpenOnCollection(Db(), def_->coll, &child_, nullptr, prefilter);
    if (!top.ok()) return top.status();
    auto docs = Drain(top->get());
    if (!docs.ok()) return docs.status();
    *out = *std::move(docs);
    return absl::OkStatus();
  }

  StagePtr input_;
  const LookupDef* def_;
  ExecContext* ctx_;
  ExecContext child_;
  VariableMap child_let_;
  bool started_ = false;
  bool view_ = false;
  std::unique_ptr<HashIndex> hash_;
  std::unique_ptr<EqualityReader> reader_;
  static constexpr size_t kMaxCacheBytes = 16 << 20;
  absl::flat_hash_map<std::string, std::vector<std::string>> cache_;
  size_t cache_bytes_ = 0;
  std::string key_;
};

using LookupSpec = DefSpec<LookupStage, LookupDef>;

absl::Status FieldPathOption(std::string_view option, const Value& v, std::vector<std::string>* parts,
                             std::string* dotted) {
  if (v.type() != BsonType::kString) {
    return MongoError(kFailedToParse, StrCat("$lookup argument '", option, "' must be a string, is type ",
                                             BsonTypeName(v.type())));
  }
  if (auto s = ValidateOutputField("$lookup", v.AsString(), kFailedToParse); !s.ok()) return s;
  *parts = SplitDotted(v.AsString());
  if (dotted != nullptr) *dotted = v.AsString();
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseLookup(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) {
    return MongoError(kFailedToParse, StrCat("the $lookup stage specification must be an object, but found ",
                                             BsonTypeName(arg.type())));
  }
  LookupDef def;
  const Value* pipeline = nullptr;
  const Value* let = nullptr;
  bool have_local = false, have_foreign = false, have_as = false, have_from = false;
  for (const auto& [k, v] : arg.AsDocument()) {
    if (k == "from") {
      have_from = true;
      if (v.type() == BsonType::kString) {
        def.coll = v.AsString();
      } else if (v.type() == BsonType::kDocument) {
        const Value* db = v.AsDocument().Find("db");
        const Value* coll = v.AsDocument().Find("coll");
        if (db == nullptr || coll == nullptr || db->type() != BsonType::kString ||
            coll->type() != BsonType::kString || v.AsDocument().size() != 2) {
          return MongoError(kFailedToParse, "$lookup 'from' must be a collection name or {db: <string>, coll: <string>}");
        }
        def.db = db->AsString();
        def.coll = coll->AsString();
      } else {
        return MongoError(kFailedToParse, StrCat("$lookup 'from' field must be a string or an object, but found ",
                                                 BsonTypeName(v.type())));
      }
      if (def.coll.empty()) return MongoError(kInvalidNamespace, "$lookup 'from' must name a collection");
    } else if (k == "localField") {
      if (auto s = FieldPathOption(k, v, &def.local, nullptr); !s.ok()) return s;
      have_local = true;
    } else if (k == "foreignField") {
      if (auto s = FieldPathOption(k, v, &def.foreign, &def.foreign_dotted); !s.ok()) return s;
      have_foreign = true;
    } else if (k == "as") {
      std::string dotted;
      if (auto s = FieldPathOption(k, v, &def.as, &dotted); !s.ok()) return s;
      have_as = true;
    } else if (k == "let") {
      if (v.type() != BsonType::kDocument) {
        return MongoError(kFailedToParse, StrCat("$lookup argument 'let' must be an object, is type ",
                                                 BsonTypeName(v.type())));
      }
      let = &v;
    } else if (k == "pipeline") {
      if (v.type() != BsonType::kArray) {
        return MongoError(kFailedToParse, StrCat("$lookup argument 'pipeline' must be an array, is type ",
                                                 BsonTypeName(v.type())));
      }
      pipeline = &v;
    } else {
      return MongoError(kFailedToParse, StrCat("unknown argument to $lookup: ", k));
    }
  }
  if (!have_as) return MongoError(kFailedToParse, "must specify 'as' field for a $lookup");
  if (have_local != have_foreign) {
    return MongoError(kFailedToParse, "$lookup requires both or neither of 'localField' and 'foreignField' to be specified");
  }
  if (!have_local && pipeline == nullptr) {
    return MongoError(kFailedToParse, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be "
                                      "specified");
  }
  if (let != nullptr && pipeline == nullptr) {
    return MongoError(kFailedToParse, "$lookup with 'let' must also specify 'pipeline'");
  }
  ParseContext context = options.ExpressionContext();
  ParseOptions sub = options;
  sub.kind = PipelineKind::kLookup;
  sub.depth = options.depth + 1;
  if (let != nullptr) {
    if (auto s = ParseLetVariables(let->AsDocument(), context, &def.let, &sub.scope); !s.ok()) return s;
  }
  if (pipeline != nullptr) {
    auto p = Pipeline::ParseArray(*pipeline, sub, "$lookup's pipeline");
    if (!p.ok()) return p.status();
    if (!have_from && !p->StartsWithSource()) {
      return MongoError(kFailedToParse, "must specify 'from' field for a $lookup");
    }
    if (have_from && p->StartsWithSource() && p->stages()[0]->name() == "$documents") {
      return MongoError(kFailedToParse, "$lookup with a $documents pipeline cannot also specify 'from'");
    }
    if (!have_from && have_local) {
      return MongoError(kFailedToParse, "$lookup with localField/foreignField must specify 'from'");
    }
    def.pipeline = std::make_shared<const Pipeline>(*std::move(p));
  } else if (!have_from) {
    return MongoError(kFailedToParse, "must specify 'from' field for a $lookup");
  }
  Emit(out, "$lookup", arg, std::make_shared<LookupSpec>(std::move(def)));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
