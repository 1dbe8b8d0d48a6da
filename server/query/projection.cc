#include "query/projection.h"

#include <optional>

#include "absl/container/inlined_vector.h"
#include "document/builder.h"
#include "document/status.h"
#include "query/field_path.h"
#include "query/matcher.h"

namespace micromongo::query {
namespace {

using bson::Builder;
using bson::DocView;
using bson::ElementView;
using bson::ValueView;
using Node = Projection::Node;
using Kind = Projection::Node::Kind;

bool EndsWithPositional(std::string_view key) { return key.size() >= 2 && key.ends_with(".$"); }

// A path's components, checked as MongoDB's FieldPath checks them.
absl::StatusOr<std::vector<std::string>> SplitPath(std::string_view path) {
  if (path.empty()) return MongoError(40352, "FieldPath cannot be constructed with empty string");
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view part =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) return MongoError(15998, "FieldPath field names may not be empty strings.");
    if (part[0] == '$') {
      return MongoError(16410, StrCat("FieldPath field names may not start with '$'. Consider using "
                                      "$getField or $setField."));
    }
    if (part.find('\0') != std::string_view::npos) {
      return MongoError(16411, "FieldPath field names may not contain '\\0'.");
    }
    parts.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < parts.size(); ++i) {
    if (i > from) s.push_back('.');
    s += parts[i];
  }
  return s;
}

// What the parser learns while it walks a specification (MongoDB's projection_parser rules).
class Parser {
 public:
  enum class Type { kInclusion, kExclusion, kAddition };

  Parser(bool find, bool add_fields, const pipeline::ParseContext& context)
      : find_(find), context_(context) {
    if (add_fields) type_ = Type::kAddition;
  }

  absl::Status ParseTop(const Document& spec, Node* root) {
    for (const auto& [key, value] : spec) {
      if (key == "_id" || key.starts_with("_id.")) id_specified_ = true;
      if (auto s = ParseElement(key, value, root, /*at_root=*/true); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  Type FinalType() const {
    if (type_) return *type_;
    if (has_find_slice_) return id_included_entirely_ ? Type::kInclusion : Type::kExclusion;
    if (has_elem_match_) return Type::kInclusion;
    if (has_meta_) {
      if (!find_) return Type::kInclusion;
      return id_included_entirely_ && !id_excluded_entirely_ ? Type::kInclusion : Type::kExclusion;
    }
    if (id_included_entirely_) return Type::kInclusion;
    return Type::kExclusion;
  }
  bool id_specified() const { return id_specified_; }
  bool id_included_entirely() const { return id_included_entirely_; }

  // Find operators in the order they appear.
  std::vector<std::pair<Kind, std::string>> specials;

  // Adds `leaf` at `parts` under `parent`.
  static absl::StatusOr<Node*> AddNode(Node* parent, const std::vector<std::string>& parts, Node leaf) {
    Node* cur = parent;
    for (size_t i = 0; i < parts.size(); ++i) {
      auto it = cur->children.find(parts[i]);
      if (i + 1 == parts.size()) {
        if (it != cur->children.end()) {
          return MongoError(31250, StrCat("Path collision at ", Join(parts)));
        }
        cur->order.push_back(parts[i]);
        return &(cur->children[parts[i]] = std::move(leaf));
      }
      if (it == cur->children.end()) {
        cur->order.push_back(parts[i]);
        cur = &cur->children[parts[i]];
        continue;
      }
      if (it->second.kind != Kind::kInner) {
        return MongoError(31249, StrCat("Path collision at ", Join(parts), " remaining portion ",
                                        Join(parts, i + 1)));
      }
      cur = &it->second;
    }
    return cur;
  }

 private:
  absl::Status ParseElement(const std::string& key, const Value& value, Node* parent, bool at_root) {
    const bool positional = EndsWithPositional(key);
    if (positional && !find_) {
      return MongoError(31324, "Cannot use positional projection in aggregation projection");
    }
    if (key.find(".$.") != std::string::npos) {
      return MongoError(31394, "As of 4.4, it's illegal to specify positional operator in the middle of a "
                               "path.Positional projection may only be used at the end, for example: a.b.$. "
                               "If the query previously used a form like a.b.$.d, remove the parts "
                               "following the '$' and the results will be equivalent.");
    }
    if (value.type() == BsonType::kDocument) {
      if (type_ != Type::kAddition || !value.AsDocument().empty()) {
        if (positional) {
          return MongoError(31271, "positional projection cannot be used with an expression or sub object");
        }
        return ParseSubObject(key, value.AsDocument(), parent, at_root);
      }
      return ParseLiteral(key, value, parent);
    }
    bool flag = value.type() == BsonType::kBool || value.IsNumber();
    if (type_ != Type::kAddition && flag) {
      bool truthy = value.type() == BsonType::kBool ? value.AsBool() : value.ToDouble() != 0;
      if (truthy) return ParseInclusion(key, parent, at_root);
      if (positional) return MongoError(31395, "positional projection cannot be used with exclusion");
      return ParseExclusion(key, parent, at_root);
    }
    if (positional) return MongoError(31308, "positional projection cannot be used with a literal");
    return ParseLiteral(key, value, parent);
  }

  absl::Status ParseSubObject(const std::string& key, const Document& obj, Node* parent, bool at_root) {
    if (obj.empty()) return MongoError(51270, StrCat("Invalid empty sub-projection: ", key));
    auto parts = SplitPath(key);
    if (!parts.ok()) return parts.status();
    if (obj.size() == 1 && obj.begin()->first.starts_with("$")) {
      auto parsed = ParseSubObjectAsExpression(*parts, obj, parent, at_root);
      if (!parsed.ok()) return parsed.status();
      if (*parsed) return absl::OkStatus();
      std::string_view first = obj.begin()->first;
      if (EndsWithPositional(first)) first.remove_suffix(2);
      if (!SplitPath(first).ok()) return MongoError(31325, StrCat("Unknown expression ", obj.begin()->first));
    }
    // The inner node at the path (created if needed), then the object's fields under it.
    Node* inner = parent;
    for (size_t i = 0; i < parts->size(); ++i) {
      auto it = inner->children.find((*parts)[i]);
      if (it == inner->children.end()) {
        std::vector<std::string> rest(parts->begin() + static_cast<long>(i), parts->end());
        auto added = AddNode(inner, rest, Node{});
        if (!added.ok()) return added.status();
        inner = *added;
        break;
      }
      if (it->second.kind != Kind::kInner) {
        return MongoError(31250, StrCat("Path collision at ", key));
      }
      inner = &it->second;
    }
    for (const auto& [k, v] : obj) {
      if (auto s = ParseElement(k, v, inner, /*at_root=*/false); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Whether `obj` ({$op: ...}) was an expression (or a find operator), added to the tree.
  absl::StatusOr<bool> ParseSubObjectAsExpression(const std::vector<std::string>& parts, const Document& obj,
                                                  Node* parent, bool at_root) {
    const std::string& op = obj.begin()->first;
    const Value& arg = obj.begin()->second;
    if (find_) {
      if (op == "$slice") {
        absl::Status find_slice = ParseFindSlice(parts, arg, parent);
        if (find_slice.ok()) return true;
        auto generic = ParseGenericExpression(parts, obj, parent);
        if (!generic.ok()) return generic.status();
        return true;
      }
      if (op == "$elemMatch") {
        if (arg.type() != BsonType::kDocument) {
          return MongoError(31274, StrCat("elemMatch: Invalid argument, object required, but got ",
                                          BsonTypeName(arg.type())));
        }
        if (has_positional_) return MongoError(31255, "Cannot specify positional operator and $elemMatch.");
        if (parts.size() != 1 || !at_root) {
          return MongoError(31275, "Cannot use $elemMatch projection on a nested field.");
        }
        std::string filter = bson::Encode(Document{{parts[0], Document{{"$elemMatch", arg}}}});
        auto m = Matcher::Parse(std::move(filter));
        if (!m.ok()) return m.status();
        Node leaf;
        leaf.kind = Kind::kElemMatch;
        leaf.elem_match = std::shared_ptr<const Matcher>(*std::move(m));
        auto added = AddNode(parent, parts, std::move(leaf));
        if (!added.ok()) return added.status();
        specials.emplace_back(Kind::kElemMatch, Join(parts));
        has_elem_match_ = true;
        return true;
      }
    } else if (op == "$elemMatch") {
      return MongoError(kInvalidPipelineOperator, "Cannot use $elemMatch in this context");
    }
    return ParseGenericExpression(parts, obj, parent);
  }

  absl::StatusOr<bool> ParseGenericExpression(const std::vector<std::string>& parts, const Document& obj,
                                              Node* parent) {
    const std::string& op = obj.begin()->first;
    if (!pipeline::IsExpressionOperator(op)) return false;
    const bool is_meta = op == "$meta";
    if (type_ == Type::kExclusion && !is_meta) {
      return MongoError(31252, "Cannot use expression other than $meta in exclusion projection");
    }
    if (!is_meta && !type_) type_ = Type::kInclusion;
    auto expr = pipeline::ParseExpression(Value(obj), context_);
    if (!expr.ok()) return expr.status();
    Node leaf;
    leaf.kind = Kind::kComputed;
    leaf.expr = std::shared_ptr<const pipeline::Expression>(*std::move(expr));
    auto added = AddNode(parent, parts, std::move(leaf));
    if (!added.ok()) return added.status();
    has_meta_ = has_meta_ || is_meta;
    return true;
  }

  absl::Status ParseFindSlice(const std::vector<std::string>& parts, const Value& arg, Node* parent) {
    Node leaf;
    leaf.kind = Kind::kSlice;
    auto safe_int = [](const Value& v) -> int64_t {
      double d = v.ToDouble();
      if (d != d) return 0;
      if (d >= 2147483647.0) return 2147483647;
      if (d <= -2147483648.0) return -2147483648LL;
      return static_cast<int64_t>(d);
    };
    if (arg.IsNumber()) {
      leaf.slice_limit = safe_int(arg);
    } else if (arg.type() == BsonType::kArray) {
      const Array& a = arg.AsArray();
      if (a.size() != 2) return MongoError(31272, "$slice array argument should be of form [skip, limit]");
      if (!a[0].IsNumber()) {
        return MongoError(31257, StrCat("$slice expects the skip argument to be a number, got ",
                                        BsonTypeName(a[0].type())));
      }
      if (!a[1].IsNumber()) {
        return MongoError(31258, StrCat("$slice expects the limit argument to be a number, got ",
                                        BsonTypeName(a[1].type())));
      }
      int64_t limit = safe_int(a[1]);
      if (limit <= 0) return MongoError(31259, StrCat("$slice limit must be positive, got ", limit));
      leaf.slice_skip = safe_int(a[0]);
      leaf.slice_limit = limit;
      leaf.slice_has_skip = true;
    } else {
      return MongoError(31273, "$slice only supports numbers and [skip, limit] arrays");
    }
    auto added = AddNode(parent, parts, std::move(leaf));
    if (!added.ok()) return added.status();
    specials.emplace_back(Kind::kSlice, Join(parts));
    has_find_slice_ = true;
    return absl::OkStatus();
  }

  absl::Status ParseInclusion(const std::string& key, Node* parent, bool at_root) {
    const bool top_id = key == "_id" && at_root;
    if (!EndsWithPositional(key)) {
      auto parts = SplitPath(key);
      if (!parts.ok()) return parts.status();
      Node leaf;
      leaf.kind = Kind::kInclude;
      auto added = AddNode(parent, *parts, std::move(leaf));
      if (!added.ok()) return added.status();
      if (top_id) id_included_entirely_ = true;
    } else {
      if (has_positional_) {
        return MongoError(31276, "Cannot specify more than one positional projection per query.");
      }
      if (has_elem_match_) return MongoError(31256, "Cannot specify positional operator and $elemMatch.");
      if (key == ".$") return MongoError(5392900, StrCat("Projection on field ", key, " is invalid"));
      auto parts = SplitPath(std::string_view(key).substr(0, key.size() - 2));
      if (!parts.ok()) return parts.status();
      Node leaf;
      leaf.kind = Kind::kPositional;
      auto added = AddNode(parent, *parts, std::move(leaf));
      if (!added.ok()) return added.status();
      specials.emplace_back(Kind::kPositional, Join(*parts));
      has_positional_ = true;
    }
    if (!top_id) {
      if (type_ && *type_ != Type::kInclusion) {
        return MongoError(31253, StrCat("Cannot do inclusion on field ", key, " in exclusion projection"));
      }
      type_ = Type::kInclusion;
    }
    return absl::OkStatus();
  }

  absl::Status ParseExclusion(const std::string& key, Node* parent, bool at_root) {
    auto parts = SplitPath(key);
    if (!parts.ok()) return parts.status();
    Node leaf;
    leaf.kind = Kind::kExclude;
    auto added = AddNode(parent, *parts, std::move(leaf));
    if (!added.ok()) return added.status();
    if (key == "_id" && at_root) {
      id_excluded_entirely_ = true;
      return absl::OkStatus();
    }
    if (type_ && *type_ != Type::kExclusion) {
      return MongoError(31254, StrCat("Cannot do exclusion on field ", key, " in inclusion projection"));
    }
    type_ = Type::kExclusion;
    return absl::OkStatus();
  }

  absl::Status ParseLiteral(const std::string& key, const Value& value, Node* parent) {
    auto parts = SplitPath(key);
    if (!parts.ok()) return parts.status();
    auto expr = pipeline::ParseExpression(value, context_);
    if (!expr.ok()) return expr.status();
    Node leaf;
    leaf.kind = Kind::kComputed;
    leaf.expr = std::shared_ptr<const pipeline::Expression>(*std::move(expr));
    auto added = AddNode(parent, *parts, std::move(leaf));
    if (!added.ok()) return added.status();
    if (type_ != Type::kAddition) {
      if (type_ && *type_ != Type::kInclusion) {
        return MongoError(31310, StrCat("Cannot use an expression ", Document{{key, value}}.ToJson(),
                                        " in an exclusion projection"));
      }
      type_ = Type::kInclusion;
    }
    return absl::OkStatus();
  }

  bool find_;
  const pipeline::ParseContext& context_;
  std::optional<Type> type_;
  bool id_specified_ = false;
  bool id_included_entirely_ = false;
  bool id_excluded_entirely_ = false;
  bool has_positional_ = false;
  bool has_elem_match_ = false;
  bool has_find_slice_ = false;
  bool has_meta_ = false;
};

void Summarize(Node* node) {
  for (auto& [name, child] : node->children) {
    switch (child.kind) {
      case Kind::kInner:
        Summarize(&child);
        node->has_projection = node->has_projection || child.has_projection;
        node->has_computed = node->has_computed || child.has_computed;
        break;
      case Kind::kComputed:
        node->has_computed = true;
        break;
      case Kind::kElemMatch:
        break;
      default:
        node->has_projection = true;
        break;
    }
  }
}

// ---- Phase one: inclusion and exclusion over BSON --------------------------------------------

void Include(const Node& node, DocView doc, Builder* out);
void Exclude(const Node& node, DocView doc, Builder* out);

// Inclusion inside an array keeps only the subdocuments (projected), dropping scalars.
void IncludeArray(const Node& node, DocView array, Builder* out) {
  char scratch[24];
  size_t i = 0;
  for (const ElementView& e : array) {
    if (e.value.type == BsonType::kDocument) {
      size_t t = out->StartDocument(bson::ArrayKey(i++, scratch));
      Include(node, e.value.Doc(), out);
      out->End(t);
    } else if (e.value.type == BsonType::kArray) {
      size_t t = out->StartArray(bson::ArrayKey(i++, scratch));
      IncludeArray(node, e.value.Doc(), out);
      out->End(t);
    }
  }
}

void Include(const Node& node, DocView doc, Builder* out) {
  for (const ElementView& e : doc) {
    auto it = node.children.find(e.key);
    if (it == node.children.end()) continue;
    const Node& child = it->second;
    switch (child.kind) {
      case Kind::kInclude:
      case Kind::kPositional:
      case Kind::kSlice:
        out->AppendView(e.key, e.value);
        break;
      case Kind::kInner:
        if (!child.has_projection) break;
        if (e.value.type == BsonType::kDocument) {
          size_t t = out->StartDocument(e.key);
          Include(child, e.value.Doc(), out);
          out->End(t);
        } else if (e.value.type == BsonType::kArray) {
          size_t t = out->StartArray(e.key);
          IncludeArray(child, e.value.Doc(), out);
          out->End(t);
        }
        break;
      default:
        break;
    }
  }
}

void ExcludeArray(const Node& node, DocView array, Builder* out) {
  char scratch[24];
  size_t i = 0;
  for (const ElementView& e : array) {
    std::string_view key = bson::ArrayKey(i++, scratch);
    if (e.value.type == BsonType::kDocument) {
      size_t t = out->StartDocument(key);
      Exclude(node, e.value.Doc(), out);
      out->End(t);
    } else if (e.value.type == BsonType::kArray) {
      size_t t = out->StartArray(key);
      ExcludeArray(node, e.value.Doc(), out);
      out->End(t);
    } else {
      out->AppendView(key, e.value);
    }
  }
}

void Exclude(const Node& node, DocView doc, Builder* out) {
  for (const ElementView& e : doc) {
    auto it = node.children.find(e.key);
    if (it == node.children.end()) {
      out->AppendView(e.key, e.value);
      continue;
    }
    const Node& child = it->second;
    if (child.kind == Kind::kExclude) continue;
    if (child.kind != Kind::kInner || !child.has_projection) {
      out->AppendView(e.key, e.value);
    } else if (e.value.type == BsonType::kDocument) {
      size_t t = out->StartDocument(e.key);
      Exclude(child, e.value.Doc(), out);
      out->End(t);
    } else if (e.value.type == BsonType::kArray) {
      size_t t = out->StartArray(e.key);
      ExcludeArray(child, e.value.Doc(), out);
      out->End(t);
    } else {
      out->AppendView(e.key, e.value);
    }
  }
}

// ---- Phase two: computed fields over the tree -------------------------------------------------

absl::Status ApplyComputed(const Node& node, Document* out, const pipeline::Variables& vars);

absl::Status ApplyComputedToArray(const Node& node, Array* array, const pipeline::Variables& vars) {
  for (Value& e : *array) {
    if (e.type() == BsonType::kDocument) {
      if (auto s = ApplyComputed(node, &e.AsDocument(), vars); !s.ok()) return s;
    } else if (e.type() == BsonType::kArray) {
      if (auto s = ApplyComputedToArray(node, &e.AsArray(), vars); !s.ok()) return s;
    } else {
      Document d;
      if (auto s = ApplyComputed(node, &d, vars); !s.ok()) return s;
      e = Value(std::move(d));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyComputed(const Node& node, Document* out, const pipeline::Variables& vars) {
  for (const std::string& name : node.order) {
    const Node& child = node.children.find(name)->second;
    if (child.kind == Kind::kComputed) {
      auto v = child.expr->Evaluate(vars);
      if (!v.ok()) return v.status();
      if (*v) {
        out->Set(name, **std::move(v));
      } else {
        out->Remove(name);
      }
      continue;
    }
    if (child.kind != Kind::kInner || !child.has_computed) continue;
    Value* existing = out->Find(name);
    if (existing != nullptr && existing->type() == BsonType::kDocument) {
      if (auto s = ApplyComputed(child, &existing->AsDocument(), vars); !s.ok()) return s;
    } else if (existing != nullptr && existing->type() == BsonType::kArray) {
      if (auto s = ApplyComputedToArray(child, &existing->AsArray(), vars); !s.ok()) return s;
    } else {
      Document d;
      if (auto s = ApplyComputed(child, &d, vars); !s.ok()) return s;
      out->Set(name, Value(std::move(d)));
    }
  }
  return absl::OkStatus();
}

// The value at a dotted path through documents, or nullptr.
Value* FindPath(Document* doc, const std::string& path) {
  FieldPath fp(path);
  Document* cur = doc;
  for (size_t i = 0; i < fp.size(); ++i) {
    Value* v = cur->Find(fp.part(i));
    if (v == nullptr) return nullptr;
    if (i + 1 == fp.size()) return v;
    if (v->type() != BsonType::kDocument) return nullptr;
    cur = &v->AsDocument();
  }
  return nullptr;
}

// Slices every array `parts[i..]` reaches in `v` (through documents and arrays of them).
void SliceAt(Value* v, const FieldPath& path, size_t i, const Node& node) {
  if (i == path.size()) {
    if (v->type() != BsonType::kArray) return;
    Array& a = v->AsArray();
    int64_t n = static_cast<int64_t>(a.size());
    int64_t from = 0, count = n;
    if (node.slice_has_skip) {
      from = node.slice_skip < 0 ? std::max<int64_t>(0, n + node.slice_skip) : std::min(node.slice_skip, n);
      count = node.slice_limit;
    } else if (node.slice_limit >= 0) {
      count = node.slice_limit;
    } else {
      from = std::max<int64_t>(0, n + node.slice_limit);
    }
    Array sliced(a.begin() + from, a.begin() + std::min(n, from + count));
    a = std::move(sliced);
    return;
  }
  if (v->type() == BsonType::kDocument) {
    if (Value* child = v->AsDocument().Find(path.part(i))) SliceAt(child, path, i + 1, node);
  } else if (v->type() == BsonType::kArray) {
    for (Value& e : v->AsArray()) {
      if (e.type() == BsonType::kDocument) SliceAt(&e, path, i, node);
    }
  }
}

const Node* NodeAt(const Node& root, const std::string& dotted) {
  FieldPath fp(dotted);
  const Node* cur = &root;
  for (size_t i = 0; i < fp.size(); ++i) {
    auto it = cur->children.find(fp.part(i));
    if (it == cur->children.end()) return nullptr;
    cur = &it->second;
  }
  return cur;
}

absl::Status Build(const Document& spec, bool find, bool add_fields, const pipeline::ParseContext& context,
                   Node* root, Projection::Mode* mode, std::vector<std::pair<Kind, std::string>>* specials) {
  Parser parser(find, add_fields, context);
  if (auto s = parser.ParseTop(spec, root); !s.ok()) return s;
  Parser::Type type = parser.FinalType();
  if (type == Parser::Type::kAddition) {
    *mode = Projection::Mode::kAddFields;
  } else if (type == Parser::Type::kInclusion) {
    *mode = Projection::Mode::kInclusion;
    if (!parser.id_specified()) {
      Node leaf;
      leaf.kind = Kind::kInclude;
      auto added = Parser::AddNode(root, {"_id"}, std::move(leaf));
      if (!added.ok()) return added.status();
    }
  } else {
    *mode = Projection::Mode::kExclusion;
    if (parser.id_specified() && parser.id_included_entirely()) {
      root->children.erase("_id");
      std::erase(root->order, "_id");
    }
  }
  Summarize(root);
  if (specials != nullptr) *specials = std::move(parser.specials);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Projection>> Projection::ParseFind(DocView spec,
                                                                  const pipeline::ParseContext& context) {
  auto p = std::make_unique<Projection>();
  std::vector<std::pair<Kind, std::string>> specials;
  if (auto s = Build(bson::Decode(spec), true, false, context, &p->root_, &p->mode_, &specials); !s.ok()) {
    return s;
  }
  for (const auto& [kind, path] : specials) {
    if (const Node* n = NodeAt(p->root_, path)) p->specials_.push_back({kind, path, n});
  }
  p->needs_tree_ = p->root_.has_computed || !p->specials_.empty();
  p->SetSplice();
  return p;
}

absl::StatusOr<std::unique_ptr<Projection>> Projection::ParseProject(const Document& spec,
                                                                     const pipeline::ParseContext& context) {
  if (spec.empty()) return MongoError(51272, "projection specification must have at least one field");
  auto p = std::make_unique<Projection>();
  if (auto s = Build(spec, false, false, context, &p->root_, &p->mode_, nullptr); !s.ok()) return s;
  p->needs_tree_ = p->root_.has_computed;
  p->SetSplice();
  return p;
}

absl::StatusOr<std::unique_ptr<Projection>> Projection::ParseAddFields(const Document& spec,
                                                                       const pipeline::ParseContext& context) {
  auto p = std::make_unique<Projection>();
  if (auto s = Build(spec, false, true, context, &p->root_, &p->mode_, nullptr); !s.ok()) return s;
  p->needs_tree_ = p->root_.has_computed;
  p->SetSplice();
  return p;
}

absl::StatusOr<std::unique_ptr<Projection>> Projection::Exclusion(const std::vector<std::string>& paths) {
  auto p = std::make_unique<Projection>();
  for (const std::string& path : paths) {
    auto parts = SplitPath(path);
    if (!parts.ok()) return parts.status();
    Node leaf;
    leaf.kind = Kind::kExclude;
    auto added = Parser::AddNode(&p->root_, *parts, std::move(leaf));
    if (!added.ok()) return added.status();
  }
  Summarize(&p->root_);
  p->mode_ = Mode::kExclusion;
  return p;
}

absl::StatusOr<std::string> Projection::Apply(DocView doc, const Matcher* filter,
                                              const pipeline::VariableMap* let) const {
  return Apply(doc, ApplyContext{filter, let, filter != nullptr ? filter->collator() : nullptr, nullptr});
}

absl::StatusOr<std::string> Projection::Apply(DocView doc, const ApplyContext& context) const {
  // Computed fields over the document as stored: spliced into its bytes, not a copy.
  const bool keeps_all = mode_ == Mode::kAddFields || (mode_ == Mode::kExclusion && !root_.has_projection &&
                                                      specials_.empty());
  if (splice_ && keeps_all) {
    auto spliced = SpliceComputed(doc, context, doc);
    if (!spliced.ok()) return spliced.status();
    if (*spliced) return **std::move(spliced);
  }
  std::string projected;
  switch (mode_) {
    case Mode::kInclusion: {
      Builder out;
      Include(root_, doc, &out);
      projected = std::move(out).Finish();
      break;
    }
    case Mode::kExclusion: {
      if (!root_.has_projection && specials_.empty()) {  // computed fields only: nothing to leave out
        projected.assign(doc.data(), doc.size());
        break;
      }
      Builder out;
      Exclude(root_, doc, &out);
      projected = std::move(out).Finish();
      break;
    }
    case Mode::kAddFields:
      projected.assign(doc.data(), doc.size());
      break;
  }
  if (!needs_tree_) return projected;
  if (splice_ && !keeps_all) {  // keeps_all: tried above on the document itself
    auto spliced = SpliceComputed(doc, context, DocView(projected));
    if (!spliced.ok()) return spliced.status();
    if (*spliced) return **std::move(spliced);
  }
  Document out = bson::Decode(DocView(projected));
  if (!specials_.empty()) {
    if (auto s = ApplySpecials(doc, context, &out); !s.ok()) return s;
  }
  if (root_.has_computed) {
    pipeline::Variables vars;
    vars.root_bson = &doc;
    vars.let = context.let;
    vars.collator = context.collator;
    vars.meta = context.meta;
    if (auto s = ApplyComputed(root_, &out, vars); !s.ok()) return s;
  }
  return bson::Encode(out);
}

void Projection::SetSplice() {
  splice_ = root_.has_computed && specials_.empty();
  spliced_.clear();
  for (const std::string& name : root_.order) {
    const Node& child = root_.children.find(name)->second;
    if (child.kind == Node::Kind::kInner && child.has_computed) splice_ = false;
    if (child.kind == Node::Kind::kComputed) spliced_.emplace_back(name, child.expr.get());
  }
}

absl::StatusOr<std::optional<std::string>> Projection::SpliceComputed(DocView original, const ApplyContext& context,
                                                                      DocView projected) const {
  const size_t n = spliced_.size();
  auto computed_at = [&](std::string_view key) -> size_t {
    for (size_t i = 0; i < n; ++i) {
      if (spliced_[i].first == key) return i;
    }
    return n;
  };
  absl::InlinedVector<bool, 4> present(n, false);
  for (const bson::ElementView& e : projected) {
    size_t i = computed_at(e.key);
    if (i == n) continue;
    if (present[i]) return std::nullopt;  // a name twice: Set replaces the first, Remove all
    present[i] = true;
  }
  pipeline::Variables vars;
  vars.root_bson = &original;
  vars.let = context.let;
  vars.collator = context.collator;
  vars.meta = context.meta;
  absl::InlinedVector<std::optional<Value>, 4> values;  // nullopt: missing (the field goes)
  for (const auto& [name, expr] : spliced_) {
    auto v = expr->Evaluate(vars);
    if (!v.ok()) return v.status();
    values.push_back(*std::move(v));
  }
  std::string bytes;
  bytes.reserve(projected.size() + 32);
  Builder out(Builder::AppendTo{&bytes});
  for (const bson::ElementView& e : projected) {
    size_t i = computed_at(e.key);
    if (i == n) {
      out.AppendView(e.key, e.value);
    } else if (values[i]) {
      out.AppendValue(e.key, *values[i]);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!present[i] && values[i]) out.AppendValue(spliced_[i].first, *values[i]);
  }
  std::move(out).Finish(Builder::AppendTo{&bytes});
  return bytes;
}

absl::Status Projection::ApplySpecials(DocView original, const ApplyContext& context, Document* out) const {
  std::optional<Document> source;
  for (const Special& s : specials_) {
    switch (s.kind) {
      case Kind::kSlice: {
        Value wrapped(std::move(*out));
        SliceAt(&wrapped, FieldPath(s.path), 0, *s.node);
        *out = std::move(wrapped.AsDocument());
        break;
      }
      case Kind::kElemMatch: {
        if (!source) source = bson::Decode(original);
        out->Remove(s.path);
        const Value* v = source->Find(s.path);
        if (v == nullptr || v->type() != BsonType::kArray) break;
        for (const Value& e : v->AsArray()) {
          std::string bytes = bson::Encode(Document{{s.path, Array{e}}});
          if (s.node->elem_match->Matches(DocView(bytes))) {
            out->Append(s.path, Array{e});
            break;
          }
        }
        break;
      }
      case Kind::kPositional: {
        if (!source) source = bson::Decode(original);
        std::optional<size_t> k;
        if (context.filter != nullptr) k = context.filter->FirstMatchingIndex(*source, s.path);
        Value* v = FindPath(out, s.path);
        if (v == nullptr || v->type() != BsonType::kArray) break;
        if (!k || *k >= v->AsArray().size()) {
          return MongoError(51246, "positional operator '.$' couldn't find a matching element in the array");
        }
        *v = Array{v->AsArray()[*k]};
        break;
      }
      default:
        break;
    }
  }
  return absl::OkStatus();
}

namespace {

bool CollectIncluded(const Projection::Node& node, const std::string& prefix, std::vector<std::string>* out,
                     bool* includes_id) {
  for (const std::string& name : node.order) {
    const Projection::Node& child = node.children.at(name);
    std::string path = prefix.empty() ? name : prefix + "." + name;
    switch (child.kind) {
      case Projection::Node::Kind::kInclude:
        if (path == "_id") {
          *includes_id = true;
        } else {
          out->push_back(path);
        }
        break;
      case Projection::Node::Kind::kExclude:
        if (path != "_id") return false;
        *includes_id = false;
        break;
      case Projection::Node::Kind::kInner:
        if (!CollectIncluded(child, path, out, includes_id)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::vector<std::string>> Projection::PlainInclusion(bool* includes_id) const {
  if (mode_ != Mode::kInclusion || needs_tree_) return std::nullopt;
  *includes_id = true;
  std::vector<std::string> out;
  if (!CollectIncluded(root_, "", &out, includes_id)) return std::nullopt;
  return out;
}

}  // namespace micromongo::query
