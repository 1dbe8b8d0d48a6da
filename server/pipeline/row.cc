#include "document/builder.h"
#include "document/status.h"
#include "pipeline/stage.h"

namespace micromongo::pipeline {

// Layout: the document's BSON, then (if there is metadata) its fields as a second BSON
// document. The first document's length prefix says where the second starts.
std::string PackRow(Row row) {
  if (row.meta == nullptr) return std::move(row.doc);
  // Built in place after the document's bytes: a sort packs every row it holds (through a
  // Document tree, 2.2k instructions a row of a $text query sorted by score).
  const DocumentMeta& m = *row.meta;
  std::string out = std::move(row.doc);
  bson::Builder meta(bson::Builder::AppendTo{&out});
  if (m.text_score) meta.AppendDouble("t", *m.text_score);
  if (m.search_score) meta.AppendDouble("s", *m.search_score);
  if (m.geo_near_distance) meta.AppendDouble("d", *m.geo_near_distance);
  if (m.geo_near_point) meta.AppendValue("p", *m.geo_near_point);
  if (m.rand_val) meta.AppendDouble("r", *m.rand_val);
  if (m.sort_key) meta.AppendValue("k", *m.sort_key);
  if (m.index_key) meta.AppendValue("i", *m.index_key);
  if (m.record_id) meta.AppendValue("c", *m.record_id);
  std::move(meta).Finish(bson::Builder::AppendTo{&out});
  return out;
}

absl::Status UnpackRow(std::string packed, Row* row) {
  if (packed.size() < 5) return MongoError(kInternalError, "corrupt packed row");
  size_t doc_size = static_cast<size_t>(bson::ReadInt32(packed.data()));
  if (doc_size > packed.size()) return MongoError(kInternalError, "corrupt packed row");
  if (doc_size == packed.size()) {
    row->doc = std::move(packed);
    row->meta.reset();
    return absl::OkStatus();
  }
  auto m = std::make_shared<DocumentMeta>();
  for (const bson::ElementView& e : bson::DocView(packed.data() + doc_size)) {
    if (e.key.size() != 1) continue;
    switch (e.key[0]) {
      case 't': m->text_score = e.value.AsDouble(); break;
      case 's': m->search_score = e.value.AsDouble(); break;
      case 'd': m->geo_near_distance = e.value.AsDouble(); break;
      case 'p': m->geo_near_point = bson::ToValue(e.value); break;
      case 'r': m->rand_val = e.value.AsDouble(); break;
      case 'k': m->sort_key = bson::ToValue(e.value); break;
      case 'i': m->index_key = bson::ToValue(e.value); break;
      case 'c': m->record_id = bson::ToValue(e.value); break;
    }
  }
  packed.resize(doc_size);
  row->doc = std::move(packed);
  row->meta = std::move(m);
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline
