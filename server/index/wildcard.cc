#include "index/wildcard.h"

#include "document/key_string.h"
#include "document/status.h"

namespace micromongo::index {
namespace {

// `prefix` is `path` or a dotted ancestor of it.
bool PathPrefix(std::string_view prefix, std::string_view path) {
  return path == prefix || (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '.');
}

bool IsId(std::string_view path) { return PathPrefix("_id", path); }

}  // namespace

std::string PathKeyString(std::string_view path) {
  // A BSON string value: int32 length (with the NUL), bytes, NUL.
  std::string value(4, '\0');
  uint32_t n = static_cast<uint32_t>(path.size() + 1);
  for (int i = 0; i < 4; ++i) value[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  value.append(path);
  value.push_back('\0');
  std::string key;
  bson::AppendKeyString(bson::ValueView{BsonType::kString, value.data(), static_cast<uint32_t>(value.size())}, &key);
  return key;
}

absl::StatusOr<WildcardProjection> WildcardProjection::Make(std::string_view key_field, bson::DocView projection) {
  WildcardProjection p;
  if (key_field != "$**") {
    if (!projection.empty()) {
      return MongoError(kCannotCreateIndex,
                        "The field 'wildcardProjection' is only allowed in an index with a key of '$**'");
    }
    p.inclusion_ = true;
    p.paths_.emplace_back(key_field.substr(0, key_field.size() - 4));  // "a.b.$**" -> "a.b"
    return p;
  }
  bool any_include = false, any_exclude = false;
  for (const bson::ElementView& e : projection) {
    bool on = e.value.type == BsonType::kBool ? e.value.Bool() : e.value.IsNumber() && e.value.AsDouble() != 0;
    if (!e.value.IsNumber() && e.value.type != BsonType::kBool) {
      return MongoError(kCannotCreateIndex, "wildcardProjection values must be 1 (include) or 0 (exclude)");
    }
    if (e.key.empty() || e.key.front() == '$') {
      return MongoError(kCannotCreateIndex, StrCat("wildcardProjection cannot name the field '", e.key, "'"));
    }
    if (e.key == "_id") {
      p.include_id_ = on;
      continue;
    }
    if (on) {
      if (any_exclude) return MongoError(31254, StrCat("Cannot do inclusion on field ", e.key, " in exclusion projection"));
      any_include = true;
    } else {
      if (any_include) return MongoError(31253, StrCat("Cannot do exclusion on field ", e.key, " in inclusion projection"));
      any_exclude = true;
    }
    p.paths_.emplace_back(e.key);
  }
  p.inclusion_ = any_include;
  return p;
}

WildcardProjection::Decision WildcardProjection::Decide(std::string_view path) const {
  if (IsId(path)) return include_id_ ? Decision::kInclude : Decision::kExclude;
  if (paths_.empty()) return Decision::kInclude;
  bool deeper = false;  // the projection names a path below this one
  for (const std::string& p : paths_) {
    if (PathPrefix(p, path)) return inclusion_ ? Decision::kInclude : Decision::kExclude;
    if (PathPrefix(path, p)) deeper = true;
  }
  if (deeper) return Decision::kDescend;
  return inclusion_ ? Decision::kExclude : Decision::kInclude;
}

bool WildcardProjection::Covers(std::string_view path) const {
  // Every key of the path must be in the index: the path is included whole (itself or an
  // ancestor named by an inclusion), and no exclusion removes a part below it.
  if (Decide(path) != Decision::kInclude) return false;
  if (!inclusion_) {
    for (const std::string& e : paths_) {
      if (PathPrefix(path, e)) return false;
    }
  }
  return true;
}

void WildcardProjection::Keys(bson::DocView doc, std::vector<std::pair<std::string, bson::ValueView>>* out,
                              bool* multikey) const {
  out->clear();
  *multikey = false;
  std::string path;
  Traverse(doc, /*in_array=*/false, &path, Decision::kDescend, out, multikey);
}

void WildcardProjection::Traverse(bson::DocView obj, bool in_array, std::string* path, Decision parent,
                                  std::vector<std::pair<std::string, bson::ValueView>>* out, bool* multikey) const {
  static const char kNone[1] = {};
  for (const bson::ElementView& e : obj) {
    // A field name with a dot is not queryable: MongoDB skips it.
    if (!in_array && e.key.find('.') != std::string_view::npos) continue;
    size_t len = path->size();
    if (!in_array) {
      if (!path->empty()) path->push_back('.');
      path->append(e.key);
    }
    Decision d = parent == Decision::kInclude || in_array ? parent : Decide(*path);
    if (d != Decision::kExclude) {
      switch (e.value.type) {
        case BsonType::kArray:
          if (in_array) {  // a nested array is a value
            out->emplace_back(*path, e.value);
            break;
          }
          *multikey = true;
          if (e.value.Doc().empty()) {
            out->emplace_back(*path, bson::ValueView{BsonType::kUndefined, kNone, 0});
          } else {
            Traverse(e.value.Doc(), /*in_array=*/true, path, d, out, multikey);
          }
          break;
        case BsonType::kDocument:
          if (e.value.Doc().empty()) {
            out->emplace_back(*path, e.value);
          } else {
            Traverse(e.value.Doc(), /*in_array=*/false, path, d, out, multikey);
          }
          break;
        default:
          // Below an included path's ancestor, an inclusion projection drops scalars.
          if (!(d == Decision::kDescend && inclusion_)) out->emplace_back(*path, e.value);
      }
    }
    path->resize(len);
  }
}

}  // namespace micromongo::index
