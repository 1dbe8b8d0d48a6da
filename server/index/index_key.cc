#include "index/index_key.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "collation/collation.h"
#include "document/builder.h"
#include "document/hash.h"
#include "document/key_string.h"
#include "document/status.h"
#include "geo/cells.h"
#include "geo/geometry.h"

namespace micromongo::index {
using bson::DocView;
using bson::ValueView;

namespace {

constexpr ValueView kUndefinedValue{BsonType::kUndefined, "", 0};

bool IsUnsupportedType(std::string_view t) {
return t == "geoHaystack" || t == "columnstore";
}

// The values one key field reaches in a document, and which array (if any) supplied
// several of them.
struct FieldValues {
  std::vector<ValueView> values;
  bool multikey = false;
  // The path prefix (component count) of the first array expanded; 0 if none.
  size_t array_at = 0;
};

// The null a key field takes where a document has no value: told apart from a stored null
// (which a sparse index keeps) by the address of its bytes. An object of its own, because
// string literals (such as bson::kNullValue's) need not have one address.
const char kMissingBytes[1] = {0};
constexpr ValueView kMissing{BsonType::kNull, kMissingBytes, 0};

void NoteArray(FieldValues* out, size_t prefix) {
  if (!out->multikey) out->array_at = prefix;
  out->multikey = true;
}

void Walk(const ValueView& v, const query::FieldPath& path, size_t i, FieldValues* out) {
  if (i == path.size()) {
    if (v.type != BsonType::kArray) {
      out->values.push_back(v);
      return;
    }
    NoteArray(out, i);
    DocView elements = v.Doc();
    if (elements.empty()) {
      out->values.push_back(kUndefinedValue);
      return;
    }
    for (const bson::ElementView& e : elements) out->values.push_back(e.value);
    return;
  }
  if (v.type == BsonType::kDocument) {
    ValueView child;
    if (!v.Doc().Find(path.part(i), &child)) {
      out->values.push_back(kMissing);
      return;
    }
    Walk(child, path, i + 1, out);
    return;
  }
  if (v.type == BsonType::kArray) {
    NoteArray(out, i);
    std::optional<size_t> index = path.index(i);
    size_t pos = 0;
    for (const bson::ElementView& e : v.Doc()) {
      if (e.value.type == BsonType::kDocument) Walk(e.value, path, i, out);
      if (index && pos == *index) Walk(e.value, path, i + 1, out);
      ++pos;
    }
    return;
  }
  out->values.push_back(kMissing);  // a scalar where the path continues
}

bool IsLegacyPair(const ValueView& v) {
  int numbers = 0;
  for (const bson::ElementView& e : v.Doc()) {
    if (numbers == 2 || !e.value.IsNumber()) break;
    ++numbers;
  }
  return numbers == 2;
}

// The values at a 2dsphere field's path that should be geometries: an array at the end is
// one legacy pair, or a list of geometries.
void GeoWalk(const ValueView& v, const query::FieldPath& path, size_t i, std::vector<ValueView>* out) {
  if (i == path.size()) {
    if (v.type == BsonType::kArray && !IsLegacyPair(v)) {
      for (const bson::ElementView& e : v.Doc()) out->push_back(e.value);
    } else {
      out->push_back(v);
    }
    return;
  }
  if (v.type == BsonType::kDocument) {
    ValueView child;
    if (v.Doc().Find(path.part(i), &child)) GeoWalk(child, path, i + 1, out);
    return;
  }
  if (v.type == BsonType::kArray) {
    for (const bson::ElementView& e : v.Doc()) {
      if (e.value.type == BsonType::kDocument) GeoWalk(e.value, path, i, out);
    }
  }
}

// The S2 cell keys of the geometries at a 2dsphere field (16755 for values that are not
// valid geometries on the sphere).
// `*shapes` is set when some geometry is more than one point (keyed by several or by
// coarser cells): then queries must look for the ancestors of their cells too.
absl::Status GeoCells(const ValueView& root, const query::FieldPath& path, std::vector<int64_t>* cells,
                      bool* shapes) {
  std::vector<ValueView> values;
  GeoWalk(root, path, 0, &values);
  for (const ValueView& v : values) {
    if (v.type == BsonType::kNull || v.type == BsonType::kUndefined) continue;
    auto g = geo::Geometry::FromValue(v);
    std::string problem;
    if (!g.ok()) {
      problem = std::string(g.status().message());
    } else if (!g->has_value()) {
      problem = "Point must be an array or object";
    } else if (!(*g)->spherical()) {
      problem = StrCat("longitude/latitude is out of bounds, lng: ", (*g)->x(), " lat: ", (*g)->y());
    }
    if (!problem.empty()) {
      return MongoError(16755, StrCat("Can't extract geo keys: ", path.dotted(), ": ", problem));
    }
    std::vector<int64_t> keys = geo::CellKeys(**g);
    if (!geo::SingleLeafCell(**g)) *shapes = true;
    cells->insert(cells->end(), keys.begin(), keys.end());
  }
  std::sort(cells->begin(), cells->end());
  cells->erase(std::unique(cells->begin(), cells->end()), cells->end());
  return absl::OkStatus();
}

// The grid keys of the legacy points at a 2d field: a pair, or an array of pairs.
absl::Status GridCells(const ValueView& root, const query::FieldPath& path, const geo::Grid2d& grid,
                       std::vector<int64_t>* cells, bool* several) {
  std::vector<ValueView> values;
  GeoWalk(root, path, 0, &values);
  for (const ValueView& v : values) {
    if (v.type == BsonType::kNull || v.type == BsonType::kUndefined) continue;
    if ((v.type != BsonType::kArray && v.type != BsonType::kDocument) || !IsLegacyPair(v)) {
      return MongoError(16804, StrCat("geo values must be 'legacy coordinate pairs' for 2d indexes: ", path.dotted()));
    }
    auto xy = geo::ParseLegacyPair(v);
    if (!xy.ok()) return MongoError(16804, std::string(xy.status().message()));
    auto key = grid.Key(xy->first, xy->second);
    if (!key.ok()) return key.status();
    cells->push_back(*key);
  }
  *several = cells->size() > 1;
  std::sort(cells->begin(), cells->end());
  cells->erase(std::unique(cells->begin(), cells->end()), cells->end());
  return absl::OkStatus();
}

void AppendKey(const ValueView& v, const KeyField& f, const bson::Collator* collator, IndexKey* key,
               bson::Builder* values) {
  size_t start = key->encoded.size();
  if (f.kind == KeyKind::kHashed) {
    int64_t h = bson::HashValue(v);
    ValueView hv{BsonType::kInt64, reinterpret_cast<const char*>(&h), 8};
    bson::AppendKeyString(hv, &key->encoded);
    values->AppendInt64("", h);
    return;
  }
  bson::AppendKeyString(v, &key->encoded, collator);
  if (f.descending()) {
    for (size_t b = start; b < key->encoded.size(); ++b) key->encoded[b] = static_cast<char>(~key->encoded[b]);
  }
  values->AppendView("", v);
}

}  // namespace

std::string IndexSpec::DefaultName(DocView keys) {
  std::string name;
  for (const bson::ElementView& e : keys) {
    if (!name.empty()) name += "_";
    name += std::string(e.key) + "_";
    if (e.value.type == BsonType::kString) {
      name += std::string(e.value.String());
    } else {
      double d = e.value.AsDouble();
      name += d == static_cast<int64_t>(d) ? std::to_string(static_cast<int64_t>(d)) : std::to_string(d);
    }
  }
  return name;
}

absl::StatusOr<std::string> IndexSpec::Build(DocView keys, DocView options) {
  if (keys.empty()) return MongoError(kCannotCreateIndex, "Index keys cannot be empty.");
  std::optional<text::TextIndexDefinition> text;
  if (text::IsTextKeyPattern(keys)) {
    auto def = text::BuildTextIndex(keys, options);
    if (!def.ok()) return def.status();
    text = *std::move(def);
  }
  int hashed = 0, geo = 0, flat = 0;
  for (const bson::ElementView& e : keys) {
    if (text && ((e.value.type == BsonType::kString && e.value.String() == "text") || e.key == "_fts" ||
                 e.key == "_ftsx")) {
      continue;  // checked by BuildTextIndex
    }
    if (e.key.empty() || e.key.front() == '.' || e.key.back() == '.' ||
        e.key.find("..") != std::string_view::npos) {
      return MongoError(kCannotCreateIndex, StrCat("Index key contains an illegal field name: '", e.key, "'"));
    }
    if (e.key.front() == '$' || e.key.find(".$") != std::string_view::npos) {
      if (e.key == "$**" || e.key.ends_with(".$**")) {
        if (keys.CountElements() > 1) {
          return MongoError(kNotImplemented, "compound wildcard indexes are not supported yet");
        }
        if (!e.value.IsNumber() || e.value.AsDouble() <= 0) {
          return MongoError(kCannotCreateIndex, "A wildcard index's key must be ascending ({\"$**\": 1})");
        }
        continue;
      }
      return MongoError(kCannotCreateIndex, StrCat("Index key contains an illegal field name: field name starts "
                                                   "with '$'."));
    }
    if (e.value.type == BsonType::kString) {
      std::string_view t = e.value.String();
      if (t == "hashed") {
        ++hashed;
        continue;
      }
      if (t == "2dsphere") {
        ++geo;
        continue;
      }
      if (t == "2d") {
        if (flat > 0) return MongoError(16801, "can't have 2 geo fields");
        if (keys.begin()->key != e.key) return MongoError(16800, "2d has to be first in index");
        ++flat;
        continue;
      }
      if (IsUnsupportedType(t)) {
        return MongoError(kNotImplemented, StrCat("index type '", t, "' is not supported yet"));
      }
      return MongoError(kCannotCreateIndex, StrCat("Unknown index plugin '", t, "'"));
    }
    if (!e.value.IsNumber() || e.value.AsDouble() == 0 || std::isnan(e.value.AsDouble())) {
      return MongoError(kCannotCreateIndex, StrCat("Values in the index key pattern must be non-zero "
                                                   "numbers; '", e.key, "' is not"));
    }
  }
  if (hashed > 1) {
    return MongoError(31303, "A maximum of one index field is allowed to be hashed but found 2");
  }
  const bool wildcard = !text && keys.CountElements() == 1 &&
                        (keys.begin()->key == "$**" || keys.begin()->key.ends_with(".$**"));
  {
    ValueView projection;
    bool has_projection = options.Find("wildcardProjection", &projection);
    if (has_projection && !wildcard) {
      return MongoError(kCannotCreateIndex, "The field 'wildcardProjection' is only allowed in a wildcard index");
    }
    if (has_projection && (projection.type != BsonType::kDocument || projection.Doc().empty())) {
      return MongoError(kCannotCreateIndex, "The field 'wildcardProjection' must be a non-empty object");
    }
    if (wildcard) {
      for (const char* option : {"unique", "sparse", "expireAfterSeconds"}) {
        ValueView v;
        if (options.Find(option, &v) && !(v.type == BsonType::kBool && !v.Bool())) {
          return MongoError(kCannotCreateIndex, StrCat("Index type 'wildcard' does not support the '", option,
                                                       "' option"));
        }
      }
      static const char kEmpty[5] = {5, 0, 0, 0, 0};
      auto made = WildcardProjection::Make(keys.begin()->key,
                                           has_projection ? projection.Doc() : DocView(std::string_view(kEmpty, 5)));
      if (!made.ok()) return made.status();
    }
  }
  if (text && hashed > 0) return MongoError(kCannotCreateIndex, "a text index cannot have a hashed field");
  bson::Builder spec;
  spec.AppendInt32("v", 2);
  spec.AppendDocument("key", text ? DocView(text->key_pattern) : keys);
  std::string name = DefaultName(keys);
  ValueView name_v;
  if (options.Find("name", &name_v)) {
    if (name_v.type != BsonType::kString || name_v.String().empty()) {
      return MongoError(kBadValue, "index name must be a non-empty string");
    }
    name = std::string(name_v.String());
  }
  if (name == "_id_") return MongoError(kBadValue, "the index name _id_ is reserved for the _id index");
  spec.AppendString("name", name);
  bool unique = false;
  for (const bson::ElementView& e : options) {
    if (e.key == "name") continue;
    if (text && text::IsTextOption(e.key)) continue;  // appended below, validated
    if (text && e.key == "collation") {
      return MongoError(kCannotCreateIndex, "Index type 'text' does not support collation");
    }
    if (e.key == "unique" || e.key == "sparse" || e.key == "hidden" || e.key == "prepareUnique") {
      if (e.value.type != BsonType::kBool) {
        return MongoError(kTypeMismatch, StrCat("The field '", e.key, "' must be a boolean"));
      }
      if (e.key == "unique") unique = e.value.Bool();
      if (e.value.Bool()) spec.AppendBool(e.key, true);
    } else if (e.key == "partialFilterExpression") {
      if (e.value.type != BsonType::kDocument) {
        return MongoError(kTypeMismatch, "partialFilterExpression must be an object");
      }
      auto m = query::Matcher::Parse(std::string(e.value.Doc().bytes()));
      if (!m.ok()) return m.status();
      spec.AppendView(e.key, e.value);
    } else if (e.key == "expireAfterSeconds") {
      if (!e.value.IsNumber()) {
        return MongoError(kCannotCreateIndex, "TTL index 'expireAfterSeconds' option must be numeric");
      }
      double secs = e.value.AsDouble();
      if (std::isnan(secs) || secs < 0 || secs > 2147483647) {
        return MongoError(kInvalidOptions, "TTL index 'expireAfterSeconds' option must be within an acceptable "
                                           "range, try a lower number");
      }
      int key_count = 0;
      for (const auto& k : keys) {
        (void)k;
        ++key_count;
      }
      if (key_count > 1) {
        return MongoError(kCannotCreateIndex, "TTL indexes are single-field indexes, compound indexes do not "
                                              "support TTL");
      }
      spec.AppendInt64(e.key, static_cast<int64_t>(secs));
    } else if (e.key == "collation") {
      if (e.value.type != BsonType::kDocument) {
        return MongoError(kTypeMismatch, "The field 'collation' must be an object");
      }
      auto normalized = collation::Normalize(e.value.Doc());
      if (!normalized.ok()) return normalized.status();
      if (!normalized->empty()) spec.AppendDocument("collation", DocView(*normalized));
    } else if (e.key == "wildcardProjection") {
      spec.AppendView(e.key, e.value);  // checked above
    } else if ((e.key == "min" || e.key == "max" || e.key == "bits") && flat > 0) {
      if (!e.value.IsNumber() || std::isnan(e.value.AsDouble())) {
        return MongoError(kTypeMismatch, StrCat("The field '", e.key, "' must be a number"));
      }
      if (e.key == "bits" && !(e.value.AsDouble() >= 1 && e.value.AsDouble() <= 32)) {
        return MongoError(13028, "bits in geo index must be between 1 and 32");
      }
      spec.AppendView(e.key, e.value);
    } else if (e.key == "2dsphereIndexVersion" && geo > 0) {
      if (!e.value.IsNumber() || (e.value.AsDouble() != 1 && e.value.AsDouble() != 2 && e.value.AsDouble() != 3)) {
        return MongoError(kCannotCreateIndex, "unsupported geo index version { 2dsphereIndexVersion : ... }, only "
                                              "versions: [1,2,3] are supported");
      }
    } else if (e.key == "v" || e.key == "background" || e.key == "comment") {
      // Accepted as MongoDB does; they change nothing here.
    } else {
      return MongoError(kInvalidIndexSpecificationOption,
                        StrCat("The field '", e.key, "' is not valid for an index specification"));
    }
  }
  if (unique && hashed > 0) {
    return MongoError(16764, "Currently hashed indexes cannot guarantee uniqueness. Use a regular index.");
  }
  if (text) {
    for (const bson::ElementView& e : DocView(text->options)) spec.AppendView(e.key, e.value);
  }
  if (flat > 0) {
    ValueView lo, hi;
    double min = options.Find("min", &lo) && lo.IsNumber() ? lo.AsDouble() : -180;
    double max = options.Find("max", &hi) && hi.IsNumber() ? hi.AsDouble() : 180;
    if (!(min < max)) return MongoError(13067, "geo min must be less than max");
    if (text || hashed > 0 || geo > 0) {
      return MongoError(kCannotCreateIndex, "a 2d index cannot be text, hashed or 2dsphere too");
    }
  }
  if (geo > 0) {
    if (text || hashed > 0) return MongoError(kCannotCreateIndex, "a 2dsphere index cannot be text or hashed too");
    spec.AppendInt32("2dsphereIndexVersion", 3);
  }
  return std::move(spec).Finish();
}

absl::StatusOr<IndexSpec> IndexSpec::Parse(DocView spec) {
  IndexSpec s;
  ValueView key, name, flag, partial, ttl, collation;
  if (!spec.Find("key", &key) || key.type != BsonType::kDocument || !spec.Find("name", &name)) {
    return MongoError(kInternalError, "malformed stored index definition");
  }
  s.spec_ = std::string(spec.bytes());
  s.name_ = std::string(name.String());
  s.key_pattern_ = std::string(key.Doc().bytes());
  if (key.Doc().CountElements() == 1) {
    std::string_view k = key.Doc().begin()->key;
    if (k == "$**" || k.ends_with(".$**")) {
      ValueView projection;
      static const char kEmpty[5] = {5, 0, 0, 0, 0};
      DocView p = spec.Find("wildcardProjection", &projection) && projection.type == BsonType::kDocument
                      ? projection.Doc()
                      : DocView(std::string_view(kEmpty, 5));
      auto made = WildcardProjection::Make(k, p);
      if (!made.ok()) return made.status();
      s.wildcard_ = std::make_shared<const WildcardProjection>(*std::move(made));
    }
  }
  for (const bson::ElementView& e : key.Doc()) {
    KeyField f{query::FieldPath(e.key), KeyKind::kAscending};
    if (e.key == "_fts") {
      f.kind = KeyKind::kText;
    } else if (e.key == "_ftsx") {
      f.kind = KeyKind::kTextScore;
    } else if (e.value.type == BsonType::kString && e.value.String() == "hashed") {
      f.kind = KeyKind::kHashed;
    } else if (e.value.type == BsonType::kString && e.value.String() == "2dsphere") {
      f.kind = KeyKind::kGeo2dsphere;
      s.geo_ = true;
    } else if (e.value.type == BsonType::kString && e.value.String() == "2d") {
      f.kind = KeyKind::kGeo2d;
      s.geo_ = true;
      geo::Grid2d grid;
      ValueView v;
      if (spec.Find("min", &v) && v.IsNumber()) grid.min = v.AsDouble();
      if (spec.Find("max", &v) && v.IsNumber()) grid.max = v.AsDouble();
      if (spec.Find("bits", &v) && v.IsNumber()) grid.bits = static_cast<int>(v.AsDouble());
      s.grid_ = grid;
    } else if (e.value.IsNumber() && e.value.AsDouble() < 0) {
      f.kind = KeyKind::kDescending;
    }
    s.fields_.push_back(std::move(f));
  }
  if (text::IsTextKeyPattern(key.Doc())) {
    auto t = text::TextIndexSpec::Parse(spec);
    if (!t.ok()) return t.status();
    s.text_ = *std::move(t);
  }
  s.unique_ = spec.Find("unique", &flag) && flag.type == BsonType::kBool && flag.Bool();
  s.sparse_ = spec.Find("sparse", &flag) && flag.type == BsonType::kBool && flag.Bool();
  s.hidden_ = spec.Find("hidden", &flag) && flag.type == BsonType::kBool && flag.Bool();
  s.prepare_unique_ = spec.Find("prepareUnique", &flag) && flag.type == BsonType::kBool && flag.Bool();
  if (spec.Find("expireAfterSeconds", &ttl) && ttl.IsNumber()) {
    s.expire_after_seconds_ = static_cast<int64_t>(ttl.AsDouble());
  }
  if (spec.Find("partialFilterExpression", &partial)) {
    auto m = query::Matcher::Parse(std::string(partial.Doc().bytes()));
    if (!m.ok()) return m.status();
    s.partial_ = *std::move(m);
  }
  if (spec.Find("collation", &collation) && collation.type == BsonType::kDocument) {
    auto c = collation::Parse(collation.Doc());
    if (!c.ok()) return c.status();
    s.collator_ = *std::move(c);
  }
  return s;
}

bool IndexSpec::hashed() const {
  return std::any_of(fields_.begin(), fields_.end(), [](const KeyField& f) { return f.kind == KeyKind::kHashed; });
}

DocView IndexSpec::collation() const {
  ValueView c;
  if (spec().Find("collation", &c) && c.type == BsonType::kDocument) return c.Doc();
  static const char kEmpty[5] = {5, 0, 0, 0, 0};
  return DocView(std::string_view(kEmpty, 5));
}

absl::Status IndexSpec::Keys(DocView doc, std::vector<IndexKey>* out, uint64_t* multikey) const {
  out->clear();
  if (multikey != nullptr) *multikey = 0;
  if (partial_ != nullptr && !partial_->Matches(doc)) return absl::OkStatus();
  if (wildcard_ != nullptr) {
    std::vector<std::pair<std::string, ValueView>> leaves;
    bool arrays = false;
    wildcard_->Keys(doc, &leaves, &arrays);
    if (arrays && multikey != nullptr) *multikey = 1;
    std::set<std::string> seen;
    for (const auto& [path, value] : leaves) {
      // Laid out as {"$_path": 1, <path>: 1}: the path (never collated), then the value.
      IndexKey key;
      key.encoded = PathKeyString(path);
      bson::AppendKeyString(value, &key.encoded, collator_.get());
      if (!seen.insert(key.encoded).second) continue;
      bson::Builder kv;
      kv.AppendString("", path);
      kv.AppendView("", value);
      key.values = std::move(kv).Finish();
      out->push_back(std::move(key));
    }
    return absl::OkStatus();
  }
  if (text_ != nullptr) return TextKeys(doc, out);
  ValueView root{BsonType::kDocument, doc.data(), doc.size()};
  std::vector<FieldValues> per_field(fields_.size());
  bool any_present = false;
  const FieldValues* several = nullptr;  // a field with several values (its array)
  // A 2dsphere field's values are its cells (int64s kept here while the keys are made).
  std::vector<std::vector<int64_t>> cells(geo_ ? fields_.size() : 0);
  for (size_t i = 0; i < fields_.size(); ++i) {
    FieldValues& fv = per_field[i];
    if (fields_[i].kind == KeyKind::kGeo2dsphere || fields_[i].kind == KeyKind::kGeo2d) {
      bool shapes = false;
      auto s = fields_[i].kind == KeyKind::kGeo2d ? GridCells(root, fields_[i].path, *grid_, &cells[i], &shapes)
                                                  : GeoCells(root, fields_[i].path, &cells[i], &shapes);
      if (!s.ok()) return s;
      if (cells[i].empty()) {
        out->clear();
        return absl::OkStatus();  // no geometry: not in the index
      }
      for (const int64_t& c : cells[i]) {
        fv.values.push_back(ValueView{BsonType::kInt64, reinterpret_cast<const char*>(&c), 8});
      }
      // Marked multikey unless it is one point: then every document of the index has one
      // leaf cell there (no duplicates to drop, no coarser cells to look for).
      if ((shapes || cells[i].size() > 1) && multikey != nullptr) *multikey |= uint64_t{1} << std::min<size_t>(i, 63);
      any_present = true;
      continue;  // cells combine with any other field's values
    }
    Walk(root, fields_[i].path, 0, &fv);
    if (fv.values.empty()) fv.values.push_back(kMissing);
    for (const ValueView& v : fv.values) {
      if (v.data != kMissingBytes) any_present = true;
    }
    if (fv.multikey) {
      if (fields_[i].kind == KeyKind::kHashed) {
        return MongoError(16766, "Error: hashed indexes do not currently support array values");
      }
      if (multikey != nullptr) *multikey |= uint64_t{1} << std::min<size_t>(i, 63);
    }
    if (fv.values.size() > 1) {
      if (several != nullptr) {
        // Several values in two fields: combined only when they come from the same array.
        const query::FieldPath& a = fields_[several - per_field.data()].path;
        const query::FieldPath& b = fields_[i].path;
        bool same = several->array_at == fv.array_at && several->array_at < a.size() && fv.array_at < b.size();
        for (size_t k = 0; same && k < fv.array_at; ++k) same = a.part(k) == b.part(k);
        if (!same) {
          return MongoError(kCannotIndexParallelArrays,
                            StrCat("cannot index parallel arrays [", b.part(std::min(fv.array_at, b.size() - 1)),
                                   "] [", a.part(std::min(several->array_at, a.size() - 1)), "]"));
        }
      } else {
        several = &fv;
      }
    }
  }
  if (sparse_ && !any_present) return absl::OkStatus();
  // Every combination of the fields' values (one per field), without repeats.
  std::vector<size_t> at(fields_.size(), 0);
  std::set<std::string> seen;
  while (true) {
    IndexKey key;
    bson::Builder values;
    for (size_t i = 0; i < fields_.size(); ++i) {
      AppendKey(per_field[i].values[at[i]], fields_[i], collator_.get(), &key, &values);
    }
    if (seen.insert(key.encoded).second) {
      key.values = std::move(values).Finish();
      out->push_back(std::move(key));
    }
    size_t i = fields_.size();
    while (i > 0) {
      --i;
      if (++at[i] < per_field[i].values.size()) break;
      at[i] = 0;
      if (i == 0) return absl::OkStatus();
    }
    if (fields_.empty()) return absl::OkStatus();
  }
}

absl::Status IndexSpec::TextKeys(DocView doc, std::vector<IndexKey>* out) const {
  // The prefix and suffix fields' one value each (arrays refused, as MongoDB does).
  ValueView root{BsonType::kDocument, doc.data(), doc.size()};
  std::vector<ValueView> extra(fields_.size());
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].kind == KeyKind::kText || fields_[i].kind == KeyKind::kTextScore) continue;
    FieldValues fv;
    Walk(root, fields_[i].path, 0, &fv);
    if (fv.multikey || fv.values.size() > 1) {
      return MongoError(16675, "cannot have a multi-key as a prefix to a text index");
    }
    extra[i] = fv.values.empty() ? bson::kNullValue : fv.values[0];
  }
  // Sized for a short document's terms at once: grown from empty, the map rehashed its
  // strings three or four times per document.
  absl::flat_hash_map<std::string, double> scores;
  scores.reserve(32);
  if (auto s = text_->ScoreDocument(doc, &scores); !s.ok()) return s;
  out->reserve(scores.size());
  std::string term_value;  // a BSON string value: int32 length, bytes, NUL
  for (const auto& [term, score] : scores) {
    IndexKey key;
    key.encoded.reserve(32 + term.size());
    bson::Builder values;
    values.Reserve(32 + term.size());
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].kind == KeyKind::kText) {
        // Terms are never collated: the index holds them as the tokenizer made them.
        uint32_t n = static_cast<uint32_t>(term.size() + 1);
        term_value.assign({static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16),
                           static_cast<char>(n >> 24)});
        term_value.append(term);
        term_value.push_back('\0');
        bson::AppendKeyString(ValueView{BsonType::kString, term_value.data(), static_cast<uint32_t>(term_value.size())},
                              &key.encoded);
        values.AppendString("", term);
      } else if (fields_[i].kind == KeyKind::kTextScore) {
        ValueView v{BsonType::kDouble, reinterpret_cast<const char*>(&score), 8};
        bson::AppendKeyString(v, &key.encoded);
        values.AppendDouble("", score);
      } else {
        AppendKey(extra[i], fields_[i], collator_.get(), &key, &values);
      }
    }
    key.values = std::move(values).Finish();
    out->push_back(std::move(key));
  }
  return absl::OkStatus();
}

std::string IndexSpec::KeyValueDocument(const IndexKey& key) const {
  bson::Builder b;
  DocView values(key.values);
  auto v = values.begin();
  for (const bson::ElementView& e : key_pattern()) {
    if (v == values.end()) break;
    b.AppendView(e.key, v->value);
    ++v;
  }
  return std::move(b).Finish();
}

std::string EntryValue(const IndexKey& key, std::string_view id_keystring) {
  std::string value;
  value.reserve(EntryValueSize(key, id_keystring));
  value.append(key.values);
  value.append(id_keystring);
  return value;
}

size_t EntryValueSize(const IndexKey& key, std::string_view id_keystring) {
  return key.values.size() + id_keystring.size();
}

bson::DocView EntryKeyValues(std::string_view entry_value) {
  uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(entry_value[0])) |
               static_cast<uint32_t>(static_cast<unsigned char>(entry_value[1])) << 8 |
               static_cast<uint32_t>(static_cast<unsigned char>(entry_value[2])) << 16 |
               static_cast<uint32_t>(static_cast<unsigned char>(entry_value[3])) << 24;
  return DocView(entry_value.substr(0, n));
}

std::string_view EntryRecordId(std::string_view entry_value) {
  return entry_value.substr(EntryKeyValues(entry_value).size());
}

}  // namespace micromongo::index
