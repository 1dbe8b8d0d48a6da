#pragma once

// The updateDescription of an update change event, computed from the document before and
// after the update the way MongoDB diffs documents for its oplog (doc_diff): a field whose
// value changed is updated with its new value, except that two documents are compared
// field by field and two arrays element by element; a field gone is removed; an array that
// became shorter is truncated (and its surviving elements compared).

#include <string>
#include <vector>

#include "document/bson_view.h"

namespace micromongo::changes {

// {updatedFields: {<dotted path>: <new value>}, removedFields: [<path>],
//  truncatedArrays: [{field, newSize}]} as BSON; with `disambiguate` also
// disambiguatedPaths: {<path>: [<components>]} for each path with a numeric component
// (array indices as integers, field names as strings), as MongoDB shows with
// showExpandedEvents.
//
// `whole`: for updates by operators, the paths MongoDB logs as a whole (an operator's
// target: its new value, not what changed inside it), and whether elements appended to a
// non-empty array there are logged one by one ($push, $addToSet). Paths elsewhere are
// compared inside, as for pipelines and positional operators.
struct WholePath {
  std::string path;
  bool appends = false;
};
std::string UpdateDescription(bson::DocView before, bson::DocView after, bool disambiguate,
                              const std::vector<WholePath>& whole = {});

}  // namespace micromongo::changes
