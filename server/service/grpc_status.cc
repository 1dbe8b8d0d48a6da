#include "service/grpc_status.h"

#include "document/status.h"
#include "service/error_labels.h"
#include "service/proto_docs.h"

namespace micromongo::service {

grpc::Status ToGrpc(const absl::Status& status, const std::vector<std::string>& labels) {
  if (status.ok()) return grpc::Status::OK;
  v1::ErrorInfo info;
  FillErrorInfo(status, 0, &info);
  // Without a session's context, the labels that depend on the code alone
  // (NonResumableChangeStreamError).
  for (const std::string& label : labels.empty() ? ServerLabels(info.code(), 0, LabelContext{}) : labels) {
    info.add_error_labels(label);
  }
  std::string message = StrCat("[", info.code(), " ", info.code_name(), "] ", info.message());
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      info.SerializeAsString());
}

}  // namespace micromongo::service
