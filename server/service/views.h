#pragma once

// Views: a view's reads run its pipeline over the collection it is defined on.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "micromongo/document.h"
#include "storage/engine.h"

namespace micromongo::service {

// A view resolved to the collection it reads and the pipeline that computes it (the
// definitions of views over views concatenated).
struct ResolvedView {
  std::string collection;
  std::vector<Document> stages;
};
// Error 93 (GraphContainsCycle) if making `view` a view on `view_on` would close a cycle
// of views.
absl::Status CheckViewCycle(storage::Engine* engine, std::string_view db, std::string_view view,
                            std::string_view view_on);

// nullopt unless db.coll is a view. Errors: invalid names (73).
absl::StatusOr<std::optional<ResolvedView>> ResolveView(storage::Engine* engine,
                                                        std::string_view db,
                                                        std::string_view coll);

}  // namespace micromongo::service
