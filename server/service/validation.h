#pragma once

// Document validation (MongoDB's collection validators): the rules a collection's options
// set ({validator, validationLevel, validationAction}) and the check every insert, update,
// replacement and upsert runs against them.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "query/matcher.h"

namespace micromongo::service {

class DocumentValidator {
 public:
  // The validator of a collection's options, parsed once per operation; null when there is
  // none or validationLevel is "off". Errors: those of the validator filter.
  static absl::StatusOr<std::unique_ptr<DocumentValidator>> FromOptions(bson::DocView options);

  // Checks a document about to be stored. `old_doc`: the stored document it replaces (null
  // for inserts); under "moderate" an update of a document that already fails is allowed.
  // Error: 121 (DocumentValidationFailure) with errInfo {failingDocumentId, details}, where
  // details lists the top-level clauses the document does not satisfy. With
  // validationAction "warn" violations are logged and accepted.
  absl::Status Check(bson::DocView doc, const bson::DocView* old_doc) const;
  // Whether a stored document satisfies the validator (validate's nNonCompliantDocuments;
  // logs nothing, whatever the validationAction).
  bool Conforms(bson::DocView doc) const;

 private:
  std::string validator_;
  std::unique_ptr<query::Matcher> matcher_;
  bool moderate_ = false;
  bool warn_ = false;
};

}  // namespace micromongo::service
