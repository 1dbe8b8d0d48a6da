// AdminService/RunCommand: MongoDB's runCommand over gRPC. The command runs through the
// MongoDB wire protocol's command runner, so that every command has one implementation
// whichever protocol brings it.

#include "document/builder.h"
#include "document/status.h"
#include "service/grpc_status.h"
#include "service/proto_docs.h"
#include "service/services.h"
#include "wire/command.h"
#include "wire/command_runner.h"

namespace micromongo::service {
namespace {

// The fields of an error reply that ErrorInfo has places of its own.
bool OwnField(std::string_view key) {
  return key == "ok" || key == "errmsg" || key == "code" || key == "codeName" || key == "errorLabels";
}

}  // namespace

grpc::Status AdminServiceImpl::RunCommand(grpc::ServerContext* context, const v1::RunCommandRequest* req,
                                          v1::RunCommandReply* reply) {
  if (commands_ == nullptr) return ToGrpc(MongoError(kCommandNotFound, "this server runs no commands"));
  MM_ASSIGN_OR_RETURN_GRPC(command_bson, DocToBson(req->command()));
  bson::DocView given(command_bson);
  if (given.empty()) return ToGrpc(MongoError(kFailedToParse, "the command document is empty"));
  if (req->database().empty()) return ToGrpc(MongoError(kInvalidNamespace, "a command needs a database"));
  // The wire protocol's OP_MSG names the database in "$db": the request's field sets it.
  bson::Builder body;
  for (const bson::ElementView& e : given) {
    if (e.key != "$db") body.AppendView(e.key, e.value);
  }
  body.AppendString("$db", req->database());
  std::string body_bson = std::move(body).Finish();
  wire::Command command(bson::DocView(body_bson), nullptr);
  // A call is a connection of its own: gRPC authenticated it already (its token), and no
  // state (a SASL conversation) carries from one call to the next.
  wire::ConnectionInfo connection;
  connection.peer = context != nullptr ? context->peer() : "";
  std::string out = commands_->Run(command, &connection);
  bson::DocView result(out);
  bson::ValueView ok;
  if (result.Find("ok", &ok) && ok.IsNumber() && ok.AsDouble() == 1) {
    SetDoc(reply->mutable_reply(), std::move(out), req->json());
    return grpc::Status::OK;
  }
  int code = kInternalError;
  std::string message;
  std::vector<std::string> labels;
  bson::Builder details;
  for (const bson::ElementView& e : result) {
    if (e.key == "code" && e.value.IsNumber()) code = static_cast<int>(e.value.AsDouble());
    if (e.key == "errmsg" && e.value.type == BsonType::kString) message = std::string(e.value.String());
    if (e.key == "errorLabels" && e.value.type == BsonType::kArray) {
      for (const bson::ElementView& label : e.value.Doc()) {
        if (label.value.type == BsonType::kString) labels.emplace_back(label.value.String());
      }
    }
    if (!OwnField(e.key)) details.AppendView(e.key, e.value);
  }
  std::string details_bson = std::move(details).Finish();
  absl::Status status = bson::DocView(details_bson).empty() ? MongoError(code, message)
                                                             : MongoError(code, message, std::move(details_bson));
  return labels.empty() ? ToGrpc(status) : ToGrpc(status, labels);
}

}  // namespace micromongo::service
