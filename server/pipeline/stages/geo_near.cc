// $geoNear: the collection's documents in order of distance from a point, read through
// the same GEO_NEAR plan as a find with $near / $nearSphere (its `query` joined to that
// filter), each given its distance (times distanceMultiplier) and, with includeLocs, the
// location that was measured.

#include <cmath>

#include "document/builder.h"
#include "geo/geo_query.h"
#include "pipeline/stages/join_util.h"
#include "pipeline/stages/registry.h"
#include "query/matcher.h"

namespace micromongo::pipeline::stages {
namespace {

struct GeoNearDef {
  Value near;            // GeoJSON point or legacy pair, as given
  bool geojson = false;  // near is GeoJSON (always spherical, meters)
  bool spherical = false;
  std::optional<double> min_distance, max_distance;
  std::optional<Document> query;
  std::string key;  // empty: the collection's one geo index
  std::vector<std::string> distance_field, include_locs;
  double multiplier = 1;
  std::shared_ptr<const bson::Collator> collator;
};

class GeoNearSpec final : public StageSpec {
 public:
  explicit GeoNearSpec(GeoNearDef def) : def_(std::move(def)) {}

  bool IsMatch() const override { return true; }
  bool IsGeoNear() const override { return true; }

  absl::StatusOr<std::shared_ptr<const query::Matcher>> ReadFilterOn(ExecContext* ctx, std::string_view db,
                                                                      std::string_view coll) const override {
    std::string key = def_.key;
    if (key.empty()) {
      if (ctx->data == nullptr) return MongoError(kInternalError, "no collection access in this context");
      auto found = ctx->data->GeoNearKey(db, coll);
      if (!found.ok()) return found.status();
      key = *std::move(found);
    }
    ctx->geo_near_key = key;
    // {<key>: {$nearSphere | $near: ...}, $and: [<query>]}
    Document op;
    const char* name = def_.geojson || def_.spherical ? "$nearSphere" : "$near";
    if (def_.geojson) {
      Document spec{{"$geometry", def_.near}};
      if (def_.min_distance) spec.Append("$minDistance", *def_.min_distance);
      if (def_.max_distance) spec.Append("$maxDistance", *def_.max_distance);
      op.Append(name, spec);
    } else {
      op.Append(name, def_.near);
      if (def_.min_distance) op.Append("$minDistance", *def_.min_distance);
      if (def_.max_distance) op.Append("$maxDistance", *def_.max_distance);
    }
    Document filter{{key, op}};
    if (def_.query && !def_.query->empty()) filter.Append("$and", Array{*def_.query});
    auto m = ctx->let != nullptr ? query::Matcher::Parse(bson::Encode(filter), *ctx->let, def_.collator)
                                 : query::Matcher::Parse(bson::Encode(filter), nullptr, def_.collator);
    if (!m.ok()) return m.status();
    return std::shared_ptr<const query::Matcher>(*std::move(m));
  }

  absl::StatusOr<StagePtr> Open(StagePtr input, ExecContext* ctx) const override {
    const GeoNearDef* def = &def_;
    std::string key = def_.key.empty() ? ctx->geo_near_key : def_.key;
    return MakeMapStage(std::move(input), [def, key](Row* row) -> absl::StatusOr<bool> {
      if (row->meta == nullptr || !row->meta->geo_near_distance) {
        return MongoError(40603, "$geoNear is only valid as the first stage in a pipeline");
      }
      std::string doc = SetField(row->view(), def->distance_field,
                                 Value(*row->meta->geo_near_distance * def->multiplier));
      if (!def->include_locs.empty()) {
        std::optional<Value> loc = Location(bson::DocView(doc), *def, key, *row->meta->geo_near_distance);
        if (loc) doc = SetField(bson::DocView(doc), def->include_locs, *loc);
      }
      row->doc = std::move(doc);
      return true;
    });
  }

 private:
  // The value at the key's path that was measured (of an array of geometries, the element
  // at the row's distance).
  static std::optional<Value> Location(bson::DocView doc, const GeoNearDef& def, const std::string& key,
                                       double distance) {
    Document d = bson::Decode(doc);
    const Value* v = nullptr;
    const Document* at = &d;
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      size_t dot = key.find('.', start);
      parts.push_back(key.substr(start, dot == std::string::npos ? dot : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      v = at->Find(parts[i]);
      if (v == nullptr) return std::nullopt;
      if (i + 1 < parts.size()) {
        if (v->type() != BsonType::kDocument) return std::nullopt;
        at = &v->AsDocument();
      }
    }
    if (v->type() == BsonType::kArray && !v->AsArray().empty() && !v->AsArray()[0].IsNumber()) {
      auto q = NearOf(def);
      if (q.ok()) {
        for (const Value& e : v->AsArray()) {
          std::string bytes = bson::Encode(Document{{"", e}});
          std::optional<double> de = q->Distance(bson::DocView(bytes).begin()->value);
          if (de && std::fabs(*de - distance) <= 1e-9 * std::max(1.0, distance)) return e;
        }
      }
    }
    return *v;
  }

  static absl::StatusOr<geo::NearQuery> NearOf(const GeoNearDef& def) {
    std::string near = bson::Encode(def.geojson ? Document{{"$geometry", def.near}} : Document{{"", def.near}});
    bson::DocView d(near);
    if (def.geojson) {
      return geo::NearQuery::Parse("$nearSphere", bson::ValueView{BsonType::kDocument, d.data(), d.size()}, d);
    }
    return geo::NearQuery::Parse(def.spherical ? "$nearSphere" : "$near", d.begin()->value, d);
  }

  GeoNearDef def_;
};

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

}  // namespace

absl::Status ParseGeoNear(const Value& arg, const ParseOptions& options, Specs* out) {
  if (arg.type() != BsonType::kDocument) return MongoError(10065, "$geoNear requires an object as its argument");
  GeoNearDef def;
  def.collator = options.collator;
  bool has_near = false;
  for (const auto& [name, v] : arg.AsDocument()) {
    if (name == "near") {
      has_near = true;
      def.near = v;
      def.geojson = v.type() == BsonType::kDocument && v.AsDocument().Has("type");
    } else if (name == "distanceField") {
      if (v.type() != BsonType::kString || v.AsString().empty() || v.AsString()[0] == '$') {
        return MongoError(kTypeMismatch, "distanceField must be a string naming a field");
      }
      def.distance_field = SplitPath(v.AsString());
    } else if (name == "includeLocs") {
      if (v.type() != BsonType::kString || v.AsString().empty() || v.AsString()[0] == '$') {
        return MongoError(kTypeMismatch, "includeLocs must be a string naming a field");
      }
      def.include_locs = SplitPath(v.AsString());
    } else if (name == "spherical") {
      def.spherical = v.type() == BsonType::kBool ? v.AsBool() : v.IsNumber() && v.ToDouble() != 0;
    } else if (name == "maxDistance" || name == "minDistance") {
      if (!v.IsNumber() || std::isnan(v.ToDouble()) || v.ToDouble() < 0) {
        return MongoError(kBadValue, StrCat(name, " must be a non-negative number"));
      }
      (name == "maxDistance" ? def.max_distance : def.min_distance) = v.ToDouble();
    } else if (name == "query") {
      if (v.type() != BsonType::kDocument) return MongoError(kTypeMismatch, "query must be an object");
      def.query = v.AsDocument();
    } else if (name == "distanceMultiplier") {
      if (!v.IsNumber() || v.ToDouble() < 0) {
        return MongoError(kBadValue, "distanceMultiplier must be a non-negative number");
      }
      def.multiplier = v.ToDouble();
    } else if (name == "key") {
      if (v.type() != BsonType::kString || v.AsString().empty()) {
        return MongoError(kTypeMismatch, "$geoNear parameter 'key' must be a non-empty string");
      }
      def.key = v.AsString();
    } else {
      return MongoError(kBadValue, StrCat("Unknown argument to $geoNear: ", name));
    }
  }
  if (!has_near) return MongoError(kBadValue, "$geoNear requires a 'near' option as an Array");
  if (def.distance_field.empty()) return MongoError(kBadValue, "$geoNear requires a 'distanceField' option");
  // The point and the query are checked now, as MongoDB does when it parses the stage.
  {
    Document probe{{"_", def.geojson ? Value(Document{{"$nearSphere", Document{{"$geometry", def.near}}}})
                                     : Value(Document{{def.spherical ? "$nearSphere" : "$near", def.near}})}};
    if (def.query) probe.Append("$and", Array{*def.query});
    VariableMap names;
    if (options.let != nullptr) names = *options.let;
    for (const std::string& v : options.scope) names.emplace(v, Value());
    auto m = query::Matcher::Parse(bson::Encode(probe), names, options.collator);
    if (!m.ok()) return m.status();
  }
  Emit(out, "$geoNear", arg, std::make_shared<GeoNearSpec>(std::move(def)));
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline::stages
