#pragma once

// The running pieces of an aggregation pipeline: rows and the stages that pull them.
//
// Execution is pull-based: the consumer asks the last stage for its next row, which asks
// its input, down to the source (a collection read, $documents, ...). Rows are BSON bytes,
// so documents read from storage flow through $match, $project and the like without being
// decoded into trees, and a cursor's first batch leaves before the source is exhausted
// unless a blocking stage ($sort, $group, ...) needs all of its input.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "document/bson_view.h"
#include "pipeline/expression.h"

namespace micromongo::pipeline {

// One document in flight and the metadata stages attached to it ({$meta: ...}).
struct Row {
  std::string doc;  // BSON
  std::shared_ptr<const DocumentMeta> meta;  // null: none

  bson::DocView view() const { return bson::DocView(doc); }
};

class Stage {
 public:
  virtual ~Stage() = default;
  // The next row into *out; false at the end (and on every later call).
  virtual absl::StatusOr<bool> Next(Row* out) = 0;
};

using StagePtr = std::unique_ptr<Stage>;

// The value at a dotted path of `doc`, read from the BSON for field-path expressions
// ("$a.b"): kFound with *out set, kMissing, or kSlow when an array lies along the path (the
// expression evaluator then maps the rest of the path over it).
enum class PathLookup { kFound, kMissing, kSlow };
inline PathLookup LookupPath(bson::DocView doc, const std::vector<std::string>& parts, bson::ValueView* out) {
  bson::ValueView v{BsonType::kDocument, doc.data(), doc.size()};
  for (const std::string& part : parts) {
    if (v.type == BsonType::kArray) return PathLookup::kSlow;
    if (v.type != BsonType::kDocument) return PathLookup::kMissing;
    bson::ValueView child;
    if (!v.Doc().Find(part, &child)) return PathLookup::kMissing;
    v = child;
  }
  *out = v;
  return PathLookup::kFound;
}

// Several field paths read from each document in one pass over its top-level fields (what
// LookupPath does per path, without scanning the document once per path).
class FieldReader {
 public:
  // Null entries of `paths` are skipped (their results stay kSlow).
  explicit FieldReader(std::vector<const std::vector<std::string>*> paths) : paths_(std::move(paths)) {
    for (size_t i = 0; i < paths_.size(); ++i) {
      if (paths_[i] == nullptr) continue;
      const std::string& first = (*paths_[i])[0];
      size_t slot = 0;
      while (slot < firsts_.size() && firsts_[slot] != first) ++slot;
      if (slot == firsts_.size()) firsts_.push_back(first);
      slot_of_.push_back(slot);
    }
    found_.resize(firsts_.size());
    have_.resize(firsts_.size());
  }

  // results[i] / values[i] for paths_[i].
  void Read(bson::DocView doc, std::vector<PathLookup>* results, std::vector<bson::ValueView>* values) {
    // Sized once; every entry is set below (this runs once per document of a $group).
    if (results->size() != paths_.size()) {
      results->assign(paths_.size(), PathLookup::kSlow);
      values->resize(paths_.size());
    }
    for (char& have : have_) have = 0;
    size_t remaining = firsts_.size();
    for (const bson::ElementView& e : doc) {
      for (size_t k = 0; k < firsts_.size(); ++k) {
        if (!have_[k] && e.key == firsts_[k]) {
          found_[k] = e.value;
          have_[k] = 1;
          --remaining;
          break;
        }
      }
      if (remaining == 0) break;
    }
    size_t n = 0;
    for (size_t i = 0; i < paths_.size(); ++i) {
      if (paths_[i] == nullptr) {
        (*results)[i] = PathLookup::kSlow;
        continue;
      }
      size_t slot = slot_of_[n++];
      const bson::ValueView& top = found_[slot];
      if (!have_[slot]) {
        (*results)[i] = PathLookup::kMissing;
        continue;
      }
      bson::ValueView v = top;
      PathLookup r = PathLookup::kFound;
      for (size_t p = 1; p < paths_[i]->size(); ++p) {
        if (v.type == BsonType::kArray) {
          r = PathLookup::kSlow;
          break;
        }
        bson::ValueView child;
        if (v.type != BsonType::kDocument || !v.Doc().Find((*paths_[i])[p], &child)) {
          r = PathLookup::kMissing;
          break;
        }
        v = child;
      }
      (*results)[i] = r;
      (*values)[i] = v;
    }
  }

 private:
  std::vector<const std::vector<std::string>*> paths_;
  std::vector<std::string> firsts_;
  std::vector<size_t> slot_of_;
  std::vector<bson::ValueView> found_;
  std::vector<char> have_;
};

// A row as one byte string and back (for stages that spill rows or sort them with their
// metadata).
std::string PackRow(Row row);
absl::Status UnpackRow(std::string packed, Row* row);

}  // namespace micromongo::pipeline
