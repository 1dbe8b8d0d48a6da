#pragma once

// A cursor over a running aggregation pipeline: it owns everything the stages point at
// (the parsed pipeline, the variables, the storage access) and pulls batches from the last
// stage, so that results stream and a GetMore resumes where the previous batch stopped.
// Finds run the same way (their sort, skip and limit are pipeline stages).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/pipeline.h"
#include "service/cursor.h"
#include "service/pipeline_access.h"
#include "storage/engine.h"

namespace micromongo::service {

// Limits of blocking stages for every query of the process (set once at startup from
// --setParameter).
struct QueryLimits {
  int64_t blocking_sort_bytes = pipeline::kDefaultBlockingMemoryLimit;
  int64_t group_bytes = pipeline::kDefaultBlockingMemoryLimit;
};
QueryLimits& GlobalQueryLimits();

struct ExecOptions {
  std::string db;
  std::optional<pipeline::VariableMap> let;
  std::shared_ptr<const bson::Collator> collator;
  Deadline deadline;
  bool allow_disk_use = false;
  bool bypass_validation = false;
  std::string read_hint;  // see pipeline::ExecContext::read_hint
  bool explain = false;
};

class PipelineCursor final : public Cursor {
 public:
  PipelineCursor(storage::Engine* engine, std::shared_ptr<const pipeline::Pipeline> pipeline, ExecOptions options);

  // Starts the pipeline over db.coll (a collection or view; empty for a database-level
  // aggregation, whose first stage makes the documents). `plan` says how it reads.
  absl::Status Start(std::string_view coll, pipeline::ReadPlan* plan = nullptr);
  // Replaces the pipeline before it starts (a find's stages depend on its plan).
  void set_pipeline(std::shared_ptr<const pipeline::Pipeline> p) { pipeline_ = std::move(p); }
  // Starts it over `source` (made with data()).
  absl::Status StartOn(pipeline::StagePtr source);

  EngineDataAccess* data() { return &data_; }
  const pipeline::ExecContext& context() const { return ctx_; }
  // Applied to every result document with its metadata, if any (find's projection,
  // returnKey and showRecordId).
  using Transform = std::function<absl::StatusOr<std::string>(std::string, const pipeline::DocumentMeta*)>;
  void set_transform(Transform f) { transform_ = std::move(f); }

  absl::Status NextBatch(size_t max_docs, size_t max_bytes, std::vector<std::string>* out) override;
  bool exhausted() const override { return exhausted_; }
  void set_deadline(const Deadline& deadline) override { ctx_.deadline = deadline; }

 private:
  absl::StatusOr<bool> Pull(pipeline::Row* row);

  std::shared_ptr<const pipeline::Pipeline> pipeline_;
  ExecOptions options_;
  pipeline::ExecContext ctx_;
  EngineDataAccess data_;
  pipeline::StagePtr top_;
  Transform transform_;
  std::optional<pipeline::Row> pending_;  // one row of lookahead
  bool exhausted_ = false;
};

}  // namespace micromongo::service
