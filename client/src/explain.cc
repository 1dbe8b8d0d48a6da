// Explainer: an operation's request wrapped in DataService.Explain.

#include "client_core.h"
#include "requests.h"

namespace micromongo {
namespace {

const char* VerbosityName(ExplainVerbosity v) {
  switch (v) {
    case ExplainVerbosity::kQueryPlanner: return "queryPlanner";
    case ExplainVerbosity::kExecutionStats: return "executionStats";
    case ExplainVerbosity::kAllPlansExecution: return "allPlansExecution";
  }
  return "queryPlanner";
}

Document Send(internal::ClientCore* core, ExplainVerbosity verbosity, v1::ExplainRequest* request) {
  std::shared_ptr<WorkerBridge> keep;
  auto& rpc = core->Rpc(&keep);
  request->set_verbosity(VerbosityName(verbosity));
  v1::ExplainReply reply;
  rpc.Unary(&v1::DataService::Stub::AsyncExplain, *request, &reply);
  return internal::FromDoc(reply.explain());
}

}  // namespace

Document Explainer::Find(const Document& filter, const FindOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_find() = internal::FindRequestOf(db_, name_, filter, options);
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::Aggregate(const std::vector<Document>& pipeline, const AggregateOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_aggregate() = internal::AggregateRequestOf(db_, name_, pipeline, options);
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::CountDocuments(const Document& filter, const CountOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_count() = internal::CountRequestOf(db_, name_, filter, options);
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::Distinct(std::string_view key, const Document& filter, const DistinctOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_distinct() = internal::DistinctRequestOf(db_, name_, key, filter, options);
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::UpdateOne(const Document& filter, const Document& update, const UpdateOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_update() = internal::UpdateRequestOf(db_, name_, filter, &update, nullptr, false, false, options);
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::UpdateMany(const Document& filter, const Document& update, const UpdateOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_update() = internal::UpdateRequestOf(db_, name_, filter, &update, nullptr, true, false, options);
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::DeleteOne(const Document& filter, const DeleteOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_delete_() = internal::DeleteRequestOf(db_, name_, filter, false, options);
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::DeleteMany(const Document& filter, const DeleteOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_delete_() = internal::DeleteRequestOf(db_, name_, filter, true, options);
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::FindOneAndUpdate(const Document& filter, const Document& update,
                                     const FindOneAndUpdateOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_find_and_modify() =
      internal::FindAndModifyRequestOf(db_, name_, filter, internal::UpdateArgs(&update, nullptr, options));
  return Send(core_.get(), verbosity_, &request);
}

Document Explainer::FindOneAndDelete(const Document& filter, const FindOneAndDeleteOptions& options) const {
  v1::ExplainRequest request;
  *request.mutable_find_and_modify() =
      internal::FindAndModifyRequestOf(db_, name_, filter, internal::DeleteArgs(options));
  return Send(core_.get(), verbosity_, &request);
}

}  // namespace micromongo
