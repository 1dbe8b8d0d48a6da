#pragma once

// $jsonSchema: the JSON Schema draft 4 subset MongoDB supports (bsonType, type, required,
// properties, additionalProperties, patternProperties, minimum/maximum with exclusive
// forms, minLength/maxLength, pattern, enum, items, additionalItems, minItems/maxItems,
// uniqueItems, minProperties/maxProperties, allOf/anyOf/oneOf/not, title/description).

#include <memory>

#include "absl/status/statusor.h"
#include "query/match_expression.h"

namespace micromongo::query {

// Errors: 9 (FailedToParse) for unknown keywords and malformed values; 2 for keywords
// MongoDB does not support ("integer" types, $ref, format, ...). The schema references
// bytes of `schema`, which must outlive the expression.
absl::StatusOr<std::unique_ptr<MatchExpression>> ParseJsonSchema(bson::DocView schema);

}  // namespace micromongo::query
