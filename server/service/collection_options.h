#pragma once

// The options of create and collMod (validators, views) checked and turned into the BSON
// the catalog stores (storage::Collection::options).

#include <string>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "micromongo/v1/micromongo.pb.h"

namespace micromongo::service {

// `current`: the existing options for collMod (null for create). Errors: 2 (BadValue) for
// unknown levels/actions and malformed validators or view pipelines, 72 (InvalidOptions)
// for mixing view and validator options or turning a collection into a view, 167
// (OptionNotSupportedOnView) for $out/$merge in a view pipeline.
absl::StatusOr<std::string> BuildCollectionOptions(std::string_view db,
                                                   const v1::CollectionOptions& requested,
                                                   const bson::DocView* current);

}  // namespace micromongo::service
