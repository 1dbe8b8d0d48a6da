#include "planner/index_bounds.h"

#include "geo/cells.h"
#include "geo/grid.h"

#include <string>

#include "document/builder.h"
#include "document/hash.h"
#include "document/json.h"
#include "document/key_string.h"

namespace micromongo::planner {
namespace {

using bson::ValueView;
using query::MatchExpression;
using query::MatchKind;

std::string Text(const ValueView& v) {
  if (v.type == BsonType::kRegex) {
    std::string_view pattern(v.data);
    std::string_view options(v.data + pattern.size() + 1);
    return "/" + std::string(pattern) + "/" + std::string(options);
  }
  bson::Builder b;
  b.AppendView("", v);
  std::string json = bson::BsonToJson(std::move(b).Finish());
  // {"": <value>}
  size_t start = json.find(':');
  return json.substr(start + 2, json.size() - start - 3);
}

bool HasStrings(const ValueView& v) {
  if (v.type == BsonType::kString || v.type == BsonType::kSymbol) return true;
  if (v.type == BsonType::kDocument || v.type == BsonType::kArray) {
    for (const bson::ElementView& e : v.Doc()) {
      if (HasStrings(e.value)) return true;
    }
  }
  return false;
}

// The ends explain shows for a type bracket (MongoDB's notation where it has one).
void BracketTexts(BsonType type, std::string* lo, std::string* hi) {
  switch (type) {
    case BsonType::kDouble:
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kDecimal128:
      *lo = "-inf.0", *hi = "inf.0";
      return;
    case BsonType::kString:
    case BsonType::kSymbol:
      *lo = "\"\"", *hi = "{}";
      return;
    case BsonType::kDocument:
      *lo = "{}", *hi = "[]";
      return;
    case BsonType::kArray:
      *lo = "[]", *hi = "BinData(0, )";
      return;
    case BsonType::kDate:
      *lo = "new Date(-9223372036854775808)", *hi = "new Date(9223372036854775807)";
      return;
    case BsonType::kObjectId:
      *lo = "ObjectId('000000000000000000000000')", *hi = "ObjectId('ffffffffffffffffffffffff')";
      return;
    case BsonType::kBool:
      *lo = "false", *hi = "true";
      return;
    default:
      *lo = "MinKey", *hi = "MaxKey";
  }
}

Interval Bracket(BsonType type) {
  Interval i;
  bson::TypeBracket(type, &i.lo, &i.hi);
  i.hi_inclusive = false;
  BracketTexts(type, &i.lo_text, &i.hi_text);
  return i;
}

class Builder {
 public:
  Builder(const index::IndexSpec& spec, size_t field, bool collation_matches)
      : spec_(spec), field_(field), hashed_(spec.fields()[field].kind == index::KeyKind::kHashed),
        collation_matches_(collation_matches) {}

  std::optional<IntervalList> Of(const MatchExpression& pred) {
    if (spec_.fields()[field_].kind == index::KeyKind::kGeo2dsphere) {
      // Cells bound only the geo predicates on the sphere.
      if (pred.kind() != MatchKind::kGeo) return std::nullopt;
      const geo::GeoPredicate& p = static_cast<const query::GeoMatch&>(pred).predicate();
      if (!p.spherical()) return std::nullopt;
      return CellIntervals(geo::PredicateRanges(p));
    }
    if (spec_.fields()[field_].kind == index::KeyKind::kGeo2d) {
      // Grid cells bound the geo predicates with a plane bounding box.
      if (pred.kind() != MatchKind::kGeo) return std::nullopt;
      const geo::GeoPredicate& p = static_cast<const query::GeoMatch&>(pred).predicate();
      double min_x, min_y, max_x, max_y;
      if (!p.FlatBounds(&min_x, &min_y, &max_x, &max_y)) return std::nullopt;
      return CellIntervals(spec_.grid()->BoxRanges(min_x, min_y, max_x, max_y));
    }
    if (pred.kind() == MatchKind::kGeo || pred.kind() == MatchKind::kGeoNear) return std::nullopt;
    if (spec_.fields()[field_].opaque() && !hashed_) return std::nullopt;
    switch (pred.kind()) {
      case MatchKind::kComparison: {
        const auto& c = static_cast<const query::ComparisonMatch&>(pred);
        if (c.op() == query::CompareOp::kEq) return Equality(c.operand());
        return Range(c.op(), c.operand());
      }
      case MatchKind::kIn: return In(static_cast<const query::InMatch&>(pred));
      case MatchKind::kRegex: return Regex(static_cast<const query::RegexMatch&>(pred));
      case MatchKind::kType: return Type(static_cast<const query::TypeMatch&>(pred));
      case MatchKind::kElemMatch: {
        const auto& em = static_cast<const query::ElemMatch&>(pred);
        if (!em.value_form()) return std::nullopt;
        return AllOf(em.inner());
      }
      case MatchKind::kNot: return Not(*pred.child(0));
      default: return std::nullopt;
    }
  }

 private:
  // The intersection of what an $elemMatch value form's operators allow.
  std::optional<IntervalList> AllOf(const MatchExpression& inner) {
    if (inner.kind() != MatchKind::kAnd) return Of(inner);
    std::optional<IntervalList> out;
    for (size_t i = 0; i < inner.num_children(); ++i) {
      auto b = Of(*inner.child(i));
      if (!b) continue;
      out = out ? Intersect(*out, *b) : *std::move(b);
    }
    return out;
  }

  bool Usable(const ValueView& v) const { return collation_matches_ || !HasStrings(v); }

  Interval Point(const ValueView& v) const { return PointInterval(FieldKey(v, spec_, field_), Text(v)); }

  std::optional<IntervalList> Equality(const ValueView& v) {
    if (!Usable(v)) return std::nullopt;
    if (hashed_) {
      if (v.type == BsonType::kArray) return std::nullopt;
      return IntervalList{Point(v)};
    }
    if (v.type == BsonType::kArray) {
      // The array itself (an element that is this array, or the whole value when it is not
      // indexed element-wise) or, for a multikey document, its first element's key;
      // an empty array is indexed as undefined.
      IntervalList list{Point(v)};
      auto first = v.Doc().begin();
      if (first == v.Doc().end()) {
        static const char kNone[1] = {};
        list.push_back(PointInterval(FieldKey(ValueView{BsonType::kUndefined, kNone, 0}, spec_, field_),
                                     "undefined"));
      } else {
        list.push_back(Point(first->value));
      }
      return Normalize(std::move(list));
    }
    return IntervalList{Point(v)};
  }

  std::optional<IntervalList> Range(query::CompareOp op, const ValueView& v) {
    if (hashed_ || !Usable(v)) return std::nullopt;
    switch (v.type) {
      case BsonType::kNull:
        if (op == query::CompareOp::kGte || op == query::CompareOp::kLte) return IntervalList{Point(v)};
        return std::nullopt;
      case BsonType::kArray:
      case BsonType::kMinKey:
      case BsonType::kMaxKey:
      case BsonType::kUndefined:
        return std::nullopt;
      default:
        break;
    }
    Interval i = Bracket(v.type);
    std::string key = FieldKey(v, spec_, field_);
    if (op == query::CompareOp::kGt || op == query::CompareOp::kGte) {
      i.lo = key;
      i.lo_inclusive = op == query::CompareOp::kGte;
      i.lo_text = Text(v);
      if (v.IsNumber()) i.hi_inclusive = true;  // shown as MongoDB does: (5, inf.0]
    } else {
      i.hi = key;
      i.hi_inclusive = op == query::CompareOp::kLte;
      i.hi_text = Text(v);
    }
    return IntervalList{i};
  }

  std::optional<IntervalList> In(const query::InMatch& in) {
    IntervalList list;
    for (const ValueView& v : in.operands()) {
      auto b = Equality(v);
      if (!b) return std::nullopt;
      list.insert(list.end(), b->begin(), b->end());
    }
    for (const auto& r : in.regexes()) {
      auto b = Regex(*r);
      if (!b) return std::nullopt;
      list.insert(list.end(), b->begin(), b->end());
    }
    if (list.empty()) return IntervalList{};  // $in: [] matches nothing
    return Normalize(std::move(list));
  }

  std::optional<IntervalList> Regex(const query::RegexMatch& r) {
    if (hashed_) return std::nullopt;
    IntervalList list;
    std::string prefix = collation_matches_ && spec_.collator() == nullptr ? LiteralPrefix(r) : "";
    if (!prefix.empty()) {
      Interval i;
      // Key strings of strings start with the type byte and the escaped bytes: every
      // string beginning with `prefix` has a key beginning with them.
      std::string bracket_lo, bracket_hi;
      bson::TypeBracket(BsonType::kString, &bracket_lo, &bracket_hi);
      i.lo = bracket_lo;
      for (char c : prefix) {
        i.lo.push_back(c);
        if (c == 0) i.lo.push_back(static_cast<char>(0xFF));
      }
      i.hi = i.lo;
      while (!i.hi.empty() && static_cast<unsigned char>(i.hi.back()) == 0xFF) i.hi.pop_back();
      i.hi.back() = static_cast<char>(static_cast<unsigned char>(i.hi.back()) + 1);
      i.hi_inclusive = false;
      std::string quoted;
      bson::AppendJsonString(prefix, &quoted);
      i.lo_text = quoted;
      std::string next = prefix;
      next.back() = static_cast<char>(static_cast<unsigned char>(next.back()) + 1);
      std::string quoted_next;
      bson::AppendJsonString(next, &quoted_next);
      i.hi_text = quoted_next;
      list.push_back(std::move(i));
    } else {
      list.push_back(Bracket(BsonType::kString));
    }
    // Regex values with this very pattern and options match too.
    std::string regex = r.pattern();
    regex.push_back('\0');
    regex += r.options();
    regex.push_back('\0');
    ValueView rv{BsonType::kRegex, regex.data(), static_cast<uint32_t>(regex.size())};
    list.push_back(Point(rv));
    return Normalize(std::move(list));
  }

  // The literal text every match must start with: /^abc/ and /^abc.*/ give "abc"; none
  // for case-insensitive, extended or multiline patterns, and alternations.
  static std::string LiteralPrefix(const query::RegexMatch& r) {
    const std::string& p = r.pattern();
    if (r.options().find_first_of("imx") != std::string::npos) return "";
    if (p.find('|') != std::string::npos) return "";
    size_t i = 0;
    if (p.rfind("^", 0) == 0) {
      i = 1;
    } else if (p.rfind("\\A", 0) == 0) {
      i = 2;
    } else {
      return "";
    }
    std::string prefix;
    for (; i < p.size(); ++i) {
      char c = p[i];
      if (std::string_view(".*+?()[]{}|\\$^").find(c) != std::string_view::npos) break;
      prefix.push_back(c);
    }
    // A quantifier applies to the last literal, which may then be absent or repeated.
    if (i < p.size() && (p[i] == '*' || p[i] == '?' || p[i] == '{') && !prefix.empty()) prefix.pop_back();
    // Multibyte characters: a quantified last character could be cut mid-sequence.
    while (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0x80)) prefix.pop_back();
    return prefix;
  }

  std::optional<IntervalList> Type(const query::TypeMatch& t) {
    if (hashed_) return std::nullopt;
    IntervalList list;
    if (t.number()) list.push_back(Bracket(BsonType::kDouble));
    for (BsonType type : t.types()) {
      if (type == BsonType::kArray) return std::nullopt;  // arrays are indexed by element
      if (type == BsonType::kNull) {
        static const char kNone[1] = {};
        list.push_back(Point(ValueView{BsonType::kNull, kNone, 0}));
        continue;
      }
      if (type == BsonType::kMinKey || type == BsonType::kMaxKey || type == BsonType::kUndefined) {
        static const char kNone[1] = {};
        list.push_back(Point(ValueView{type, kNone, 0}));
        continue;
      }
      list.push_back(Bracket(type));
    }
    return Normalize(std::move(list));
  }

  // $ne and $nin of scalars: everything but their points.
  std::optional<IntervalList> Not(const MatchExpression& inner) {
    if (hashed_) return std::nullopt;
    IntervalList points;
    auto take = [&](const ValueView& v) {
      switch (v.type) {
        case BsonType::kNull:
        case BsonType::kUndefined:
        case BsonType::kArray:
        case BsonType::kDocument:
        case BsonType::kRegex:
        case BsonType::kMinKey:
        case BsonType::kMaxKey:
          return false;
        default:
          if (!Usable(v)) return false;
          points.push_back(Point(v));
          return true;
      }
    };
    if (inner.kind() == MatchKind::kComparison) {
      const auto& c = static_cast<const query::ComparisonMatch&>(inner);
      if (c.op() != query::CompareOp::kEq || !take(c.operand())) return std::nullopt;
    } else if (inner.kind() == MatchKind::kIn) {
      const auto& in = static_cast<const query::InMatch&>(inner);
      if (!in.regexes().empty()) return std::nullopt;
      for (const ValueView& v : in.operands()) {
        if (!take(v)) return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
    points = Normalize(std::move(points));
    IntervalList out;
    Interval current = FullInterval();
    for (const Interval& p : points) {
      Interval below = current;
      below.hi = p.lo;
      below.hi_inclusive = false;
      below.hi_text = p.lo_text;
      out.push_back(std::move(below));
      current.lo = p.hi;
      current.lo_inclusive = false;
      current.lo_text = p.hi_text;
    }
    out.push_back(std::move(current));
    return Normalize(std::move(out));
  }

  const index::IndexSpec& spec_;
  size_t field_;
  bool hashed_;
  bool collation_matches_;
};

}  // namespace

bool SameCollation(const bson::Collator* index, const bson::Collator* query) {
  if (index == nullptr || query == nullptr) return index == query;
  return index == query || (!index->spec().empty() && index->spec() == query->spec());
}

IntervalList CellIntervals(const std::vector<std::pair<int64_t, int64_t>>& ranges) {
  IntervalList out;
  for (const auto& [lo, hi] : ranges) {
    Interval iv;
    bson::AppendKeyString(ValueView{BsonType::kInt64, reinterpret_cast<const char*>(&lo), 8}, &iv.lo);
    bson::AppendKeyString(ValueView{BsonType::kInt64, reinterpret_cast<const char*>(&hi), 8}, &iv.hi);
    iv.lo_text = std::to_string(lo);
    iv.hi_text = std::to_string(hi);
    out.push_back(std::move(iv));
  }
  return out;
}

std::string FieldKey(const ValueView& v, const index::IndexSpec& spec, size_t field) {
  std::string key;
  if (spec.fields()[field].kind == index::KeyKind::kHashed) {
    int64_t h = bson::HashValue(v);
    bson::AppendKeyString(ValueView{BsonType::kInt64, reinterpret_cast<const char*>(&h), 8}, &key);
  } else {
    bson::AppendKeyString(v, &key, spec.collator());
  }
  return key;
}

std::optional<IntervalList> PredicateBounds(const MatchExpression& pred, const index::IndexSpec& spec, size_t field,
                                            bool collation_matches) {
  return Builder(spec, field, collation_matches).Of(pred);
}

}  // namespace micromongo::planner
