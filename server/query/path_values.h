#pragma once

// Every value a dotted path reaches in a document, with MongoDB's array traversal:
// arrays at the end of the path are unwound, arrays along it are walked into their
// subdocuments, and numeric components also index arrays. Used by sort and distinct.

#include "document/bson_view.h"
#include "query/field_path.h"

namespace micromongo::query {

template <typename Fn>
void ForEachValueAtPath(const bson::ValueView& v, const FieldPath& path, size_t i, Fn& fn) {
  if (i == path.size()) {
    if (v.type == BsonType::kArray) {
      for (const bson::ElementView& e : v.Doc()) fn(e.value);
    } else {
      fn(v);
    }
    return;
  }
  if (v.type == BsonType::kDocument) {
    bson::ValueView child;
    if (v.Doc().Find(path.part(i), &child)) ForEachValueAtPath(child, path, i + 1, fn);
  } else if (v.type == BsonType::kArray) {
    std::optional<size_t> index = path.index(i);
    size_t pos = 0;
    for (const bson::ElementView& e : v.Doc()) {
      if (e.value.type == BsonType::kDocument) ForEachValueAtPath(e.value, path, i, fn);
      if (index && pos == *index) ForEachValueAtPath(e.value, path, i + 1, fn);
      ++pos;
    }
  }
}

template <typename Fn>
void ForEachValueAtPath(bson::DocView doc, const FieldPath& path, Fn& fn) {
  bson::ValueView root{BsonType::kDocument, doc.data(), doc.size()};
  ForEachValueAtPath(root, path, 0, fn);
}

}  // namespace micromongo::query
