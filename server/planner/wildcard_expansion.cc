#include "planner/wildcard_expansion.h"

#include <map>
#include <mutex>
#include <set>

#include "document/builder.h"

namespace micromongo::planner {
namespace {

using query::MatchExpression;
using query::MatchKind;

bool HasNumericComponent(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string::npos) dot = path.size();
    bool digits = dot > start;
    for (size_t i = start; i < dot; ++i) digits = digits && path[i] >= '0' && path[i] <= '9';
    if (digits) return true;
    start = dot + 1;
  }
  return false;
}

void TopLevelPaths(const MatchExpression* e, std::set<std::string>* out) {
  if (e == nullptr) return;
  if (e->kind() == MatchKind::kAnd) {
    for (size_t i = 0; i < e->num_children(); ++i) TopLevelPaths(e->child(i), out);
    return;
  }
  if (e->kind() == MatchKind::kOr || e->kind() == MatchKind::kNot || e->kind() == MatchKind::kExpr ||
      e->kind() == MatchKind::kJsonSchema) {
    return;
  }
  out->insert(static_cast<const query::PathMatchExpression&>(*e).path().dotted());
}

// The two-field spec of one path, built once per (index document, path).
std::shared_ptr<const index::IndexSpec> PathSpec(const index::IndexSpec& wildcard, const std::string& path) {
  static std::mutex mu;
  static std::map<std::pair<std::string, std::string>, std::shared_ptr<const index::IndexSpec>> cache;
  std::pair<std::string, std::string> key{std::string(wildcard.spec().bytes()), path};
  std::lock_guard<std::mutex> l(mu);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  bson::Builder b;
  for (const bson::ElementView& e : wildcard.spec()) {
    if (e.key == "key") {
      bson::Builder k;
      k.AppendInt32("$_path", 1);
      k.AppendInt32(path, 1);
      b.AppendDocument("key", bson::DocView(std::move(k).Finish()));
    } else if (e.key != "wildcardProjection") {
      b.AppendView(e.key, e.value);
    }
  }
  auto parsed = index::IndexSpec::Parse(bson::DocView(std::move(b).Finish()));
  if (!parsed.ok()) return nullptr;
  if (cache.size() > 4096) cache.clear();  // bounded: shapes come and go
  auto spec = std::make_shared<const index::IndexSpec>(*std::move(parsed));
  cache.emplace(std::move(key), spec);
  return spec;
}

bool ScalarOperand(const bson::ValueView& v) {
  switch (v.type) {
    case BsonType::kDocument:
    case BsonType::kArray:
    case BsonType::kNull:
    case BsonType::kUndefined:
    case BsonType::kMinKey:
    case BsonType::kMaxKey:
      return false;
    default:
      return true;
  }
}

}  // namespace

bool WildcardCompatible(const MatchExpression& e) {
  switch (e.kind()) {
    case MatchKind::kComparison: {
      const auto& c = static_cast<const query::ComparisonMatch&>(e);
      return !c.MatchesMissing() && ScalarOperand(c.operand());
    }
    case MatchKind::kIn: {
      const auto& in = static_cast<const query::InMatch&>(e);
      if (in.MatchesMissing()) return false;
      for (const bson::ValueView& v : in.operands()) {
        if (!ScalarOperand(v)) return false;
      }
      return true;
    }
    case MatchKind::kRegex:
      return true;
    default:
      return false;
  }
}

std::vector<IndexEntry> ExpandWildcard(const IndexEntry& wildcard, const MatchExpression* filter,
                                       const std::string& sort) {
  std::set<std::string> paths;
  TopLevelPaths(filter, &paths);
  if (!sort.empty()) {
    for (const bson::ElementView& e : bson::DocView(sort)) paths.insert(std::string(e.key));
  }
  std::vector<IndexEntry> out;
  const index::WildcardProjection* projection = wildcard.spec->wildcard_projection();
  for (const std::string& path : paths) {
    if (path.empty() || path.front() == '$' || HasNumericComponent(path) || !projection->Covers(path)) continue;
    auto spec = PathSpec(*wildcard.spec, path);
    if (spec == nullptr) continue;
    IndexEntry e;
    e.id = wildcard.id;
    e.name = wildcard.name;
    e.spec = std::move(spec);
    // Multikey is known for the whole index: every path's field counts as multikey then.
    e.multikey_fields = wildcard.multikey() ? 0b10 : 0;
    e.wildcard_path = path;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace micromongo::planner
