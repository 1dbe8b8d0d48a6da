#pragma once

// The updateDescription of an update change event, computed from the document before and
// after the update the way MongoDB diffs documents for its oplog (doc_diff): a field whose
// value changed is updated with its new value, except that two documents are compared
// field by field and two arrays element by element; a field gone is removed; an array that
// became shorter is truncated (and its surviving elements compared).

#include <string>

#include "document/bson_view.h"

namespace micromongo::changes {

// {updatedFields: {<dotted path>: <new value>}, removedFields: [<path>],
//  truncatedArrays: [{field, newSize}]} as BSON; with `disambiguate` also
// disambiguatedPaths: {<path>: [<components>]} for each path with a numeric component
// (array indices as integers, field names as strings), as MongoDB shows with
// showExpandedEvents.
std::string UpdateDescription(bson::DocView before, bson::DocView after, bool disambiguate);

}  // namespace micromongo::changes
