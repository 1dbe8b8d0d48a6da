#pragma once

// What the aggregation pipeline needs from storage: a collection as its source, running
// the stages, and the writes of a final $out or $merge.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/stages.h"
#include "service/crud.h"
#include "service/deadline.h"
#include "storage/engine.h"

namespace micromongo::service {

// The documents of a collection, for an aggregation pipeline's source (empty if the
// collection does not exist).
absl::StatusOr<std::unique_ptr<pipeline::Stage>> CollectionScan(storage::Engine* engine,
                                                                std::string_view db,
                                                                std::string_view coll,
                                                                const Deadline& deadline);

// Runs `stages` over `source` to the end and returns the result documents; a final
// $out/$merge is described in *output (not performed).
absl::StatusOr<std::vector<std::string>> RunPipeline(
    std::unique_ptr<pipeline::Stage> source, const std::vector<Document>& stages,
    const pipeline::VariableMap* let, std::shared_ptr<const bson::Collator> collator,
    std::optional<pipeline::OutputSpec>* output);

// Writes a pipeline's results as its final $out or $merge stage asks.
absl::Status WriteOutput(storage::Engine* engine, std::string_view db,
                         const pipeline::OutputSpec& spec, std::vector<std::string> docs,
                         const WriteOptions& options = {});

}  // namespace micromongo::service
