#include "service/aggregation.h"

#include <chrono>

#include "document/builder.h"
#include "document/status.h"
#include "pipeline/pipeline.h"
#include "service/pipeline_cursor.h"
#include "storage/namespace.h"
#include "storage/transaction.h"

namespace micromongo::service {
namespace {

// {"": <hint>} as pipeline::ReadRequest carries it (empty: none).
std::string HintBson(const QueryHint& h) {
  if (h.empty()) return "";
  Document hint;
  if (h.natural != 0) {
    hint.Append("", Document{{"$natural", h.natural}});
  } else if (!h.index_name.empty()) {
    hint.Append("", h.index_name);
  } else {
    hint.Append("", bson::Decode(bson::DocView(h.key_pattern)));
  }
  return bson::Encode(hint);
}

struct Prepared {
  std::shared_ptr<const pipeline::Pipeline> pipeline;
  ExecOptions options;
};

absl::Status TextScoreUnavailable() {
  return MongoError(40218, "query requires text score metadata, but it is not available");
}

// Whether a $match filter (as given) has $text, at the top or under a logical operator.
bool HasText(const Document& filter) {
  for (const auto& [key, value] : filter) {
    if (key == "$text") return true;
    if ((key == "$and" || key == "$or") && value.type() == BsonType::kArray) {
      for (const Value& c : value.AsArray()) {
        if (c.type() == BsonType::kDocument && HasText(c.AsDocument())) return true;
      }
    }
  }
  return false;
}

absl::StatusOr<Prepared> Prepare(const AggregateCommand& c) {
  {
    // {$meta: "textScore"} needs a first stage that $matches $text.
    bool text_first = !c.pipeline.empty() && c.pipeline[0].size() == 1 && c.pipeline[0].begin()->first == "$match" &&
                      c.pipeline[0].begin()->second.type() == BsonType::kDocument &&
                      HasText(c.pipeline[0].begin()->second.AsDocument());
    if (!text_first) {
      for (const Document& stage : c.pipeline) {
        if (ReadsTextScore(Value(stage))) return TextScoreUnavailable();
      }
    }
  }
  if (c.collection.empty()) {
    if (auto s = storage::ValidateDatabaseName(c.db); !s.ok()) return s;
  } else if (auto s = storage::ValidateCollectionName(c.db, c.collection); !s.ok()) {
    return s;
  }
  Prepared p;
  p.options.db = c.db;
  if (c.let) {
    auto vars = pipeline::EvaluateLet(*c.let);
    if (!vars.ok()) return vars.status();
    p.options.let = *std::move(vars);
  }
  p.options.collator = c.collator;
  p.options.deadline = c.deadline;
  p.options.allow_disk_use = c.allow_disk_use;
  p.options.bypass_validation = c.bypass_validation;
  p.options.read_hint = HintBson(c.hint);
  pipeline::ParseOptions parse;
  parse.let = p.options.let ? &*p.options.let : nullptr;
  parse.collator = c.collator;
  // A snapshot read outside a transaction binds a read-only view: no transaction rules.
  const storage::Transaction* txn = storage::BoundTransaction();
  parse.in_transaction = txn != nullptr && !txn->read_only_view();
  auto parsed = pipeline::Pipeline::Parse(c.pipeline, parse);
  if (!parsed.ok()) return parsed.status();
  if (c.collection.empty() && !parsed->StartsWithSource()) {
    return MongoError(kInvalidNamespace, "a database-level aggregation must start with $documents; other stages "
                                         "need a collection");
  }
  p.pipeline = std::make_shared<const pipeline::Pipeline>(*std::move(parsed));
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cursor>> OpenAggregate(storage::Engine* engine, const AggregateCommand& command) {
  auto prepared = Prepare(command);
  if (!prepared.ok()) return prepared.status();
  bool writes = prepared->pipeline->EndsWithWriter();
  auto cursor = std::make_unique<PipelineCursor>(engine, prepared->pipeline, std::move(prepared->options));
  if (auto s = cursor->Start(command.collection); !s.ok()) return s;
  if (writes) {
    // $out and $merge run now; their cursor has nothing to return.
    std::vector<std::string> none;
    while (!cursor->exhausted()) {
      if (auto s = cursor->NextBatch(0, SIZE_MAX, &none); !s.ok()) return s;
    }
  }
  return std::unique_ptr<Cursor>(std::move(cursor));
}

absl::StatusOr<Document> ExplainAggregate(storage::Engine* engine, const AggregateCommand& command,
                                          bool execution_stats) {
  auto prepared = Prepare(command);
  if (!prepared.ok()) return prepared.status();
  std::shared_ptr<const pipeline::Pipeline> p = prepared->pipeline;
  prepared->options.explain = true;
  if (execution_stats && p->EndsWithWriter()) {
    return MongoError(kBadValue, "explain with executionStats cannot run a pipeline that writes ($out, $merge)");
  }
  PipelineCursor cursor(engine, p, std::move(prepared->options));
  pipeline::ReadPlan plan;
  Array stages;
  std::vector<Document> explained = p->Explain();
  size_t first = 0;
  if (!command.collection.empty() && !p->StartsWithSource()) {
    if (auto s = cursor.Start(command.collection, &plan); !s.ok()) return s;
    Document winning = plan.winning_plan ? plan.winning_plan() : Document{};
    Document planner{{"namespace", StrCat(command.db, ".", command.collection)}};
    // A leading $match is the read's filter.
    if (!p->empty() && p->stages()[0]->IsMatch()) {
      planner.Append("parsedQuery", explained[0].begin()->second);
      first = 1;
    } else {
      planner.Append("parsedQuery", Document());
    }
    planner.Append("winningPlan", winning);
    std::vector<Document> rejected_docs = plan.rejected_plans ? plan.rejected_plans() : std::vector<Document>{};
    Array rejected(rejected_docs.begin(), rejected_docs.end());
    planner.Append("rejectedPlans", rejected);
    Document cursor_stage{{"queryPlanner", planner}};
    if (execution_stats) {
      auto started = std::chrono::steady_clock::now();
      std::vector<std::string> out;
      int64_t returned = 0;
      while (!cursor.exhausted()) {
        out.clear();
        if (auto s = cursor.NextBatch(0, SIZE_MAX, &out); !s.ok()) return s;
        returned += static_cast<int64_t>(out.size());
      }
      auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      Document stats = plan.execution_stats ? plan.execution_stats() : Document();
      stats.Set("executionSuccess", true);
      stats.Set("executionTimeMillis", static_cast<int64_t>(millis.count()));
      stats.Set("nPipelineReturned", returned);
      cursor_stage.Append("executionStats", stats);
    }
    stages.push_back(Document{{"$cursor", cursor_stage}});
  }
  for (size_t i = first; i < explained.size(); ++i) stages.push_back(explained[i]);
  return Document{{"explainVersion", "1"}, {"stages", stages}, {"ok", 1.0}};
}

absl::StatusOr<std::vector<std::string>> AggregateAll(storage::Engine* engine, const AggregateCommand& command) {
  auto cursor = OpenAggregate(engine, command);
  if (!cursor.ok()) return cursor.status();
  std::vector<std::string> out;
  while (!(*cursor)->exhausted()) {
    if (auto s = (*cursor)->NextBatch(0, SIZE_MAX, &out); !s.ok()) return s;
  }
  return out;
}

bool ReadsTextScore(const Value& v) {
  if (v.type() == BsonType::kArray) {
    for (const Value& e : v.AsArray()) {
      if (ReadsTextScore(e)) return true;
    }
    return false;
  }
  if (v.type() != BsonType::kDocument) return false;
  const Document& d = v.AsDocument();
  const Value* meta = d.Find("$meta");
  if (meta != nullptr && meta->type() == BsonType::kString && meta->AsString() == "textScore") return true;
  for (const auto& [key, value] : d) {
    if (ReadsTextScore(value)) return true;
  }
  return false;
}

namespace {

// Whether a plain inclusion projection (`read.projection_fields`) returns the documents of
// a covered `plan` as they are: it includes each of their fields (or a path above it).
// Covered documents hold only their index's key fields, so a projection of exactly those,
// the usual covered query, would copy every document unchanged.
bool KeepsEveryField(const pipeline::ReadRequest& read, const pipeline::ReadPlan& plan) {
  if (!plan.covered || plan.covered_fields.empty() || !read.projection_fields.has_value()) return false;
  for (const std::string& field : plan.covered_fields) {
    bool included = false;
    for (const std::string& p : *read.projection_fields) {
      if (field == p || (field.size() > p.size() && field.compare(0, p.size(), p) == 0 && field[p.size()] == '.')) {
        included = true;
        break;
      }
    }
    if (!included) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cursor>> OpenFind(storage::Engine* engine, const FindCommand& command) {
  if (!command.filter->contains_text() &&
      (command.projection_reads_text_score || (command.sort && ReadsTextScore(Value(*command.sort))))) {
    return TextScoreUnavailable();
  }
  ExecOptions options;
  options.db = command.db;
  if (command.filter->let() != nullptr) options.let = *command.filter->let();
  options.collator = command.filter->shared_collator();
  options.deadline = command.deadline;
  options.allow_disk_use = command.allow_disk_use;
  auto cursor = std::make_unique<PipelineCursor>(engine, nullptr, std::move(options));

  bool sorted = command.sort && !command.sort->empty();
  // {$natural: ±1} sorts by the collection scan's direction (the planner's to give).
  bool natural_sort = sorted && command.sort->size() == 1 && command.sort->begin()->first == "$natural";
  if (sorted && !natural_sort) {
    // A bad sort pattern fails the find whatever the plan.
    pipeline::ParseOptions check;
    check.collator = command.filter->shared_collator();
    auto checked = pipeline::Pipeline::Parse({Document{{"$sort", *command.sort}}}, check);
    if (!checked.ok()) return checked.status();
  }
  pipeline::ReadRequest read{command.db, command.collection, command.filter};
  if (sorted) read.sort = bson::Encode(*command.sort);
  if (command.projection != nullptr) {
    bool includes_id = true;
    read.projection_fields = command.projection->PlainInclusion(&includes_id);
    read.projection_includes_id = includes_id;
  }
  read.hint = HintBson(command.hint);
  read.min = command.min;
  read.max = command.max;
  read.index_key_meta = command.return_key;
  read.record_id_meta = command.show_record_id;
  if (command.limit > 0 && command.skip <= INT64_MAX - command.limit) {
    read.results_target = std::min<int64_t>(101, command.skip + command.limit);
  }
  pipeline::ReadPlan plan;
  auto source = cursor->data()->Read(read, &plan);
  if (!source.ok()) return source.status();

  // The sort the plan does not give is a blocking stage (top-k when limited).
  std::vector<Document> stages;
  if (sorted && !plan.provides_sort) stages.push_back(Document{{"$sort", *command.sort}});
  if (command.skip > 0) stages.push_back(Document{{"$skip", command.skip}});
  if (command.limit > 0) stages.push_back(Document{{"$limit", command.limit}});
  pipeline::ParseOptions parse;
  parse.collator = command.filter->shared_collator();
  auto parsed = pipeline::Pipeline::Parse(stages, parse);
  if (!parsed.ok()) return parsed.status();
  cursor->set_pipeline(std::make_shared<const pipeline::Pipeline>(*std::move(parsed)));
  if (auto s = cursor->StartOn(*std::move(source)); !s.ok()) return s;
  if (command.return_key || command.show_record_id) {
    // returnKey replaces the document (and its projection) with the key it was found by;
    // showRecordId appends $recordId to whatever is returned.
    cursor->set_transform([command](std::string doc, const pipeline::DocumentMeta* meta) -> absl::StatusOr<std::string> {
      if (command.return_key) {
        doc = meta != nullptr && meta->index_key ? bson::Encode(meta->index_key->AsDocument()) : bson::Encode(Document());
      } else if (command.projection != nullptr) {
        query::Projection::ApplyContext context{command.filter.get(), command.filter->let(),
                                                command.filter->collator(), meta};
        auto projected = command.projection->Apply(bson::DocView(doc), context);
        if (!projected.ok()) return projected.status();
        doc = *std::move(projected);
      }
      if (command.show_record_id && meta != nullptr && meta->record_id) {
        bson::Builder out;  // the result's fields as they are, then $recordId
        for (const bson::ElementView& e : bson::DocView(doc)) out.AppendView(e.key, e.value);
        out.AppendValue("$recordId", *meta->record_id);
        doc = std::move(out).Finish();
      }
      return doc;
    });
  } else if (command.projection != nullptr && !KeepsEveryField(read, plan)) {
    cursor->set_transform([projection = command.projection, filter = command.filter](
                              std::string doc, const pipeline::DocumentMeta* meta) {
      query::Projection::ApplyContext context{filter.get(), filter->let(), filter->collator(), meta};
      return projection->Apply(bson::DocView(doc), context);
    });
  }
  return std::unique_ptr<Cursor>(std::move(cursor));
}

}  // namespace micromongo::service
