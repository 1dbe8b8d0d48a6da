#include "dump_files.h"

#include <cstring>
#include <stdexcept>

namespace micromongo::tools {

DumpFile DumpFile::Create(const std::string& path, bool gzip) {
  gzFile f = gzopen(path.c_str(), gzip ? "wb6" : "wbT");
  if (f == nullptr) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  gzbuffer(f, 1 << 20);
  return DumpFile(f, path);
}

DumpFile DumpFile::Open(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  gzbuffer(f, 1 << 20);
  return DumpFile(f, path);
}

DumpFile::~DumpFile() {
  if (file_ != nullptr) gzclose(file_);
}

void DumpFile::Write(std::string_view bytes) {
  if (bytes.empty()) return;
  if (gzwrite(file_, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size())) {
    int err = 0;
    throw std::runtime_error("cannot write " + path_ + ": " + gzerror(file_, &err));
  }
}

void DumpFile::Close() {
  gzFile f = file_;
  file_ = nullptr;
  if (f != nullptr && gzclose(f) != Z_OK) throw std::runtime_error("cannot write " + path_);
}

size_t DumpFile::Read(char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    int r = gzread(file_, buf + got, static_cast<unsigned>(n - got));
    if (r < 0) {
      int err = 0;
      throw std::runtime_error("cannot read " + path_ + ": " + gzerror(file_, &err));
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

bool DumpFile::ReadBson(std::string* bytes) {
  char head[4];
  size_t n = Read(head, 4);
  if (n == 0) return false;
  if (n < 4) throw std::runtime_error(path_ + ": truncated BSON document at the end");
  uint32_t size = static_cast<uint32_t>(static_cast<unsigned char>(head[0])) |
                  static_cast<uint32_t>(static_cast<unsigned char>(head[1])) << 8 |
                  static_cast<uint32_t>(static_cast<unsigned char>(head[2])) << 16 |
                  static_cast<uint32_t>(static_cast<unsigned char>(head[3])) << 24;
  // MongoDB's 16 MiB documents plus room for the format's overhead.
  if (size < 5 || size > (16u << 20) + (16u << 10)) {
    throw std::runtime_error(path_ + ": invalid BSON document length " + std::to_string(size));
  }
  bytes->resize(size);
  std::memcpy(bytes->data(), head, 4);
  if (Read(bytes->data() + 4, size - 4) != size - 4) {
    throw std::runtime_error(path_ + ": truncated BSON document at the end");
  }
  return true;
}

std::string DumpFile::ReadAll() {
  std::string out;
  char buf[65536];
  while (size_t n = Read(buf, sizeof buf)) out.append(buf, n);
  return out;
}

int64_t DumpFile::offset() { return static_cast<int64_t>(gzoffset(file_)); }

std::string MetadataJson(const CollectionMetadata& m) {
  Array indexes;
  for (const Document& i : m.indexes) indexes.push_back(i);
  Document doc{{"options", m.options},
               {"indexes", std::move(indexes)},
               {"collectionName", m.name},
               {"type", m.view ? "view" : "collection"}};
  return doc.ToCanonicalJson();
}

CollectionMetadata ParseMetadata(const std::string& json, const std::string& name) {
  Document doc;
  try {
    doc = Document::FromJson(json);
  } catch (const std::exception& e) {
    throw std::runtime_error("metadata of " + name + " is not a JSON document: " + e.what());
  }
  CollectionMetadata m;
  m.name = name;
  if (const Value* v = doc.Find("collectionName"); v && v->type() == BsonType::kString) m.name = v->AsString();
  if (const Value* v = doc.Find("options"); v && v->type() == BsonType::kDocument) m.options = v->AsDocument();
  if (const Value* v = doc.Find("indexes"); v && v->type() == BsonType::kArray) {
    for (const Value& i : v->AsArray()) {
      if (i.type() == BsonType::kDocument) m.indexes.push_back(i.AsDocument());
    }
  }
  const Value* type = doc.Find("type");
  m.view = (type && type->type() == BsonType::kString && type->AsString() == "view") ||
           m.options.Has("viewOn");
  return m;
}

CollectionOptions ToCollectionOptions(const Document& options, std::vector<std::string>* ignored) {
  CollectionOptions out;
  for (const auto& [k, v] : options) {
    if (k == "validator" && v.type() == BsonType::kDocument) {
      out.validator = v.AsDocument();
    } else if (k == "validationLevel" && v.type() == BsonType::kString) {
      out.validation_level = v.AsString();
    } else if (k == "validationAction" && v.type() == BsonType::kString) {
      out.validation_action = v.AsString();
    } else if (k == "viewOn" && v.type() == BsonType::kString) {
      out.view_on = v.AsString();
    } else if (k == "pipeline" && v.type() == BsonType::kArray) {
      for (const Value& s : v.AsArray()) {
        if (s.type() == BsonType::kDocument) out.pipeline.push_back(s.AsDocument());
      }
    } else if (k == "capped" && v.type() == BsonType::kBool) {
      out.capped = v.AsBool();
    } else if ((k == "size" || k == "max") && v.IsNumber()) {
      (k == "size" ? out.capped_size : out.capped_max) = static_cast<int64_t>(v.ToDouble());
    } else if (k == "clusteredIndex" && v.type() == BsonType::kDocument) {
      out.clustered_index = v.AsDocument();
    } else if (k == "expireAfterSeconds" && v.IsNumber()) {
      out.expire_after_seconds = static_cast<int64_t>(v.ToDouble());
    } else if (k == "changeStreamPreAndPostImages" && v.type() == BsonType::kDocument) {
      if (const Value* e = v.AsDocument().Find("enabled"); e && e->type() == BsonType::kBool) {
        out.change_stream_pre_and_post_images = e->AsBool();
      }
    } else {
      ignored->push_back(k);
    }
  }
  return out;
}

IndexToCreate ToIndex(const Document& spec, std::vector<std::string>* ignored) {
  IndexToCreate out;
  IndexOptions& o = out.options;
  Document key;
  if (const Value* v = spec.Find("key"); v && v->type() == BsonType::kDocument) key = v->AsDocument();
  for (const auto& [k, v] : spec) {
    if (k == "key" || k == "v" || k == "ns" || k == "background" || k == "textIndexVersion" ||
        k == "2dsphereIndexVersion") {
      continue;
    } else if (k == "name" && v.type() == BsonType::kString) {
      o.name = v.AsString();
    } else if (k == "unique" && v.type() == BsonType::kBool) {
      o.unique = v.AsBool();
    } else if (k == "sparse" && v.type() == BsonType::kBool) {
      o.sparse = v.AsBool();
    } else if (k == "hidden" && v.type() == BsonType::kBool) {
      o.hidden = v.AsBool();
    } else if (k == "partialFilterExpression" && v.type() == BsonType::kDocument) {
      o.partial_filter_expression = v.AsDocument();
    } else if (k == "expireAfterSeconds" && v.IsNumber()) {
      o.expire_after_seconds = v.ToInt64();
    } else if (k == "collation" && v.type() == BsonType::kDocument) {
      o.collation = v.AsDocument();
    } else if (k == "wildcardProjection" && v.type() == BsonType::kDocument) {
      o.wildcard_projection = v.AsDocument();
    } else if (k == "weights" && v.type() == BsonType::kDocument) {
      o.weights = v.AsDocument();
    } else if (k == "default_language" && v.type() == BsonType::kString) {
      o.default_language = v.AsString();
    } else if (k == "language_override" && v.type() == BsonType::kString) {
      o.language_override = v.AsString();
    } else if (k == "min" && v.IsNumber()) {
      o.min = v.ToDouble();
    } else if (k == "max" && v.IsNumber()) {
      o.max = v.ToDouble();
    } else if (k == "bits" && v.IsNumber()) {
      o.bits = static_cast<int32_t>(v.ToInt64());
    } else {
      ignored->push_back(k);
    }
  }
  // A text index lists as {prefix..., _fts: "text", _ftsx: 1, suffix...} with its fields
  // in `weights`; CreateIndex takes the fields themselves.
  if (key.Has("_fts")) {
    Document fields;
    for (const auto& [k, v] : key) {
      if (k == "_fts") {
        if (o.weights) {
          for (const auto& [field, w] : *o.weights) fields.Append(field, "text");
        }
      } else if (k != "_ftsx") {
        fields.Append(k, v);
      }
    }
    key = std::move(fields);
  }
  out.keys = std::move(key);
  return out;
}

}  // namespace micromongo::tools
