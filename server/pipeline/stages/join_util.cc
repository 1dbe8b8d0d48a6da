#include "pipeline/stages/join_util.h"

#include <algorithm>

#include "document/builder.h"
#include "document/key_string.h"
#include "document/status.h"

namespace micromongo::pipeline::stages {
namespace {

void Walk(const bson::ValueView& v, const std::vector<std::string>& parts, size_t i, std::vector<Value>* out) {
  if (i == parts.size()) {
    if (v.type == BsonType::kArray) {
      for (const bson::ElementView& e : v.Doc()) out->push_back(bson::ToValue(e.value));
    } else {
      out->push_back(bson::ToValue(v));
    }
    return;
  }
  if (v.type == BsonType::kDocument) {
    bson::ValueView child;
    if (v.Doc().Find(parts[i], &child)) Walk(child, parts, i + 1, out);
  } else if (v.type == BsonType::kArray) {
    for (const bson::ElementView& e : v.Doc()) {
      if (e.value.type == BsonType::kDocument) Walk(e.value, parts, i, out);
    }
  }
}

// The values an equality query on `parts` can match in a document: those the path reaches,
// terminal arrays both whole and by element, and null where the path is missing.
void EqualityKeys(const bson::ValueView& v, const std::vector<std::string>& parts, size_t i,
                  std::vector<bson::ValueView>* out, bool* missing) {
  if (i == parts.size()) {
    out->push_back(v);
    if (v.type == BsonType::kArray) {
      for (const bson::ElementView& e : v.Doc()) out->push_back(e.value);
    }
    return;
  }
  if (v.type == BsonType::kDocument) {
    bson::ValueView child;
    if (v.Doc().Find(parts[i], &child)) {
      EqualityKeys(child, parts, i + 1, out, missing);
    } else {
      *missing = true;
    }
  } else if (v.type == BsonType::kArray) {
    bool any = false;
    for (const bson::ElementView& e : v.Doc()) {
      if (e.value.type == BsonType::kDocument) {
        any = true;
        EqualityKeys(e.value, parts, i, out, missing);
      }
    }
    if (!any) *missing = true;
  } else {
    *missing = true;
  }
}

}  // namespace

std::vector<std::string> SplitDotted(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

void ValuesAlongPath(bson::DocView doc, const std::vector<std::string>& parts, std::vector<Value>* out) {
  Walk(bson::ValueView{BsonType::kDocument, doc.data(), doc.size()}, parts, 0, out);
}

std::string EqualityFilter(std::string_view field, const std::vector<Value>& values) {
  if (values.empty()) return bson::Encode(Document{{std::string(field), Document{{"$eq", Value(nullptr)}}}});
  bool regex = false;
  for (const Value& v : values) regex = regex || v.type() == BsonType::kRegex;
  if (values.size() == 1) {
    return bson::Encode(Document{{std::string(field), Document{{"$eq", values[0]}}}});
  }
  if (!regex) {
    return bson::Encode(Document{{std::string(field), Document{{"$in", Array(values.begin(), values.end())}}}});
  }
  Array any;
  for (const Value& v : values) any.push_back(Document{{std::string(field), Document{{"$eq", v}}}});
  return bson::Encode(Document{{"$or", any}});
}

std::string ValueKey(const Value& v, const bson::Collator* collator) {
  bson::Builder b;
  b.AppendValue("", v);
  std::string doc = std::move(b).Finish();
  std::string key;
  bson::AppendKeyString(bson::DocView(doc).begin()->value, &key, collator);
  return key;
}

absl::StatusOr<std::unique_ptr<HashIndex>> HashIndex::Build(ExecContext* ctx, const ReadRequest& request,
                                                            const std::vector<std::string>& field) {
  auto index = std::unique_ptr<HashIndex>(new HashIndex());
  index->collator_ = ctx->collator_ptr();
  auto source = ctx->data->Read(request, nullptr);
  if (!source.ok()) return source.status();
  Row row;
  int64_t memory = 0;
  std::vector<bson::ValueView> keys;
  std::string key;
  while (true) {
    auto more = (*source)->Next(&row);
    if (!more.ok()) return more.status();
    if (!*more) break;
    uint32_t n = static_cast<uint32_t>(index->docs_.size());
    index->docs_.push_back(std::move(row.doc));
    bson::DocView doc(index->docs_.back());
    keys.clear();
    bool missing = false;
    EqualityKeys(bson::ValueView{BsonType::kDocument, doc.data(), doc.size()}, field, 0, &keys, &missing);
    if (missing) keys.push_back(bson::kNullValue);
    memory += static_cast<int64_t>(index->docs_.back().size() + 64);
    for (const bson::ValueView& v : keys) {
      key.clear();
      bson::AppendKeyString(v, &key, index->collator_);
      std::vector<uint32_t>& list = index->by_key_[key];
      if (list.empty() || list.back() != n) {
        list.push_back(n);
        memory += static_cast<int64_t>(key.size() + 48);
      }
    }
    if (memory > ctx->memory_limit) return MemoryLimitExceeded("$lookup", ctx->memory_limit);
  }
  return index;
}

std::vector<const std::string*> HashIndex::Probe(const std::vector<Value>& values) const {
  std::vector<uint32_t> hits;
  auto add = [&](const std::string& key) {
    auto it = by_key_.find(key);
    if (it != by_key_.end()) hits.insert(hits.end(), it->second.begin(), it->second.end());
  };
  if (values.empty()) {
    add(ValueKey(Value(nullptr), collator_));
  } else {
    for (const Value& v : values) add(ValueKey(v, collator_));
  }
  if (values.size() > 1) {
    std::sort(hits.begin(), hits.end());
    hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  }
  std::vector<const std::string*> out;
  out.reserve(hits.size());
  for (uint32_t i : hits) out.push_back(&docs_[i]);
  return out;
}

namespace {

void SetNested(Document* doc, const std::vector<std::string>& parts, size_t i, const Value& value) {
  if (i + 1 == parts.size()) {
    doc->Set(parts[i], value);
    return;
  }
  Value* child = doc->Find(parts[i]);
  if (child == nullptr || child->type() != BsonType::kDocument) {
    doc->Set(parts[i], Document());
    child = doc->Find(parts[i]);
  }
  SetNested(&child->AsDocument(), parts, i + 1, value);
}

}  // namespace

std::string SetField(bson::DocView doc, const std::vector<std::string>& field, const Value& value) {
  if (field.size() == 1) {
    bson::Builder b;
    b.Reserve(doc.size() + 64);
    bool replaced = false;
    for (const bson::ElementView& e : doc) {
      if (!replaced && e.key == field[0]) {
        b.AppendValue(e.key, value);
        replaced = true;
      } else if (e.key != field[0]) {
        b.AppendView(e.key, e.value);
      }
    }
    if (!replaced) b.AppendValue(field[0], value);
    return std::move(b).Finish();
  }
  Document d = bson::Decode(doc);
  SetNested(&d, field, 0, value);
  return bson::Encode(d);
}

std::string SetFieldToDocuments(bson::DocView doc, const std::vector<std::string>& field,
                                const std::vector<std::string_view>& docs) {
  char scratch[24];
  if (field.size() != 1) {
    bson::Builder array;
    for (size_t i = 0; i < docs.size(); ++i) array.AppendDocument(bson::ArrayKey(i, scratch), bson::DocView(docs[i]));
    std::string bytes = std::move(array).Finish();
    Value v = bson::ToValue(bson::ValueView{BsonType::kArray, bytes.data(), static_cast<uint32_t>(bytes.size())});
    return SetField(doc, field, v);
  }
  size_t total = doc.size() + field[0].size() + 8;
  for (std::string_view d : docs) total += d.size() + 8;
  bson::Builder b;
  b.Reserve(total);
  auto append_array = [&] {
    size_t t = b.StartArray(field[0]);
    for (size_t i = 0; i < docs.size(); ++i) b.AppendDocument(bson::ArrayKey(i, scratch), bson::DocView(docs[i]));
    b.End(t);
  };
  bool replaced = false;
  for (const bson::ElementView& e : doc) {
    if (e.key != field[0]) {
      b.AppendView(e.key, e.value);
    } else if (!replaced) {
      append_array();
      replaced = true;
    }
  }
  if (!replaced) append_array();
  return std::move(b).Finish();
}

}  // namespace micromongo::pipeline::stages
