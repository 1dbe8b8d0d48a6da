#include "wire/handlers.h"

#include <algorithm>

#include "document/status.h"

namespace micromongo::wire {
namespace {

using Family = std::span<const CommandEntry> (*)();
constexpr Family kFamilies[] = {HandshakeCommands, AuthCommands, CrudCommands, BulkWriteCommands, TransactionCommands,
                                AdminCommands, StatsCommands};

}  // namespace

Handler FindHandler(std::string_view name) {
  for (Family family : kFamilies) {
    for (const auto& [n, handler] : family()) {
      if (n == name) return handler;
    }
  }
  return nullptr;
}

// What MongoDB runs before authentication (its commands with requiresAuth() false that
// exist here): the handshake, the authentication conversation, and connectionStatus.
bool RunsWithoutAuthentication(std::string_view name) {
  static constexpr std::string_view kNames[] = {"hello", "isMaster", "ismaster", "ping",
                                                "buildInfo", "buildinfo", "saslStart",
                                                "saslContinue", "logout", "connectionStatus"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}

std::vector<std::string_view> AllCommandNames() {
  std::vector<std::string_view> names;
  for (Family family : kFamilies) {
    for (const auto& entry : family()) names.push_back(entry.first);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void SetEmptyFilter(v1::Doc* filter) { filter->set_bson(std::string("\x05\0\0\0\0", 5)); }

absl::Status SetUpdate(const Command& command, std::string_view field, const bson::ValueView& u,
                       v1::Doc* update, bool* replace,
                       google::protobuf::RepeatedPtrField<v1::Doc>* pipeline) {
  if (u.type == BsonType::kArray) {
    for (const bson::ElementView& stage : u.Doc()) {
      if (stage.value.type != BsonType::kDocument) {
        return MongoError(kFailedToParse, "Each element of the 'pipeline' array must be an object");
      }
      SetBson(pipeline->Add(), stage.value.Doc());
    }
    return absl::OkStatus();
  }
  if (u.type != BsonType::kDocument) return command.WrongType(field, u, "object");
  bson::DocView doc = u.Doc();
  auto first = doc.begin();
  *replace = first == doc.end() || first->key.empty() || first->key[0] != '$';
  SetBson(update, doc);
  return absl::OkStatus();
}

absl::Status SetArrayFilters(const Command& command, const bson::ValueView& v,
                             google::protobuf::RepeatedPtrField<v1::Doc>* out) {
  if (v.type != BsonType::kArray) return command.WrongType("arrayFilters", v, "array");
  for (const bson::ElementView& e : v.Doc()) {
    if (e.value.type != BsonType::kDocument) return command.WrongType("arrayFilters", e.value, "object");
    SetBson(out->Add(), e.value.Doc());
  }
  return absl::OkStatus();
}

absl::Status SetStatementHint(const bson::ValueView& v, v1::Hint* hint) {
  if (v.type == BsonType::kString) {
    hint->set_name(std::string(v.String()));
  } else if (v.type == BsonType::kDocument) {
    SetBson(hint->mutable_keys(), v.Doc());
  } else {
    return MongoError(kFailedToParse, "hint must be a string or an object");
  }
  return absl::OkStatus();
}

absl::Status SetHint(const Command& command, v1::Hint* hint) {
  auto v = command.Get("hint");
  if (!v) return absl::OkStatus();
  if (v->type == BsonType::kString) {
    hint->set_name(std::string(v->String()));
  } else if (v->type == BsonType::kDocument) {
    SetBson(hint->mutable_keys(), v->Doc());
  } else {
    return MongoError(kFailedToParse, "hint must be a string or an object");
  }
  return absl::OkStatus();
}

absl::Status SetObject(const Command& command, std::string_view key, v1::Doc* doc, bool* present) {
  auto object = command.Object(key);
  if (!object.ok()) return object.status();
  if (present != nullptr) *present = object->has_value();
  if (*object) SetBson(doc, **object);
  return absl::OkStatus();
}

void AppendCursor(const v1::CursorReply& reply, std::string_view batch_name, std::string_view ns,
                  bson::Builder* out) {
  auto cursor = out->StartDocument("cursor");
  auto batch = out->StartArray(batch_name);
  char key[24];
  for (int i = 0; i < reply.documents_size(); ++i) {
    out->AppendDocument(bson::ArrayKey(i, key), bson::DocView(reply.documents(i).bson()));
  }
  out->End(batch);
  if (reply.has_post_batch_resume_token()) {
    out->AppendDocument("postBatchResumeToken", bson::DocView(reply.post_batch_resume_token().bson()));
  }
  out->AppendInt64("id", reply.cursor_id());
  out->AppendString("ns", ns);
  out->End(cursor);
}

void AppendWriteError(const v1::ErrorInfo& error, int index, bson::Builder* array, int position) {
  char key[24];
  auto at = array->StartDocument(bson::ArrayKey(position, key));
  array->AppendInt32("index", index);
  array->AppendInt32("code", error.code());
  array->AppendString("errmsg", error.message());
  if (!error.details().empty()) {
    for (const bson::ElementView& e : bson::DocView(error.details())) array->AppendView(e.key, e.value);
  }
  array->End(at);
}

absl::Status CheckNonNegative(std::string_view key, int64_t value) {
  if (value >= 0) return absl::OkStatus();
  return MongoError(51024, StrCat("BSON field '", key, "' value must be >= 0, actual value '",
                                  value, "'"));
}

}  // namespace micromongo::wire
