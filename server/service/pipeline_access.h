#pragma once

// The aggregation pipeline's access to storage (pipeline::DataAccess over the engine):
// reads through find's access paths, view definitions, the writes of $out and $merge, and
// the statistics of $collStats and $indexStats. Also counts index use for $indexStats.

#include <memory>
#include <string>

#include "pipeline/context.h"
#include "storage/engine.h"
#include "util/deadline.h"

namespace micromongo::service {

class EngineDataAccess final : public pipeline::DataAccess {
 public:
  // `deadline` (the execution's, which a GetMore may replace) must outlive this object.
  EngineDataAccess(storage::Engine* engine, const Deadline* deadline) : engine_(engine), deadline_(deadline) {}

  absl::StatusOr<std::optional<pipeline::ViewDefinition>> ResolveView(std::string_view db,
                                                                      std::string_view coll) override;
  absl::StatusOr<pipeline::StagePtr> Read(const pipeline::ReadRequest& request, pipeline::ReadPlan* plan) override;
  bool CanUseIndex(const pipeline::ReadRequest& request) override;
  absl::StatusOr<std::unique_ptr<pipeline::EqualityReader>> OpenEqualityReader(
      std::string_view db, std::string_view coll, std::string_view field, const bson::Collator* collator) override;
  absl::StatusOr<std::unique_ptr<pipeline::OutWriter>> OpenOut(std::string_view db, std::string_view coll,
                                                               bool bypass_validation,
                                                               std::string_view timeseries) override;
  absl::Status Merge(const pipeline::MergeRequest& request, std::vector<std::string> docs) override;
  absl::StatusOr<Document> CollStats(std::string_view db, std::string_view coll, const Document& spec) override;
  absl::StatusOr<std::vector<Document>> IndexStats(std::string_view db, std::string_view coll) override;
  absl::StatusOr<std::string> GeoNearKey(std::string_view db, std::string_view coll) override;
  absl::StatusOr<std::vector<Document>> PlanCacheStats(std::string_view db, std::string_view coll) override;

 private:
  storage::Engine* engine_;
  const Deadline* deadline_;
};

// Where blocking stages spill under the engine's data directory; emptied at startup.
std::string SpillDirectory(const storage::Engine& engine);
void ClearSpillDirectory(const storage::Engine& engine);

// Counts a use of an index by a read ($indexStats' accesses.ops).
void RecordIndexUse(std::string_view db, std::string_view coll, std::string_view index);

}  // namespace micromongo::service
