#pragma once

// mongodump's directory layout, shared by dump and restore:
//   <dir>/<database>/<collection>.bson            the documents, BSON one after another
//   <dir>/<database>/<collection>.metadata.json   {options, indexes, collectionName, type}
// each optionally gzipped (".gz" appended). Views have only the metadata file. Metadata is
// canonical Extended JSON, as mongodump writes it, so dumps move between micro-mongo and
// MongoDB both ways.

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "micromongo/document.h"
#include "micromongo/options.h"

namespace micromongo::tools {

// A file written or read through zlib: gzipped, or plain (zlib's transparent mode).
class DumpFile {
 public:
  // Throws std::runtime_error if the file cannot be opened.
  static DumpFile Create(const std::string& path, bool gzip);
  static DumpFile Open(const std::string& path);
  DumpFile(DumpFile&& o) noexcept : file_(o.file_), path_(std::move(o.path_)) { o.file_ = nullptr; }
  ~DumpFile();

  void Write(std::string_view bytes);
  // Flushes and closes; throws on a write error.
  void Close();
  // The next BSON document's bytes; false at the end. Throws on a truncated or malformed
  // length.
  bool ReadBson(std::string* bytes);
  std::string ReadAll();
  // Compressed bytes consumed so far (for progress against the file size).
  int64_t offset();

 private:
  DumpFile(gzFile f, std::string path) : file_(f), path_(std::move(path)) {}
  size_t Read(char* buf, size_t n);
  gzFile file_;
  std::string path_;
};

// A collection's entry of a dump.
struct CollectionMetadata {
  std::string name;
  bool view = false;
  Document options;              // listCollections' options
  std::vector<Document> indexes; // listIndexes' documents
};

std::string MetadataJson(const CollectionMetadata& m);
// Throws std::runtime_error for metadata that is not a document.
CollectionMetadata ParseMetadata(const std::string& json, const std::string& name);

// The options of Database::CreateCollection for dumped collection options; names the
// options micro-mongo does not have in `ignored`.
CollectionOptions ToCollectionOptions(const Document& options, std::vector<std::string>* ignored);

// An index document of listIndexes as CreateIndex's key pattern and options (a text
// index's {_fts: "text", _ftsx: 1} back to its fields).
struct IndexToCreate {
  Document keys;
  IndexOptions options;
};
IndexToCreate ToIndex(const Document& spec, std::vector<std::string>* ignored);

}  // namespace micromongo::tools
