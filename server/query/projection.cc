#include "query/projection.h"

#include "document/builder.h"
#include "document/status.h"
#include "query/field_path.h"
#include "query/matcher.h"
#include "micromongo/document.h"

namespace micromongo::query {
namespace {

using bson::Builder;
using bson::DocView;
using bson::ValueView;
using bson::ElementView;
using Node = Projection::Node;

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
    if (it->second.leaf) {
      out->AppendView(e.key, e.value);
    } else if (e.value.type == BsonType::kDocument) {
      size_t t = out->StartDocument(e.key);
      Include(it->second, e.value.Doc(), out);
      out->End(t);
    } else if (e.value.type == BsonType::kArray) {
      size_t t = out->StartArray(e.key);
      IncludeArray(it->second, e.value.Doc(), out);
      out->End(t);
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
    } else if (it->second.leaf) {
      continue;
    } else if (e.value.type == BsonType::kDocument) {
      size_t t = out->StartDocument(e.key);
      Exclude(it->second, e.value.Doc(), out);
      out->End(t);
    } else if (e.value.type == BsonType::kArray) {
      size_t t = out->StartArray(e.key);
      ExcludeArray(it->second, e.value.Doc(), out);
      out->End(t);
    } else {
      out->AppendView(e.key, e.value);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Projection>> Projection::Parse(DocView spec) {
  auto p = std::make_unique<Projection>();
  bool has_inclusion = false, has_exclusion = false, id_included_explicitly = false;
  std::vector<std::string> slice_only;  // $slice paths outside inclusion mode
  int positional = 0;
  for (const ElementView& e : spec) {
    if (e.key.empty() || e.key.front() == '$') {
      return MongoError(kBadValue, StrCat("invalid projection field name '", e.key, "'"));
    }
    bool include = true;
    std::string key(e.key);
    bool is_flag = e.value.type == BsonType::kBool || e.value.IsNumber();
    if (key.size() > 2 && key.ends_with(".$")) {
      if (++positional > 1) {
        return MongoError(31276, "Cannot specify more than one positional projection per query.");
      }
      key.resize(key.size() - 2);
      Special s{Special::kPositional, key};
      p->specials_.push_back(std::move(s));
    } else if (!is_flag) {
      DocView op;
      bool op_doc = e.value.type == BsonType::kDocument && !e.value.Doc().empty() &&
                    e.value.Doc().begin()->key.size() > 0 && e.value.Doc().begin()->key[0] == '$';
      std::string_view op_name = op_doc ? e.value.Doc().begin()->key : "";
      if (op_name == "$slice") {
        ValueView arg = e.value.Doc().begin()->value;
        Special s{Special::kSlice, key};
        if (arg.IsNumber()) {
          s.limit = static_cast<int64_t>(arg.AsDouble());
        } else if (arg.type == BsonType::kArray && arg.Doc().CountElements() == 2) {
          auto it = arg.Doc().begin();
          ValueView a = it->value;
          ++it;
          ValueView b = it->value;
          if (!a.IsNumber() || !b.IsNumber()) {
            return MongoError(28724, "First argument to $slice must be an array, second and third numbers");
          }
          if (b.AsDouble() <= 0) return MongoError(28724, "$slice limit must be positive");
          s.skip = static_cast<int64_t>(a.AsDouble());
          s.limit = static_cast<int64_t>(b.AsDouble());
          s.slice_has_skip = true;
        } else {
          return MongoError(28667, "$slice only supports numbers and [skip, limit] arrays");
        }
        p->specials_.push_back(std::move(s));
        slice_only.push_back(key);
        continue;  // does not decide the projection's mode by itself
      } else if (op_name == "$elemMatch") {
        if (key.find('.') != std::string::npos) {
          return MongoError(31275, "Cannot use $elemMatch projection on a nested field.");
        }
        ValueView arg = e.value.Doc().begin()->value;
        if (arg.type != BsonType::kDocument) return MongoError(kBadValue, "$elemMatch needs an Object");
        bson::Builder filter;
        filter.AppendView(key, bson::ValueView{BsonType::kDocument, e.value.data, e.value.size});
        auto m = Matcher::Parse(std::move(filter).Finish());
        if (!m.ok()) return m.status();
        Special s{Special::kElemMatch, key};
        s.elem_match = std::shared_ptr<Matcher>(*std::move(m));
        p->specials_.push_back(std::move(s));
      } else if (op_name == "$meta") {
        return MongoError(kNotImplemented, "$meta projections are not supported");
      } else {
        auto expr = pipeline::ParseExpression(bson::ToValue(e.value));
        if (!expr.ok()) return expr.status();
        Special s{Special::kComputed, key};
        s.expr = std::shared_ptr<pipeline::Expression>(*std::move(expr));
        p->specials_.push_back(std::move(s));
        if (has_exclusion) {
          return MongoError(31253, StrCat("Cannot do inclusion on field ", e.key, " in exclusion projection"));
        }
        has_inclusion = true;
        continue;  // computed fields are added after projecting
      }
    } else {
      include = e.value.type == BsonType::kBool ? e.value.Bool() : e.value.AsDouble() != 0;
    }
    if (e.key == "_id") {
      p->include_id_ = include;
      id_included_explicitly = include;
      continue;
    }
    if (include) {
      if (has_exclusion) {
        return MongoError(31253, StrCat("Cannot do inclusion on field ", e.key,
                                        " in exclusion projection"));
      }
      has_inclusion = true;
    } else {
      if (has_inclusion) {
        return MongoError(31254, StrCat("Cannot do exclusion on field ", e.key,
                                        " in inclusion projection"));
      }
      has_exclusion = true;
    }
    FieldPath path(key);
    Node* node = &p->root_;
    for (size_t i = 0; i < path.size(); ++i) {
      if (path.part(i).empty()) {
        return MongoError(kBadValue, StrCat("invalid projection path '", e.key, "'"));
      }
      if (node->leaf) {
        return MongoError(31249, StrCat("Path collision at ", e.key));
      }
      node = &node->children[std::string(path.part(i))];
    }
    if (node->leaf || !node->children.empty()) {
      return MongoError(31250, StrCat("Path collision at ", e.key));
    }
    node->leaf = true;
  }
  // $slice on a field the inclusion keeps anyway needs no entry; in an inclusion
  // projection it includes the field, in an exclusion one it just trims it.
  if (has_inclusion) {
    for (const std::string& path : slice_only) {
      FieldPath fp(path);
      Node* node = &p->root_;
      for (size_t i = 0; i < fp.size() && !node->leaf; ++i) node = &node->children[std::string(fp.part(i))];
      node->leaf = true;
      node->children.clear();
    }
  }
  // {_id: 1} alone is an inclusion projection of just _id.
  p->inclusion_ = has_inclusion || (id_included_explicitly && !has_exclusion);
  // Inclusion: the tree lists what to keep. Exclusion: what to drop.
  if (p->inclusion_ == p->include_id_) p->root_.children["_id"] = Node{.leaf = true};
  return p;
}

absl::StatusOr<std::string> Projection::Apply(DocView doc, const Matcher* filter,
                                              const pipeline::VariableMap* let) const {
  Builder out;
  if (inclusion_) {
    Include(root_, doc, &out);
  } else {
    Exclude(root_, doc, &out);
  }
  std::string projected = std::move(out).Finish();
  if (!specials_.empty()) {
    if (auto s = ApplySpecials(doc, filter, let, &projected); !s.ok()) return s;
  }
  return projected;
}

namespace {

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

void SetPath(Document* doc, const std::string& path, Value value) {
  FieldPath fp(path);
  Document* cur = doc;
  for (size_t i = 0; i + 1 < fp.size(); ++i) {
    Value* v = cur->Find(fp.part(i));
    if (v == nullptr || v->type() != BsonType::kDocument) {
      cur->Set(fp.part(i), Document());
      v = cur->Find(fp.part(i));
    }
    cur = &v->AsDocument();
  }
  cur->Set(fp.part(fp.size() - 1), std::move(value));
}

}  // namespace

absl::Status Projection::ApplySpecials(DocView original, const Matcher* filter,
                                       const pipeline::VariableMap* let,
                                       std::string* projected) const {
  Document out = bson::Decode(DocView(*projected));
  Document source = bson::Decode(original);
  for (const Special& s : specials_) {
    switch (s.kind) {
      case Special::kSlice: {
        Value* v = FindPath(&out, s.path);
        if (v == nullptr || v->type() != BsonType::kArray) break;
        Array& a = v->AsArray();
        int64_t n = static_cast<int64_t>(a.size());
        int64_t from = 0, count = n;
        if (s.slice_has_skip) {
          from = s.skip < 0 ? std::max<int64_t>(0, n + s.skip) : std::min(s.skip, n);
          count = s.limit;
        } else if (s.limit >= 0) {
          count = s.limit;
        } else {
          from = std::max<int64_t>(0, n + s.limit);
        }
        Array sliced(a.begin() + from, a.begin() + std::min(n, from + count));
        a = std::move(sliced);
        break;
      }
      case Special::kElemMatch: {
        out.Remove(s.path);
        const Value* v = source.Find(s.path);
        if (v == nullptr || v->type() != BsonType::kArray) break;
        for (const Value& e : v->AsArray()) {
          Document probe{{s.path, Array{e}}};
          std::string bytes = bson::Encode(probe);
          if (s.elem_match->Matches(DocView(bytes))) {
            out.Append(s.path, Array{e});
            break;
          }
        }
        break;
      }
      case Special::kPositional: {
        std::optional<size_t> k;
        if (filter != nullptr) k = filter->FirstMatchingIndex(source, s.path);
        Value* v = FindPath(&out, s.path);
        if (v == nullptr || v->type() != BsonType::kArray) break;
        if (!k || *k >= v->AsArray().size()) {
          return MongoError(51246, "positional operator '.$' couldn't find a matching element in the array");
        }
        *v = Array{v->AsArray()[*k]};
        break;
      }
      case Special::kComputed: {
        auto v = pipeline::EvaluateOn(*s.expr, source, let,
                                      filter != nullptr ? filter->collator() : nullptr);
        if (!v.ok()) return v.status();
        if (*v) SetPath(&out, s.path, **v);
        break;
      }
    }
  }
  *projected = bson::Encode(out);
  return absl::OkStatus();
}

}  // namespace micromongo::query
