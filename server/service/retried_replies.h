#pragma once

// The reply of a retryable write whose reply was lost (the worker restarted between its
// commit and the reply's record), rebuilt from what its commits changed, as MongoDB
// rebuilds such replies from its oplog. Only a request whose reply those counts determine
// gets one: a single-document update or delete, an insert whose documents (each with an
// _id) were all inserted, a findAndModify whose commit kept the document it returned.
// Every other request's retry is resumed when its record says what each statement did
// (Statement::ResumeRetriedWrite), else refused with 217 (IncompleteHistory): it is never
// run twice.

#include "micromongo/v1/micromongo.pb.h"
#include "storage/retry_history.h"

namespace micromongo::service {

// Each fills `reply` and returns true when `outcome` determines the reply to `request`.
bool RetriedReply(const storage::RetryOutcome& outcome, const v1::InsertRequest& request, v1::InsertReply* reply);
bool RetriedReply(const storage::RetryOutcome& outcome, const v1::UpdateRequest& request, v1::UpdateReply* reply);
bool RetriedReply(const storage::RetryOutcome& outcome, const v1::DeleteRequest& request, v1::DeleteReply* reply);
// findAndModify: when its commit kept the document it returned (RetryScope::NoteImage).
bool RetriedReply(const storage::RetryOutcome& outcome, const v1::FindAndModifyRequest& request,
                  v1::FindAndModifyReply* reply);

// The counts of one single-document update statement: n, nModified and the upserted _id
// ({_id: value}, empty if none), as the wire protocol reports them; false when `outcome`
// is not one such statement's.
struct RetriedUpdate {
  int64_t n = 0;
  int64_t modified = 0;
  std::string upserted_id;
};
bool RetriedUpdateCounts(const storage::RetryOutcome& outcome, RetriedUpdate* counts);

}  // namespace micromongo::service
