#include "service/validation.h"

#include <cstdio>

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "util/log.h"

namespace micromongo::service {

absl::StatusOr<std::unique_ptr<DocumentValidator>> DocumentValidator::FromOptions(
    bson::DocView options) {
  bson::ValueView validator, level, action;
  if (!options.Find("validator", &validator) || validator.type != BsonType::kDocument ||
      validator.Doc().empty()) {
    return nullptr;
  }
  if (options.Find("validationLevel", &level) && level.type == BsonType::kString &&
      level.String() == "off") {
    return nullptr;
  }
  auto v = std::make_unique<DocumentValidator>();
  v->validator_ = std::string(validator.Doc().bytes());
  auto matcher = query::Matcher::Parse(v->validator_);
  if (!matcher.ok()) return matcher.status();
  v->matcher_ = *std::move(matcher);
  v->moderate_ = level.type == BsonType::kString && level.String() == "moderate";
  v->warn_ = options.Find("validationAction", &action) && action.type == BsonType::kString &&
             action.String() == "warn";
  return v;
}

bool DocumentValidator::Conforms(bson::DocView doc) const { return matcher_->Matches(doc); }

absl::Status DocumentValidator::Check(bson::DocView doc, const bson::DocView* old_doc) const {
  if (matcher_->Matches(doc)) return absl::OkStatus();
  if (moderate_ && old_doc != nullptr && !matcher_->Matches(*old_doc)) return absl::OkStatus();
  bson::DocView validator(validator_);
  // errInfo: which top-level clauses fail (each re-checked on its own).
  bson::Builder info;
  bson::ValueView id;
  if (doc.Find("_id", &id)) info.AppendView("failingDocumentId", id);
  size_t details = info.StartDocument("details");
  info.AppendString("operatorName", "$and");
  info.AppendDocument("specifiedAs", validator);
  size_t clauses = info.StartArray("clausesNotSatisfied");
  int index = 0, failing = 0;
  char scratch[24];
  for (const bson::ElementView& e : validator) {
    bson::Builder one;
    one.AppendView(e.key, e.value);
    std::string clause = std::move(one).Finish();
    auto m = query::Matcher::Parse(clause);
    if (m.ok() && !(*m)->Matches(doc)) {
      size_t c = info.StartDocument(bson::ArrayKey(failing++, scratch));
      info.AppendInt32("index", index);
      info.AppendString("operatorName", e.key.empty() || e.key[0] != '$' ? "$eq" : e.key);
      info.AppendDocument("specifiedAs", bson::DocView(clause));
      info.End(c);
    }
    ++index;
  }
  info.End(clauses);
  info.End(details);
  std::string info_bson = std::move(info).Finish();
  if (warn_) {
    bson::Builder attr;
    attr.AppendString("validationAction", "warn");
    attr.AppendDocument("errInfo", bson::DocView(info_bson));
    Log(LogSeverity::kWarning, LogComponent::kWrite, "Document would fail validation",
        std::move(attr).Finish());
    return absl::OkStatus();
  }
  bson::Builder response;
  response.AppendDocument("errInfo", bson::DocView(info_bson));
  return MongoError(kDocumentValidationFailure, "Document failed validation",
                    std::move(response).Finish());
}

}  // namespace micromongo::service
