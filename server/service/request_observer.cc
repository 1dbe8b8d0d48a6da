#include "service/request_observer.h"

#include "service/slow_op_log.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>

#include "document/builder.h"
#include "document/json.h"
#include "micromongo/v1/micromongo.pb.h"
#include "service/proto_docs.h"
#include "util/log.h"
#include "util/op_debug.h"

namespace micromongo::service {
namespace {

// The Doc field `name` of `m`, or null.
const v1::Doc* DocField(const google::protobuf::Message& m, const char* name) {
  const google::protobuf::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
      f->is_repeated() || !m.GetReflection()->HasField(m, f)) {
    return nullptr;
  }
  return dynamic_cast<const v1::Doc*>(&m.GetReflection()->GetMessage(m, f));
}

// A filter as JSON for the slow-query log ("" if it has none or is not valid BSON).
std::string DocJson(const v1::Doc& doc) {
  if (doc.kind_case() == v1::Doc::kJson) return doc.json();
  if (doc.kind_case() == v1::Doc::kBson && bson::Validate(doc.bson()).ok()) {
    return bson::BsonToJson(doc.bson());
  }
  return "";
}

std::string StringField(const google::protobuf::Message& m, const char* name) {
  const google::protobuf::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING || f->is_repeated()) {
    return "";
  }
  return m.GetReflection()->GetString(m, f);
}

}  // namespace

RequestObservation::RequestObservation(std::string_view method, const google::protobuf::Message* request)
    : method_(method) {
  size_t slash = method_.rfind('/');
  name_ = slash == std::string_view::npos ? method_ : method_.substr(slash + 1);
  streaming_ = name_ == "Watch" || name_ == "Backup";
  op_->slow = SlowOpThreshold();
  auto& c = GlobalRequestCounters();
  c.in_flight.fetch_add(1, std::memory_order_relaxed);
  c.total.fetch_add(1, std::memory_order_relaxed);
  if (request == nullptr) return;
  request_ = request;
  Count(*request);
  SetCurrentOpDebug(op_);
}

RequestObservation::~RequestObservation() {
  if (!finished_) Finish(grpc::Status::OK);
  GlobalRequestCounters().in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void RequestObservation::Finish(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  op_->Finish();
  if (CurrentOpDebug() == op_.get()) SetCurrentOpDebug(nullptr);
  if (!streaming_ && op_->is_slow()) LogSlow(status);
}

void RequestObservation::Count(const google::protobuf::Message& request) {
  auto& c = GlobalRequestCounters();
  if (name_ == "Insert" && method_.find("DataService") != std::string_view::npos) {
    const auto& insert = static_cast<const v1::InsertRequest&>(request);
    c.insert.fetch_add(static_cast<int64_t>(insert.documents_size() + CountSequenceDocuments(insert.document_sequence())),
                       std::memory_order_relaxed);
  } else if (name_ == "Find") {
    c.query.fetch_add(1, std::memory_order_relaxed);
  } else if (name_ == "GetMore") {
    c.getmore.fetch_add(1, std::memory_order_relaxed);
  } else if (name_ == "Update") {
    c.update.fetch_add(1, std::memory_order_relaxed);
  } else if (name_ == "Delete") {
    c.remove.fetch_add(1, std::memory_order_relaxed);
  } else if (name_ == "BulkWrite") {
    for (const v1::WriteModel& m : static_cast<const v1::BulkWriteRequest&>(request).models()) {
      switch (m.model_case()) {
        case v1::WriteModel::kInsertOne: c.insert.fetch_add(1, std::memory_order_relaxed); break;
        case v1::WriteModel::kUpdate: c.update.fetch_add(1, std::memory_order_relaxed); break;
        case v1::WriteModel::kDelete: c.remove.fetch_add(1, std::memory_order_relaxed); break;
        default: break;
      }
    }
  } else {
    c.command.fetch_add(1, std::memory_order_relaxed);
  }
}

void RequestObservation::LogSlow(const grpc::Status& status) {
  // The namespace and the filter as they came, read from the request (alive until Finish)
  // only now that the request was slow.
  std::string ns, filter;
  if (request_ != nullptr && method_.rfind("/micromongo.v1.DataService/", 0) == 0) {
    ns = StringField(*request_, "database");
    std::string coll = StringField(*request_, "collection");
    if (!coll.empty()) ns += "." + coll;
    if (const v1::Doc* doc = DocField(*request_, "filter")) {
      if (std::string json = DocJson(*doc); !json.empty()) {
        auto bytes = bson::JsonToBson(json);
        if (bytes.ok()) filter = *std::move(bytes);
      }
    }
  }
  absl::Status outcome = status.ok() ? absl::OkStatus() : absl::UnknownError(status.error_message());
  LogSlowOperation(*op_, "grpc", name_, ns, filter, name_ == "Find" || name_ == "GetMore" || name_ == "Aggregate",
                   outcome);
}

}  // namespace micromongo::service
