#include "service/reflection_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <unordered_set>

#include "grpc/reflection/v1alpha/reflection.pb.h"

namespace micromongo::service {
namespace {

namespace pb = google::protobuf;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

class Reflector {
 public:
  explicit Reflector(const std::vector<std::string>* services) : services_(services) {}

  void Answer(const ServerReflectionRequest& request, ServerReflectionResponse* response) {
    response->set_valid_host(request.host());
    *response->mutable_original_request() = request;
    const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
    switch (request.message_request_case()) {
      case ServerReflectionRequest::kFileByFilename:
        SendFile(pool->FindFileByName(request.file_by_filename()), "File not found.", response);
        break;
      case ServerReflectionRequest::kFileContainingSymbol:
        SendFile(pool->FindFileContainingSymbol(request.file_containing_symbol()), "Symbol not found.", response);
        break;
      case ServerReflectionRequest::kFileContainingExtension: {
        const pb::Descriptor* type = pool->FindMessageTypeByName(request.file_containing_extension().containing_type());
        const pb::FieldDescriptor* ext =
            type == nullptr ? nullptr
                            : pool->FindExtensionByNumber(type, request.file_containing_extension().extension_number());
        SendFile(ext == nullptr ? nullptr : ext->file(), "Extension not found.", response);
        break;
      }
      case ServerReflectionRequest::kAllExtensionNumbersOfType: {
        const pb::Descriptor* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
        if (type == nullptr) {
          Error(grpc::StatusCode::NOT_FOUND, "Type not found.", response);
          break;
        }
        std::vector<const pb::FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* numbers = response->mutable_all_extension_numbers_response();
        numbers->set_base_type_name(type->full_name());
        for (const pb::FieldDescriptor* e : extensions) numbers->add_extension_number(e->number());
        break;
      }
      case ServerReflectionRequest::kListServices:
        for (const std::string& name : *services_) {
          response->mutable_list_services_response()->add_service()->set_name(name);
        }
        break;
      default:
        Error(grpc::StatusCode::UNIMPLEMENTED, "The server does not support this request.", response);
        break;
    }
  }

 private:
  static void Error(grpc::StatusCode code, const char* message, ServerReflectionResponse* response) {
    response->mutable_error_response()->set_error_code(code);
    response->mutable_error_response()->set_error_message(message);
  }

  // `file` and every file it imports, those this stream has not sent yet.
  void SendFile(const pb::FileDescriptor* file, const char* not_found, ServerReflectionResponse* response) {
    if (file == nullptr) {
      Error(grpc::StatusCode::NOT_FOUND, not_found, response);
      return;
    }
    std::vector<const pb::FileDescriptor*> pending{file};
    while (!pending.empty()) {
      const pb::FileDescriptor* f = pending.back();
      pending.pop_back();
      if (!sent_.insert(f->name()).second) continue;
      pb::FileDescriptorProto proto;
      f->CopyTo(&proto);
      proto.SerializeToString(response->mutable_file_descriptor_response()->add_file_descriptor_proto());
      for (int i = 0; i < f->dependency_count(); ++i) pending.push_back(f->dependency(i));
    }
  }

  const std::vector<std::string>* services_;
  std::unordered_set<std::string> sent_;
};

}  // namespace

BidiHandler ReflectionHandler(std::vector<std::string> services) {
  return [services = std::move(services)](grpc::ServerContext*, BidiStream* stream) -> grpc::Status {
    Reflector reflector(&services);
    grpc::ByteBuffer in;
    while (stream->Read(&in)) {
      ServerReflectionRequest request;
      if (!grpc::SerializationTraits<ServerReflectionRequest>::Deserialize(&in, &request).ok()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "not a ServerReflectionRequest");
      }
      ServerReflectionResponse response;
      reflector.Answer(request, &response);
      grpc::ByteBuffer out;
      bool own = false;
      if (!grpc::SerializationTraits<ServerReflectionResponse>::Serialize(response, &out, &own).ok() ||
          !stream->Write(&out)) {
        break;
      }
    }
    return grpc::Status::OK;
  };
}

}  // namespace micromongo::service
