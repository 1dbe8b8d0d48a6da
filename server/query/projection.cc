#include "query/projection.h"

#include "document/builder.h"
#include "document/status.h"
#include "query/field_path.h"

namespace micromongo::query {
namespace {

using bson::Builder;
using bson::DocView;
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
  for (const ElementView& e : spec) {
    bool include;
    switch (e.value.type) {
      case BsonType::kBool: include = e.value.Bool(); break;
      case BsonType::kInt32:
      case BsonType::kInt64:
      case BsonType::kDouble:
      case BsonType::kDecimal128: include = e.value.AsDouble() != 0; break;
      default:
        return MongoError(kNotImplemented,
                          StrCat("projection of '", e.key,
                                 "': only inclusion (1/true) and exclusion (0/false) are "
                                 "supported yet"));
    }
    if (e.key.empty() || e.key.front() == '$') {
      return MongoError(kBadValue, StrCat("invalid projection field name '", e.key, "'"));
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
    FieldPath path(e.key);
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
  // {_id: 1} alone is an inclusion projection of just _id.
  p->inclusion_ = has_inclusion || (id_included_explicitly && !has_exclusion);
  // Inclusion: the tree lists what to keep. Exclusion: what to drop.
  if (p->inclusion_ == p->include_id_) p->root_.children["_id"] = Node{.leaf = true};
  return p;
}

std::string Projection::Apply(DocView doc) const {
  Builder out;
  if (inclusion_) {
    Include(root_, doc, &out);
  } else {
    Exclude(root_, doc, &out);
  }
  return std::move(out).Finish();
}

}  // namespace micromongo::query
