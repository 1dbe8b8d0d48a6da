#include "service/collection_options.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "document/builder.h"
#include "document/status.h"
#include "pipeline/pipeline.h"
#include "query/matcher.h"
#include "service/proto_docs.h"
#include "storage/namespace.h"

namespace micromongo::service {
namespace {

// A view's pipeline must parse and must not write (167 for $out and $merge).
absl::Status CheckViewPipeline(const std::vector<Document>& stages) {
  pipeline::ParseOptions options;
  options.kind = pipeline::PipelineKind::kView;
  return pipeline::Pipeline::Parse(stages, options).status();
}

}  // namespace

absl::StatusOr<std::string> BuildCollectionOptions(std::string_view db,
                                                   const v1::CollectionOptions& requested,
                                                   const bson::DocView* current) {
  bson::ValueView unused;
  bool was_view = current != nullptr && current->Find("viewOn", &unused);
  bool wants_view = !requested.view_on().empty() || requested.pipeline_size() > 0;
  bool wants_validation = requested.has_validator() || !requested.validation_level().empty() ||
                          !requested.validation_action().empty() ||
                          requested.has_change_stream_pre_and_post_images();
  if (wants_view && wants_validation) {
    return MongoError(kInvalidOptions, "a view cannot have a validator");
  }
  if (current != nullptr && wants_view && !was_view) {
    return MongoError(kInvalidOptions, "collMod cannot turn a collection into a view");
  }
  if (was_view && wants_validation) {
    return MongoError(kOptionNotSupportedOnView, "a view cannot have a validator");
  }
  bson::Builder out;
  if (wants_view || was_view) {
    std::string view_on = requested.view_on();
    if (view_on.empty()) {
      bson::ValueView v;
      if (current == nullptr || !current->Find("viewOn", &v)) {
        return MongoError(kBadValue, "a view needs viewOn: the collection it reads");
      }
      view_on = std::string(v.String());
    }
    if (auto s = storage::ValidateCollectionName(db, view_on); !s.ok()) return s;
    std::vector<Document> stages;
    if (requested.pipeline_size() > 0 || current == nullptr) {
      for (const v1::Doc& d : requested.pipeline()) {
        auto bytes = DocToBson(d);
        if (!bytes.ok()) return bytes.status();
        stages.push_back(bson::Decode(bson::DocView(*bytes)));
      }
    } else {
      bson::ValueView p;
      if (current->Find("pipeline", &p) && p.type == BsonType::kArray) {
        for (const bson::ElementView& e : p.Doc()) stages.push_back(bson::Decode(e.value.Doc()));
      }
    }
    if (auto s = CheckViewPipeline(stages); !s.ok()) return s;
    out.AppendString("viewOn", view_on);
    size_t arr = out.StartArray("pipeline");
    char scratch[24];
    for (size_t i = 0; i < stages.size(); ++i) {
      std::string bytes = bson::Encode(stages[i]);
      out.AppendDocument(bson::ArrayKey(i, scratch), bson::DocView(bytes));
    }
    out.End(arr);
    return std::move(out).Finish();
  }
  // A collection: validator, validationLevel, validationAction (collMod keeps what it
  // does not mention).
  auto current_field = [&](const char* name) -> std::optional<bson::ValueView> {
    bson::ValueView v;
    if (current != nullptr && current->Find(name, &v)) return v;
    return std::nullopt;
  };
  if (requested.has_validator()) {
    auto bytes = DocToBson(requested.validator());
    if (!bytes.ok()) return bytes.status();
    auto matcher = query::Matcher::Parse(*bytes);
    if (!matcher.ok()) {
      return MongoError(MongoCodeOf(matcher.status()),
                        StrCat("Parsing of collection validator failed :: caused by :: ",
                               matcher.status().message()));
    }
    out.AppendDocument("validator", bson::DocView(*bytes));
  } else if (auto v = current_field("validator")) {
    out.AppendView("validator", *v);
  }
  // validationLevel and validationAction: one of their values, or unchanged if unset.
  auto enum_field = [&](const char* name, const std::string& value,
                        std::initializer_list<std::string_view> allowed) -> absl::Status {
    if (value.empty()) {
      if (auto v = current_field(name)) out.AppendView(name, *v);
      return absl::OkStatus();
    }
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      return MongoError(kBadValue, StrCat("Enumeration value '", value, "' for field '", name,
                                          "' is not a valid value."));
    }
    out.AppendString(name, value);
    return absl::OkStatus();
  };
  if (auto s = enum_field("validationLevel", requested.validation_level(), {"off", "strict", "moderate"});
      !s.ok()) {
    return s;
  }
  if (auto s = enum_field("validationAction", requested.validation_action(), {"error", "warn"});
      !s.ok()) {
    return s;
  }
  if (requested.has_change_stream_pre_and_post_images()) {
    size_t images = out.StartDocument("changeStreamPreAndPostImages");
    out.AppendBool("enabled", requested.change_stream_pre_and_post_images());
    out.End(images);
  } else if (auto v = current_field("changeStreamPreAndPostImages")) {
    out.AppendView("changeStreamPreAndPostImages", *v);
  }
  return std::move(out).Finish();
}

}  // namespace micromongo::service
