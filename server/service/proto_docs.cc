#include "service/proto_docs.h"

#include "document/bson_view.h"
#include "document/json.h"
#include "document/status.h"

namespace micromongo::service {

absl::Status CheckBsonDoc(std::string_view bson) {
  if (bson.size() > kMaxBsonObjectSize + 16 * 1024) {
    return MongoError(kBSONObjectTooLarge, StrCat("BSON document of ", bson.size(), " bytes exceeds 16 MiB"));
  }
  return bson::Validate(bson);
}

namespace {

// Takes the next document off the front of a document sequence by its length prefix
// (not validated); false when the length does not frame one in what is left.
bool NextFramed(std::string_view* sequence, std::string_view* doc) {
  int32_t len = sequence->size() >= 4 ? bson::ReadInt32(sequence->data()) : 0;
  if (len < 5 || static_cast<size_t>(len) > sequence->size()) return false;
  *doc = sequence->substr(0, static_cast<size_t>(len));
  sequence->remove_prefix(doc->size());
  return true;
}

}  // namespace

absl::Status SplitDocumentSequence(std::string_view sequence, std::vector<std::string_view>* docs) {
  while (!sequence.empty()) {
    size_t left = sequence.size();
    std::string_view doc;
    if (!NextFramed(&sequence, &doc)) {
      return MongoError(kInvalidBSON, StrCat("document sequence: a document's length does not fit the ", left,
                                             " bytes left"));
    }
    if (auto s = CheckBsonDoc(doc); !s.ok()) return s;
    docs->push_back(doc);
  }
  return absl::OkStatus();
}

size_t CountSequenceDocuments(std::string_view sequence) {
  size_t n = 0;
  std::string_view doc;
  while (NextFramed(&sequence, &doc)) ++n;
  return n;
}

absl::StatusOr<std::string> DocToBson(const v1::Doc& doc) {
  switch (doc.kind_case()) {
    case v1::Doc::kBson: {
      if (auto s = CheckBsonDoc(doc.bson()); !s.ok()) return s;
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
