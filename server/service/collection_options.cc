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

// MongoDB's clusteredIndex option made canonical: {v: 2, key: {_id: 1}, name, unique: true}.
absl::StatusOr<std::string> ClusteredIndexSpec(bson::DocView requested) {
  bson::ValueView key, unique, name, v;
  for (const bson::ElementView& e : requested) {
    if (e.key != "key" && e.key != "unique" && e.key != "name" && e.key != "v") {
      return MongoError(kUnknownBsonField, StrCat("BSON field 'clusteredIndex.", e.key, "' is an unknown field."));
    }
  }
  if (!requested.Find("key", &key) || key.type != BsonType::kDocument) {
    return MongoError(40414, "BSON field 'clusteredIndex.key' is missing but a required field");
  }
  if (!requested.Find("unique", &unique)) {
    return MongoError(40414, "BSON field 'clusteredIndex.unique' is missing but a required field");
  }
  if (unique.type != BsonType::kBool) {
    return MongoError(kTypeMismatch, "BSON field 'clusteredIndex.unique' is the wrong type, expected type 'bool'");
  }
  if (!unique.Bool()) return MongoError(5979700, "The clusteredIndex option requires unique: true to be specified");
  bson::DocView k = key.Doc();
  if (k.CountElements() != 1 || k.begin()->key != "_id" || !k.begin()->value.IsNumber() ||
      k.begin()->value.AsDouble() != 1) {
    return MongoError(kInvalidIndexSpecificationOption, "The clusteredIndex option is only supported for key: {_id: 1}");
  }
  if (requested.Find("v", &v) && (!v.IsNumber() || v.AsDouble() != 2)) {
    return MongoError(5979704, "Invalid clusteredIndex specification; cannot create a clusteredIndex with v other than 2");
  }
  if (requested.Find("name", &name) && name.type != BsonType::kString) {
    return MongoError(kTypeMismatch, "BSON field 'clusteredIndex.name' is the wrong type, expected type 'string'");
  }
  bson::Builder out;
  out.AppendInt32("v", 2);
  size_t keys = out.StartDocument("key");
  out.AppendInt32("_id", 1);
  out.End(keys);
  out.AppendString("name", name.type == BsonType::kString ? name.String() : std::string_view("_id_"));
  out.AppendBool("unique", true);
  return std::move(out).Finish();
}

// MongoDB's BSONObjBuilder::appendNumber: an int32 below 2^30 in magnitude, else an int64.
void AppendNumber(bson::Builder* out, std::string_view key, int64_t n) {
  if (n > -(int64_t{1} << 30) && n < (int64_t{1} << 30)) {
    out->AppendInt32(key, static_cast<int32_t>(n));
  } else {
    out->AppendInt64(key, n);
  }
}

constexpr int64_t kMaxCappedSize = int64_t{1} << 50;  // 1 PB

// A capped collection's size cap (create's size, collMod's cappedSize), checked as MongoDB
// checks it (kept as given: MongoDB 8 no longer rounds it to 256 bytes).
absl::StatusOr<int64_t> CappedSize(std::string_view field, int64_t size) {
  if (size < 1) return MongoError(51024, StrCat("BSON field '", field, "' value must be >= 1, actual value '", size, "'"));
  if (size > kMaxCappedSize) return MongoError(kBadValue, "size cannot exceed 1 PB");
  return size;
}

// A capped collection's document cap (create's max, collMod's cappedMax): none (stored as
// 2^31 - 1, as MongoDB does) when <= 0.
absl::StatusOr<int64_t> CappedMax(int64_t max) {
  if (max >= (int64_t{1} << 31)) return MongoError(kBadValue, "max in a capped collection has to be < 2^31 or not set");
  return max <= 0 ? int64_t{0x7fffffff} : max;
}

// Appends capped, size and max (first, as MongoDB lists them) for a collection created
// capped or collMod'ed; nothing for others.
absl::Status AppendCappedOptions(const v1::CollectionOptions& requested, const bson::DocView* current,
                                 bson::Builder* out) {
  bson::ValueView v;
  if (current == nullptr) {
    bool capped = requested.has_capped() && requested.capped();
    if (capped && !requested.has_capped_size()) {
      return MongoError(kInvalidOptions, "the 'size' field is required when 'capped' is true");
    }
    if (!capped && (requested.has_capped_size() || requested.has_capped_max())) {
      return MongoError(kInvalidOptions, "the 'capped' field needs to be true when either the 'size' or 'max' fields "
                                         "are present");
    }
    if (!capped) return absl::OkStatus();
    if (requested.has_clustered_index()) {
      return MongoError(kInvalidOptions, "a clustered collection cannot be capped");
    }
    auto size = CappedSize("size", requested.capped_size());
    if (!size.ok()) return size.status();
    out->AppendBool("capped", true);
    AppendNumber(out, "size", *size);
    if (requested.has_capped_max()) {
      auto max = CappedMax(requested.capped_max());
      if (!max.ok()) return max.status();
      AppendNumber(out, "max", *max);
    }
    return absl::OkStatus();
  }
  if (requested.has_capped()) {
    return MongoError(kInvalidOptions, "collMod cannot change whether a collection is capped");
  }
  bool capped = current->Find("capped", &v) && v.type == BsonType::kBool && v.Bool();
  if (!capped) {
    if (requested.has_capped_size() || requested.has_capped_max()) {
      return MongoError(kInvalidOptions, "Collection must be capped.");
    }
    return absl::OkStatus();
  }
  out->AppendBool("capped", true);
  if (requested.has_capped_size()) {
    auto size = CappedSize("cappedSize", requested.capped_size());
    if (!size.ok()) return size.status();
    AppendNumber(out, "size", *size);
  } else if (current->Find("size", &v)) {
    out->AppendView("size", v);
  }
  if (requested.has_capped_max()) {
    auto max = CappedMax(requested.capped_max());
    if (!max.ok()) return max.status();
    AppendNumber(out, "max", *max);
  } else if (current->Find("max", &v)) {
    out->AppendView("max", v);
  }
  return absl::OkStatus();
}

// MongoDB's timeseries option made canonical, as listCollections shows it: {timeField,
// metaField?, granularity, bucketMaxSpanSeconds} or, with custom bucketing, {timeField,
// metaField?, bucketRoundingSeconds, bucketMaxSpanSeconds}.
absl::StatusOr<std::string> TimeseriesSpec(bson::DocView requested) {
  std::optional<std::string_view> time_field, meta_field, granularity;
  std::optional<int64_t> max_span, rounding;
  for (const bson::ElementView& e : requested) {
    auto wrong = [&](std::string_view expected) {
      return MongoError(kTypeMismatch, StrCat("BSON field 'timeseries.", e.key, "' is the wrong type '",
                                              BsonTypeName(e.value.type), "', expected type '", expected, "'"));
    };
    if (e.key == "timeField" || e.key == "metaField" || e.key == "granularity") {
      if (e.value.type != BsonType::kString) return wrong("string");
      (e.key == "timeField" ? time_field : e.key == "metaField" ? meta_field : granularity) = e.value.String();
    } else if (e.key == "bucketMaxSpanSeconds" || e.key == "bucketRoundingSeconds") {
      if (!e.value.IsNumber()) return wrong("int");
      (e.key == "bucketMaxSpanSeconds" ? max_span : rounding) = static_cast<int64_t>(e.value.AsDouble());
    } else {
      return MongoError(kUnknownBsonField, StrCat("BSON field 'timeseries.", e.key, "' is an unknown field."));
    }
  }
  if (!time_field) return MongoError(40414, "BSON field 'timeseries.timeField' is missing but a required field");
  for (auto [name, field] : {std::pair{"timeField", time_field}, {"metaField", meta_field}}) {
    if (field && field->find('.') != std::string_view::npos) {
      return MongoError(kInvalidOptions, StrCat("'", name, "' must be a top-level field and not contain a '.'"));
    }
  }
  if (meta_field && *meta_field == "_id") return MongoError(kInvalidOptions, "'metaField' cannot be \"_id\"");
  if (meta_field && *meta_field == *time_field) {
    return MongoError(kInvalidOptions, "'metaField' cannot be the same as 'timeField'");
  }
  int64_t default_span = 3600;
  if (granularity) {
    if (*granularity == "minutes") {
      default_span = 86400;
    } else if (*granularity == "hours") {
      default_span = 2592000;
    } else if (*granularity != "seconds") {
      return MongoError(kBadValue, StrCat("Enumeration value '", *granularity,
                                          "' for field 'timeseries.granularity' is not a valid value."));
    }
  }
  bool custom = max_span || rounding;
  if (custom) {
    if (granularity) {
      return MongoError(kInvalidOptions, "Time-series 'bucketMaxSpanSeconds' and 'bucketRoundingSeconds' cannot be "
                                         "set together with 'granularity'");
    }
    if (!max_span || !rounding) {
      return MongoError(kInvalidOptions, "Time-series 'bucketMaxSpanSeconds' and 'bucketRoundingSeconds' need to be "
                                         "set alongside each other");
    }
    if (*max_span != *rounding) {
      return MongoError(kInvalidOptions, "Time-series 'bucketRoundingSeconds' needs to be equal to "
                                         "'bucketMaxSpanSeconds'");
    }
    if (*max_span < 1 || *max_span > 31536000) {
      return MongoError(kInvalidOptions, "Time-series 'bucketMaxSpanSeconds' must be between 1 and 31536000");
    }
  }
  bson::Builder out;
  out.AppendString("timeField", *time_field);
  if (meta_field) out.AppendString("metaField", *meta_field);
  if (custom) {
    out.AppendInt32("bucketRoundingSeconds", static_cast<int32_t>(*rounding));
    out.AppendInt32("bucketMaxSpanSeconds", static_cast<int32_t>(*max_span));
  } else {
    out.AppendString("granularity", granularity ? *granularity : "seconds");
    out.AppendInt32("bucketMaxSpanSeconds", static_cast<int32_t>(default_span));
  }
  return std::move(out).Finish();
}

// collMod's timeseries option over the current canonical spec: granularity, or equal
// bucketMaxSpanSeconds and bucketRoundingSeconds, which may only grow (MongoDB's
// transitions: seconds to minutes to hours; spans never shrink).
absl::StatusOr<std::string> ModifiedTimeseriesSpec(bson::DocView current, bson::DocView requested) {
  std::optional<std::string_view> granularity;
  std::optional<int64_t> max_span, rounding;
  for (const bson::ElementView& e : requested) {
    if (e.key == "granularity") {
      if (e.value.type != BsonType::kString) {
        return MongoError(kTypeMismatch, "BSON field 'collMod.timeseries.granularity' is the wrong type, expected type 'string'");
      }
      granularity = e.value.String();
    } else if (e.key == "bucketMaxSpanSeconds" || e.key == "bucketRoundingSeconds") {
      if (!e.value.IsNumber()) {
        return MongoError(kTypeMismatch, StrCat("BSON field 'collMod.timeseries.", e.key, "' is the wrong type, expected type 'int'"));
      }
      (e.key == "bucketMaxSpanSeconds" ? max_span : rounding) = static_cast<int64_t>(e.value.AsDouble());
    } else {
      return MongoError(kUnknownBsonField, StrCat("BSON field 'collMod.timeseries.", e.key, "' is an unknown field."));
    }
  }
  auto rank = [](std::string_view g) { return g == "seconds" ? 0 : g == "minutes" ? 1 : g == "hours" ? 2 : -1; };
  bson::ValueView v;
  std::string_view current_granularity = current.Find("granularity", &v) && v.type == BsonType::kString ? v.String() : "";
  int64_t current_span = current.Find("bucketMaxSpanSeconds", &v) && v.IsNumber() ? static_cast<int64_t>(v.AsDouble()) : 0;
  bson::Builder changed;
  auto keep_fields = [&] {
    for (const char* name : {"timeField", "metaField"}) {
      if (current.Find(name, &v)) changed.AppendView(name, v);
    }
  };
  if (granularity) {
    if (max_span || rounding) {
      return MongoError(kInvalidOptions, "Time-series 'bucketMaxSpanSeconds' and 'bucketRoundingSeconds' cannot be "
                                         "set together with 'granularity'");
    }
    if (rank(*granularity) < 0) {
      return MongoError(kBadValue, StrCat("Enumeration value '", *granularity,
                                          "' for field 'collMod.timeseries.granularity' is not a valid value."));
    }
    const int64_t spans[] = {3600, 86400, 2592000};
    int64_t span = spans[rank(*granularity)];
    bool allowed = current_granularity.empty() ? span >= current_span : rank(*granularity) >= rank(current_granularity);
    if (!allowed) {
      return MongoError(kInvalidOptions, "Invalid transition for timeseries.granularity. Can only transition from "
                                         "'seconds' to 'minutes' or 'minutes' to 'hours'.");
    }
    keep_fields();
    changed.AppendString("granularity", *granularity);
    changed.AppendInt32("bucketMaxSpanSeconds", static_cast<int32_t>(span));
    return std::move(changed).Finish();
  }
  if (!max_span || !rounding) {
    return MongoError(kInvalidOptions, "Time-series 'bucketMaxSpanSeconds' and 'bucketRoundingSeconds' need to be "
                                       "set alongside each other");
  }
  if (*max_span != *rounding) {
    return MongoError(kInvalidOptions, "Time-series 'bucketRoundingSeconds' needs to be equal to 'bucketMaxSpanSeconds'");
  }
  if (*max_span > 31536000) {
    return MongoError(kInvalidOptions, "Time-series 'bucketMaxSpanSeconds' must be between 1 and 31536000");
  }
  if (*max_span < current_span) {
    return MongoError(kInvalidOptions, "Invalid transition for timeseries.bucketMaxSpanSeconds: it can only grow");
  }
  keep_fields();
  changed.AppendInt32("bucketRoundingSeconds", static_cast<int32_t>(*rounding));
  changed.AppendInt32("bucketMaxSpanSeconds", static_cast<int32_t>(*max_span));
  return std::move(changed).Finish();
}

}  // namespace

absl::StatusOr<std::string> BuildCollectionOptions(std::string_view db,
                                                   const v1::CollectionOptions& requested,
                                                   const bson::DocView* current) {
  bson::ValueView unused;
  bool was_view = current != nullptr && current->Find("viewOn", &unused);
  bool wants_view = !requested.view_on().empty() || requested.pipeline_size() > 0;
  bool clustered = current != nullptr ? current->Find("clusteredIndex", &unused) : requested.has_clustered_index();
  if (current != nullptr && requested.has_clustered_index()) {
    return MongoError(kInvalidOptions, "unknown option to collMod: clusteredIndex");
  }
  if (wants_view && (requested.has_clustered_index() || requested.has_expire_after_seconds())) {
    return MongoError(kInvalidOptions, "a view cannot be clustered or expire documents");
  }
  bool timeseries = current != nullptr ? current->Find("timeseries", &unused) : requested.has_timeseries();
  if (current != nullptr && requested.has_timeseries() && !timeseries) {
    return MongoError(kInvalidOptions, "collMod's timeseries option needs a time series collection");
  }
  if (current == nullptr && timeseries) {
    // MongoDB's options allowed beside timeseries.
    for (auto [name, set] : {std::pair{"capped", requested.has_capped() && requested.capped()},
                             {"size", requested.has_capped_size()},
                             {"max", requested.has_capped_max()},
                             {"validator", requested.has_validator()},
                             {"viewOn", wants_view},
                             {"clusteredIndex", requested.has_clustered_index()},
                             {"changeStreamPreAndPostImages", requested.has_change_stream_pre_and_post_images()}}) {
      if (set) return MongoError(kInvalidOptions, StrCat("'timeseries' is not allowed with '", name, "'"));
    }
  }
  if (requested.has_expire_after_seconds() && !clustered && !timeseries) {
    return MongoError(kInvalidOptions, "'expireAfterSeconds' requires clustering to be enabled");
  }
  if (requested.has_expire_after_seconds() && requested.expire_after_seconds() < 0) {
    return MongoError(kInvalidOptions, "TTL index 'expireAfterSeconds' option must be within an acceptable range, "
                                       "try a lower number");
  }
  bool wants_validation = requested.has_validator() || !requested.validation_level().empty() ||
                          !requested.validation_action().empty() ||
                          requested.has_change_stream_pre_and_post_images();
  if ((wants_view || was_view) && (requested.has_capped() || requested.has_capped_size() || requested.has_capped_max())) {
    return MongoError(kInvalidOptions, "a view cannot be capped");
  }
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
  // A collection: capped, size, max; validator, validationLevel, validationAction
  // (collMod keeps what it does not mention).
  auto current_field = [&](const char* name) -> std::optional<bson::ValueView> {
    bson::ValueView v;
    if (current != nullptr && current->Find(name, &v)) return v;
    return std::nullopt;
  };
  if (auto s = AppendCappedOptions(requested, current, &out); !s.ok()) return s;
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
  if (requested.has_clustered_index()) {
    auto requested_spec = DocToBson(requested.clustered_index());
    if (!requested_spec.ok()) return requested_spec.status();
    auto spec = ClusteredIndexSpec(bson::DocView(*requested_spec));
    if (!spec.ok()) return spec.status();
    out.AppendDocument("clusteredIndex", bson::DocView(*spec));
  } else if (auto v = current_field("clusteredIndex")) {
    out.AppendView("clusteredIndex", *v);
  }
  if (requested.has_expire_after_seconds()) {
    out.AppendInt64("expireAfterSeconds", requested.expire_after_seconds());
  } else if (auto v = current_field("expireAfterSeconds")) {
    out.AppendView("expireAfterSeconds", *v);
  }
  if (requested.has_timeseries()) {
    auto requested_spec = DocToBson(requested.timeseries());
    if (!requested_spec.ok()) return requested_spec.status();
    auto spec = current == nullptr ? TimeseriesSpec(bson::DocView(*requested_spec))
                                   : ModifiedTimeseriesSpec(current_field("timeseries")->Doc(),
                                                            bson::DocView(*requested_spec));
    if (!spec.ok()) return spec.status();
    out.AppendDocument("timeseries", bson::DocView(*spec));
  } else if (auto v = current_field("timeseries")) {
    out.AppendView("timeseries", *v);
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
