#include "service/proto_docs.h"

#include "document/bson_view.h"
#include "document/json.h"
#include "document/status.h"

namespace micromongo::service {

absl::StatusOr<std::string> DocToBson(const v1::Doc& doc) {
  switch (doc.kind_case()) {
    case v1::Doc::kBson: {
      if (doc.bson().size() > kMaxBsonObjectSize + 16 * 1024) {
        return MongoError(kBSONObjectTooLarge,
                          StrCat("BSON document of ", doc.bson().size(), " bytes exceeds 16 MiB"));
      }
      if (auto s = bson::Validate(doc.bson()); !s.ok()) return s;
      return doc.bson();
    }
    case v1::Doc::kJson: {
      auto bytes = bson::JsonToBson(doc.json());
      if (!bytes.ok()) return bytes.status();
      if (bytes->size() > kMaxBsonObjectSize + 16 * 1024) {
        return MongoError(kBSONObjectTooLarge, "document exceeds 16 MiB");
      }
      return bytes;
    }
    default:
      return std::string("\x05\x00\x00\x00\x00", 5);
  }
}

void SetDoc(v1::Doc* out, std::string bson, bool json) {
  if (json) {
    out->set_json(bson::BsonToJson(bson));
  } else {
    out->set_bson(std::move(bson));
  }
}

void FillErrorInfo(const absl::Status& status, int index, v1::ErrorInfo* info) {
  int code = MongoCodeOf(status);
  info->set_code(code);
  info->set_code_name(ErrorCodeName(code));
  info->set_message(std::string(status.message()));
  info->set_index(index);
  info->set_details(ErrorDetailsOf(status));
}

}  // namespace micromongo::service
