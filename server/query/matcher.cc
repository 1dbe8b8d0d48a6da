#include "query/matcher.h"

#include <cmath>
#include <optional>

#include "document/builder.h"
#include "document/status.h"
#include "query/json_schema.h"

namespace micromongo::query {
namespace {

using bson::DocView;
using bson::ElementView;
using bson::ValueView;
using ExprPtr = std::unique_ptr<MatchExpression>;

// Where the parser is: how deep in the filter, and what $expr's expressions may refer to.
struct Nesting {
  int depth = 0;
  const pipeline::ParseContext* expr_context = nullptr;
  // Where $text may not appear (under $nor or $elemMatch): that operator's name, else empty.
  std::string_view text_forbidden_in;
  int* text_count = nullptr;  // the $text expressions parsed so far
  int* near_count = nullptr;  // the $near / $nearSphere expressions parsed so far
  Nesting Deeper() const { return {depth + 1, expr_context, text_forbidden_in, text_count, near_count}; }
  Nesting Within(std::string_view op) const { return {depth + 1, expr_context, op, text_count, near_count}; }
};

absl::StatusOr<ExprPtr> ParseDocument(DocView filter, Nesting nesting);

absl::Status BadValue(std::string_view message) { return MongoError(kBadValue, message); }

// $text's operand (MongoDB's codes and messages).
absl::StatusOr<ExprPtr> ParseText(const ValueView& operand, Nesting nesting) {
  if (!nesting.text_forbidden_in.empty()) {
    return BadValue(StrCat("$text is not allowed in ", nesting.text_forbidden_in));
  }
  if (nesting.text_count != nullptr && ++*nesting.text_count > 1) {
    return BadValue("Too many text expressions");
  }
  if (operand.type != BsonType::kDocument) return MongoError(kTypeMismatch, "$text expects an object");
  DocView d = operand.Doc();
  ValueView search, language, case_sensitive, diacritic_sensitive;
  int expected = 1;
  if (!d.Find("$search", &search) || search.type != BsonType::kString) {
    return MongoError(kTypeMismatch, "$search requires a string value");
  }
  std::string language_name;
  if (d.Find("$language", &language)) {
    ++expected;
    if (language.type != BsonType::kString) return MongoError(kTypeMismatch, "$language requires a string value");
    language_name = std::string(language.String());
  }
  bool cs = false, ds = false;
  if (d.Find("$caseSensitive", &case_sensitive)) {
    ++expected;
    if (case_sensitive.type != BsonType::kBool) {
      return MongoError(kTypeMismatch, "$caseSensitive requires a boolean value");
    }
    cs = case_sensitive.Bool();
  }
  if (d.Find("$diacriticSensitive", &diacritic_sensitive)) {
    ++expected;
    if (diacritic_sensitive.type != BsonType::kBool) {
      return MongoError(kTypeMismatch, "$diacriticSensitive requires a boolean value");
    }
    ds = diacritic_sensitive.Bool();
  }
  if (static_cast<int>(d.CountElements()) != expected) return BadValue("extra fields in $text");
  return ExprPtr(std::make_unique<TextMatch>(std::string(search.String()), std::move(language_name), cs, ds));
}


bool IsOperatorObject(const ValueView& v) {
  if (v.type != BsonType::kDocument) return false;
  DocView d = v.Doc();
  return !d.empty() && !(*d.begin()).key.empty() && (*d.begin()).key[0] == '$';
}

absl::StatusOr<ExprPtr> ParseOperators(const FieldPath& path, DocView ops, Nesting nesting);

// The number as an int64 if it is integral (any numeric type).
std::optional<int64_t> ExactInteger(const ValueView& v) {
  switch (v.type) {
    case BsonType::kInt32: return v.Int32();
    case BsonType::kInt64: return v.Int64();
    case BsonType::kDouble:
    case BsonType::kDecimal128: {
      double d = v.AsDouble();
      if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) >= 9.2e18) return std::nullopt;
      return static_cast<int64_t>(d);
    }
    default: return std::nullopt;
  }
}

absl::StatusOr<std::unique_ptr<RegexMatch>> RegexFromValue(const FieldPath& path,
                                                           const ValueView& v) {
  std::string_view pattern(v.data);
  return RegexMatch::Make(path, pattern, std::string_view(v.data + pattern.size() + 1));
}

absl::StatusOr<ExprPtr> ParseType(const FieldPath& path, const ValueView& operand) {
  std::vector<BsonType> types;
  bool number = false;
  auto add = [&](const ValueView& v) -> absl::Status {
    if (v.type == BsonType::kString) {
      std::string_view name = v.String();
      if (name == "number") {
        number = true;
        return absl::OkStatus();
      }
      for (int code : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0x7F, 0xFF}) {
        if (BsonTypeName(static_cast<BsonType>(code)) == name) {
          types.push_back(static_cast<BsonType>(code));
          return absl::OkStatus();
        }
      }
      return BadValue(StrCat("Unknown type name alias: ", name));
    }
    std::optional<int64_t> code = ExactInteger(v);
    if (!code) return BadValue("type must be represented as a number or a string");
    if (*code == -1) code = 0xFF;  // MinKey
    if (!((*code >= 1 && *code <= 19) || *code == 0x7F || *code == 0xFF)) {
      return BadValue(StrCat("Invalid numerical type code: ", *code));
    }
    types.push_back(static_cast<BsonType>(*code));
    return absl::OkStatus();
  };
  if (operand.type == BsonType::kArray) {
    for (const ElementView& e : operand.Doc()) {
      if (auto s = add(e.value); !s.ok()) return s;
    }
  } else if (auto s = add(operand); !s.ok()) {
    return s;
  }
  return ExprPtr(std::make_unique<TypeMatch>(path, std::move(types), number));
}

absl::StatusOr<ExprPtr> ParseMod(const FieldPath& path, const ValueView& operand) {
  if (operand.type != BsonType::kArray) return BadValue("malformed mod, needs to be an array");
  std::vector<ValueView> parts;
  for (const ElementView& e : operand.Doc()) parts.push_back(e.value);
  if (parts.size() < 2) return BadValue("malformed mod, not enough elements");
  if (parts.size() > 2) return BadValue("malformed mod, too many elements");
  if (!parts[0].IsNumber()) return BadValue("malformed mod, divisor not a number");
  if (!parts[1].IsNumber()) return BadValue("malformed mod, remainder not a number");
  auto truncate = [](const ValueView& v) -> std::optional<int64_t> {
    double d = v.AsDouble();
    if (v.type == BsonType::kInt64) return v.Int64();
    if (v.type == BsonType::kInt32) return v.Int32();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return std::nullopt;
    return static_cast<int64_t>(std::trunc(d));
  };
  auto divisor = truncate(parts[0]), remainder = truncate(parts[1]);
  if (!divisor || !remainder) return BadValue("malformed mod, divisor or remainder out of range");
  if (*divisor == 0) return BadValue("divisor cannot be 0");
  return ExprPtr(std::make_unique<ModMatch>(path, *divisor, *remainder));
}

absl::StatusOr<ExprPtr> ParseBits(const FieldPath& path, BitsOp op, std::string_view name,
                                  const ValueView& operand) {
  std::vector<uint32_t> positions;
  if (operand.type == BsonType::kArray) {
    for (const ElementView& e : operand.Doc()) {
      std::optional<int64_t> p = ExactInteger(e.value);
      if (!p || *p < 0 || *p > 0x7FFFFFFF) {
        return BadValue(StrCat(name, " bit positions must be non-negative integers"));
      }
      positions.push_back(static_cast<uint32_t>(*p));
    }
  } else if (operand.type == BsonType::kBinary) {
    int32_t len = bson::ReadInt32(operand.data);
    for (int32_t i = 0; i < len; ++i) {
      for (int b = 0; b < 8; ++b) {
        if ((operand.data[5 + i] >> b) & 1) positions.push_back(static_cast<uint32_t>(i * 8 + b));
      }
    }
  } else if (operand.IsNumber()) {
    std::optional<int64_t> mask = ExactInteger(operand);
    if (!mask || *mask < 0) {
      return BadValue(StrCat(name, " takes a non-negative integral bitmask"));
    }
    for (uint32_t b = 0; b < 63; ++b) {
      if ((*mask >> b) & 1) positions.push_back(b);
    }
  } else {
    return BadValue(StrCat(name, " takes an Array, a number, or a BinData"));
  }
  return ExprPtr(std::make_unique<BitsMatch>(path, op, std::move(positions)));
}

absl::StatusOr<ExprPtr> ParseElemMatch(const FieldPath& path, const ValueView& operand,
                                       Nesting nesting) {
  if (operand.type != BsonType::kDocument) return BadValue("$elemMatch needs an Object");
  DocView inner = operand.Doc();
  bool value_form = false;
  if (!inner.empty()) {
    std::string_view first = inner.begin()->key;
    value_form = !first.empty() && first[0] == '$' && first != "$and" && first != "$or" &&
                 first != "$nor" && first != "$expr" && first != "$where" && first != "$text" &&
                 first != "$jsonSchema" && first != "$comment";
  }
  absl::StatusOr<ExprPtr> expr =
      value_form ? ParseOperators(FieldPath(), inner, nesting.Within("$elemMatch"))
                 : ParseDocument(inner, nesting.Within("$elemMatch"));
  if (!expr.ok()) return expr.status();
  return ExprPtr(std::make_unique<ElemMatch>(path, *std::move(expr), value_form));
}

absl::StatusOr<ExprPtr> ParseAll(const FieldPath& path, const ValueView& operand, Nesting nesting) {
  if (operand.type != BsonType::kArray) return BadValue("$all needs an array");
  std::vector<ExprPtr> children;
  for (const ElementView& e : operand.Doc()) {
    if (e.value.type == BsonType::kDocument && !e.value.Doc().empty() &&
        e.value.Doc().begin()->key == "$elemMatch") {
      auto em = ParseElemMatch(path, e.value.Doc().begin()->value, nesting);
      if (!em.ok()) return em.status();
      children.push_back(*std::move(em));
    } else if (IsOperatorObject(e.value)) {
      return BadValue("no $ expressions in $all");
    } else if (e.value.type == BsonType::kRegex) {
      auto r = RegexFromValue(path, e.value);
      if (!r.ok()) return r.status();
      children.push_back(*std::move(r));
    } else {
      children.push_back(std::make_unique<ComparisonMatch>(path, CompareOp::kEq, e.value));
    }
  }
  if (children.empty()) return ExprPtr(std::make_unique<OrMatch>(std::move(children)));  // none
  return ExprPtr(std::make_unique<AndMatch>(std::move(children)));
}

// One `$op: operand` applied to `path`.
absl::StatusOr<ExprPtr> ParseOperator(const FieldPath& path, std::string_view op,
                                      const ValueView& operand, Nesting nesting) {
  auto comparison = [&](CompareOp c) -> absl::StatusOr<ExprPtr> {
    return ExprPtr(std::make_unique<ComparisonMatch>(path, c, operand));
  };
  if (op == "$eq") return comparison(CompareOp::kEq);
  if (op == "$lt") return comparison(CompareOp::kLt);
  if (op == "$lte") return comparison(CompareOp::kLte);
  if (op == "$gt") return comparison(CompareOp::kGt);
  if (op == "$gte") return comparison(CompareOp::kGte);
  if (op == "$ne") {
    return ExprPtr(std::make_unique<NotMatch>(
        std::make_unique<ComparisonMatch>(path, CompareOp::kEq, operand)));
  }
  if (op == "$in" || op == "$nin") {
    if (operand.type != BsonType::kArray) return BadValue(StrCat(op, " needs an array"));
    std::vector<ValueView> values;
    std::vector<std::unique_ptr<RegexMatch>> regexes;
    for (const ElementView& e : operand.Doc()) {
      if (IsOperatorObject(e.value)) {
        return BadValue(StrCat("cannot nest $ under ", op));
      }
      if (e.value.type == BsonType::kRegex) {
        auto r = RegexFromValue(path, e.value);
        if (!r.ok()) return r.status();
        regexes.push_back(*std::move(r));
        continue;
      }
      values.push_back(e.value);
    }
    ExprPtr in = std::make_unique<InMatch>(path, std::move(values), std::move(regexes));
    if (op == "$in") return in;
    return ExprPtr(std::make_unique<NotMatch>(std::move(in)));
  }
  if (op == "$exists") {
    bool want = true;
    switch (operand.type) {
      case BsonType::kBool: want = operand.Bool(); break;
      case BsonType::kInt32:
      case BsonType::kInt64:
      case BsonType::kDouble:
      case BsonType::kDecimal128: want = operand.AsDouble() != 0; break;
      case BsonType::kNull:
      case BsonType::kUndefined: want = false; break;
      default: want = true;
    }
    ExprPtr exists = std::make_unique<ExistsMatch>(path);
    if (want) return exists;
    return ExprPtr(std::make_unique<NotMatch>(std::move(exists)));
  }
  if (op == "$not") {
    if (operand.type == BsonType::kRegex) {
      auto r = RegexFromValue(path, operand);
      if (!r.ok()) return r.status();
      return ExprPtr(std::make_unique<NotMatch>(*std::move(r)));
    }
    if (operand.type != BsonType::kDocument) {
      return BadValue("$not needs a regex or a document");
    }
    if (operand.Doc().empty()) return BadValue("$not cannot be empty");
    auto inner = ParseOperators(path, operand.Doc(), nesting.Deeper());
    if (!inner.ok()) return inner.status();
    return ExprPtr(std::make_unique<NotMatch>(*std::move(inner)));
  }
  if (op == "$type") return ParseType(path, operand);
  if (op == "$mod") return ParseMod(path, operand);
  if (op == "$size") {
    std::optional<int64_t> n = ExactInteger(operand);
    if (!n) return BadValue("$size needs a number");
    if (*n < 0) return BadValue("$size may not be negative");
    return ExprPtr(std::make_unique<SizeMatch>(path, *n));
  }
  if (op == "$all") return ParseAll(path, operand, nesting);
  if (op == "$elemMatch") return ParseElemMatch(path, operand, nesting);
  if (op == "$bitsAllSet") return ParseBits(path, BitsOp::kAllSet, op, operand);
  if (op == "$bitsAllClear") return ParseBits(path, BitsOp::kAllClear, op, operand);
  if (op == "$bitsAnySet") return ParseBits(path, BitsOp::kAnySet, op, operand);
  if (op == "$bitsAnyClear") return ParseBits(path, BitsOp::kAnyClear, op, operand);
  if (op == "$geoWithin" || op == "$within" || op == "$geoIntersects") {
    auto p = geo::GeoPredicate::Parse(op, operand);
    if (!p.ok()) return p.status();
    return ExprPtr(std::make_unique<GeoMatch>(path, *std::move(p)));
  }
  return BadValue(StrCat("unknown operator: ", op));
}

absl::StatusOr<ExprPtr> ParseNear(const FieldPath& path, std::string_view op, const ValueView& operand, DocView ops,
                                  Nesting nesting) {
  if (nesting.near_count != nullptr && ++*nesting.near_count > 1) return BadValue("Too many geoNear expressions");
  auto q = geo::NearQuery::Parse(op, operand, ops);
  if (!q.ok()) return q.status();
  return ExprPtr(std::make_unique<GeoNearMatch>(path, *std::move(q), op == "$nearSphere"));
}

absl::StatusOr<ExprPtr> ParseOperators(const FieldPath& path, DocView ops, Nesting nesting) {
  std::vector<ExprPtr> children;
  // $near's legacy form keeps its distances beside it: {$near: [x, y], $maxDistance: d}.
  ValueView unused;
  const bool near = ops.Find("$near", &unused) || ops.Find("$nearSphere", &unused);
  ValueView regex, options;
  bool has_regex = ops.Find("$regex", &regex), has_options = ops.Find("$options", &options);
  if (has_options && !has_regex) return BadValue("$options needs a $regex");
  for (const ElementView& e : ops) {
    if (e.key.empty() || e.key[0] != '$') {
      return BadValue(StrCat("unknown operator: ", e.key));
    }
    if (e.key == "$options") continue;
    if (e.key == "$near" || e.key == "$nearSphere") {
      auto child = ParseNear(path, e.key, e.value, ops, nesting);
      if (!child.ok()) return child.status();
      children.push_back(*std::move(child));
      continue;
    }
    if (near && (e.key == "$minDistance" || e.key == "$maxDistance")) continue;
    if (e.key == "$regex") {
      std::string_view pattern, flags;
      if (regex.type == BsonType::kString) {
        pattern = regex.String();
      } else if (regex.type == BsonType::kRegex) {
        pattern = std::string_view(regex.data);
        flags = std::string_view(regex.data + pattern.size() + 1);
        if (has_options && !flags.empty()) {
          return BadValue("options set in both $regex and $options");
        }
      } else {
        return BadValue("$regex has to be a string");
      }
      if (has_options) {
        if (options.type != BsonType::kString) return BadValue("$options has to be a string");
        flags = options.String();
      }
      auto r = RegexMatch::Make(path, pattern, flags);
      if (!r.ok()) return r.status();
      children.push_back(*std::move(r));
      continue;
    }
    auto child = ParseOperator(path, e.key, e.value, nesting);
    if (!child.ok()) return child.status();
    children.push_back(*std::move(child));
  }
  if (children.size() == 1) return std::move(children[0]);
  return ExprPtr(std::make_unique<AndMatch>(std::move(children)));
}

absl::StatusOr<ExprPtr> ParseLogical(std::string_view op, const ValueView& operand,
                                     Nesting nesting) {
  if (operand.type != BsonType::kArray) return BadValue(StrCat(op, " must be an array"));
  std::vector<ExprPtr> children;
  for (const ElementView& e : operand.Doc()) {
    if (e.value.type != BsonType::kDocument) {
      return BadValue(StrCat("$or/$and/$nor entries need to be full objects"));
    }
    auto child = ParseDocument(e.value.Doc(), op == "$nor" ? nesting.Within("$nor") : nesting.Deeper());
    if (!child.ok()) return child.status();
    children.push_back(*std::move(child));
  }
  if (children.empty()) {
    return BadValue("$and/$or/$nor must be a nonempty array");
  }
  if (op == "$and") return ExprPtr(std::make_unique<AndMatch>(std::move(children)));
  ExprPtr any = std::make_unique<OrMatch>(std::move(children));
  if (op == "$or") return any;
  return ExprPtr(std::make_unique<NotMatch>(std::move(any)));
}

absl::StatusOr<ExprPtr> ParseDocument(DocView filter, Nesting nesting) {
  if (nesting.depth > 100) return BadValue("filter nested too deeply");
  std::vector<ExprPtr> children;
  for (const ElementView& e : filter) {
    absl::StatusOr<ExprPtr> child;
    if (!e.key.empty() && e.key[0] == '$') {
      if (e.key == "$and" || e.key == "$or" || e.key == "$nor") {
        child = ParseLogical(e.key, e.value, nesting);
      } else if (e.key == "$comment") {
        continue;
      } else if (e.key == "$where") {
        return MongoError(kNotImplemented,
                          "$where is not supported: micro-mongo has no JavaScript engine");
      } else if (e.key == "$expr") {
        auto expr = pipeline::ParseExpression(bson::ToValue(e.value), *nesting.expr_context);
        if (!expr.ok()) return expr.status();
        child = ExprPtr(std::make_unique<ExprMatch>(*std::move(expr)));
      } else if (e.key == "$jsonSchema") {
        if (e.value.type != BsonType::kDocument) {
          return MongoError(kTypeMismatch, "$jsonSchema must be an object");
        }
        child = ParseJsonSchema(e.value.Doc());
      } else if (e.key == "$text") {
        child = ParseText(e.value, nesting);
      } else {
        return BadValue(StrCat("unknown top level operator: ", e.key));
      }
    } else if (IsOperatorObject(e.value)) {
      child = ParseOperators(FieldPath(e.key), e.value.Doc(), nesting);
    } else if (e.value.type == BsonType::kRegex) {
      // {f: /re/} is a regex match (strings matching it, or the same regex value).
      child = RegexFromValue(FieldPath(e.key), e.value);
    } else {
      child = ExprPtr(std::make_unique<ComparisonMatch>(FieldPath(e.key), CompareOp::kEq, e.value));
    }
    if (!child.ok()) return child.status();
    children.push_back(*std::move(child));
  }
  if (children.size() == 1) return std::move(children[0]);
  return ExprPtr(std::make_unique<AndMatch>(std::move(children)));
}

// The node of `kind` in the tree: only through $and nodes from the root (`and_chain`), or
// anywhere.
template <typename T>
const T* FindNode(const MatchExpression* e, MatchKind kind, bool and_chain) {
  if (e == nullptr) return nullptr;
  if (e->kind() == kind) return static_cast<const T*>(e);
  if (and_chain && e->kind() != MatchKind::kAnd) return nullptr;
  for (size_t i = 0; i < e->num_children(); ++i) {
    if (const T* found = FindNode<T>(e->child(i), kind, and_chain)) return found;
  }
  return nullptr;
}

// `filter` without what `drop` says of its elements, also inside top-level $and entries:
// kDrop removes one, kKeep keeps it; `strip_ops` rewrites an element's operator document
// (returning false when nothing of it is left).
enum class Strip { kKeep, kDrop, kOperators };

template <typename Decide>
std::string StripElements(DocView filter, const Decide& decide) {
  bson::Builder out;
  for (const ElementView& e : filter) {
    if (e.key == "$and" && e.value.type == BsonType::kArray) {
      size_t t = out.StartArray("$and");
      int i = 0;
      for (const ElementView& c : e.value.Doc()) {
        std::string key = std::to_string(i++);
        if (c.value.type == BsonType::kDocument) {
          std::string stripped = StripElements(c.value.Doc(), decide);
          out.AppendDocument(key, DocView(stripped));
        } else {
          out.AppendView(key, c.value);
        }
      }
      out.End(t);
      continue;
    }
    switch (decide(e)) {
      case Strip::kDrop: break;
      case Strip::kKeep: out.AppendView(e.key, e.value); break;
      case Strip::kOperators: {
        // {$near: ..., $maxDistance: ..., <others>}: only the others stay.
        bson::Builder ops;
        bool any = false;
        for (const ElementView& op : e.value.Doc()) {
          if (op.key == "$near" || op.key == "$nearSphere" || op.key == "$minDistance" || op.key == "$maxDistance") {
            continue;
          }
          ops.AppendView(op.key, op.value);
          any = true;
        }
        if (any) {
          std::string rest = std::move(ops).Finish();
          out.AppendDocument(e.key, DocView(rest));
        }
        break;
      }
    }
  }
  return std::move(out).Finish();
}

std::string StripText(DocView filter) {
  return StripElements(filter, [](const ElementView& e) { return e.key == "$text" ? Strip::kDrop : Strip::kKeep; });
}

std::string StripNear(DocView filter, std::string_view path) {
  return StripElements(filter, [path](const ElementView& e) {
    if (e.key != path || e.value.type != BsonType::kDocument) return Strip::kKeep;
    ValueView unused;
    bool near = e.value.Doc().Find("$near", &unused) || e.value.Doc().Find("$nearSphere", &unused);
    return near ? Strip::kOperators : Strip::kKeep;
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Sibling(std::string filter_bson) const {
  return Parse(std::move(filter_bson), let_, has_let_, collator_);
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::WithoutNear() const {
  if (near_ == nullptr) return Parse(std::string(filter().bytes()), let_, has_let_, collator_);
  return Parse(StripNear(filter(), near_->path().dotted()), let_, has_let_, collator_);
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::WithoutText() const {
  return Parse(StripText(filter()), let_, has_let_, collator_);
}

std::optional<size_t> Matcher::FirstMatchingIndex(const Document& doc,
                                                  std::string_view array_path) const {
  bool mentions = false;
  for (const ElementView& e : filter()) {
    mentions = mentions || e.key == array_path ||
               (e.key.size() > array_path.size() && e.key.substr(0, array_path.size()) == array_path &&
                e.key[array_path.size()] == '.') ||
               e.key == "$and" || e.key == "$or" || e.key == "$nor";
  }
  if (!mentions) return std::nullopt;
  // Find the array through documents only.
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t dot = array_path.find('.', start);
    parts.emplace_back(array_path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  Document narrowed = doc;
  Document* cur = &narrowed;
  Value* target = nullptr;
  for (size_t i = 0; i < parts.size(); ++i) {
    target = cur->Find(parts[i]);
    if (target == nullptr) return std::nullopt;
    if (i + 1 < parts.size()) {
      if (target->type() != BsonType::kDocument) return std::nullopt;
      cur = &target->AsDocument();
    }
  }
  if (target == nullptr || target->type() != BsonType::kArray) return std::nullopt;
  const Array original = target->AsArray();
  for (size_t k = 0; k < original.size(); ++k) {
    *target = Array{original[k]};
    std::string bytes = bson::Encode(narrowed);
    if (Matches(DocView(bytes))) return k;
  }
  return std::nullopt;
}

absl::StatusOr<bool> Matcher::Evaluate(bson::DocView doc) const {
  if (root_ == nullptr) return true;
  absl::Status error;
  absl::Status*& slot = CurrentMatchError();
  absl::Status* saved = slot;
  slot = &error;
  bool matched = root_->Matches(doc);
  slot = saved;
  if (!error.ok()) return error;
  return matched;
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Parse(
    std::string filter_bson, const Document* let, std::shared_ptr<const bson::Collator> collator) {
  if (let == nullptr) {
    return Parse(std::move(filter_bson), pipeline::VariableMap(), false, std::move(collator));
  }
  auto vars = pipeline::EvaluateLet(*let);
  if (!vars.ok()) return vars.status();
  return Parse(std::move(filter_bson), *vars, true, std::move(collator));
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Parse(
    std::string filter_bson, const pipeline::VariableMap& let,
    std::shared_ptr<const bson::Collator> collator) {
  return Parse(std::move(filter_bson), let, true, std::move(collator));
}

absl::StatusOr<std::unique_ptr<Matcher>> Matcher::Parse(
    std::string filter_bson, pipeline::VariableMap let, bool has_let,
    std::shared_ptr<const bson::Collator> collator) {
  auto m = std::make_unique<Matcher>();
  m->filter_ = std::move(filter_bson);
  m->let_ = std::move(let);
  m->has_let_ = has_let;
  m->collator_ = std::move(collator);
  m->env_ = MatchEnv{m->has_let_ ? &m->let_ : nullptr, m->collator_.get()};
  DocView filter(m->filter_);
  if (filter.empty()) return m;
  pipeline::ParseContext expr_context{.let = m->has_let_ ? &m->let_ : nullptr,
                                      .collator = m->collator_.get()};
  int text_count = 0, near_count = 0;
  auto root = ParseDocument(filter, Nesting{0, &expr_context, {}, &text_count, &near_count});
  if (!root.ok()) return root.status();
  m->root_ = *std::move(root);
  m->contains_text_ = text_count > 0;
  m->text_ = FindNode<TextMatch>(m->root_.get(), MatchKind::kText, /*and_chain=*/true);
  m->any_text_ = FindNode<TextMatch>(m->root_.get(), MatchKind::kText, /*and_chain=*/false);
  if (near_count > 0) {
    m->near_ = FindNode<GeoNearMatch>(m->root_.get(), MatchKind::kGeoNear, /*and_chain=*/true);
    if (m->near_ == nullptr) return BadValue("geoNear must be top-level expr");
    if (text_count > 0) return BadValue("text and geoNear not allowed in same query");
  }
  m->root_->Bind(&m->env_);
  ValueView id;
  // A string _id under a collation may equal other spellings ("a" == "A"), so it cannot be
  // looked up by key.
  auto collated_string = [&] {
    return m->collator_ != nullptr && (id.type == BsonType::kString || id.type == BsonType::kSymbol);
  };
  if (filter.Find("_id", &id) && !id.IsDocumentLike() && id.type != BsonType::kRegex &&
      id.type != BsonType::kNull && !collated_string()) {
    m->id_eq_ = id;
    m->has_id_eq_ = true;
  }
  return m;
}

}  // namespace micromongo::query
