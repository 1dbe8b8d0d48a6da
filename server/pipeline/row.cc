#include "document/builder.h"
#include "document/status.h"
#include "pipeline/stage.h"

namespace micromongo::pipeline {

// Layout: the document's BSON, then (if there is metadata) its fields as a second BSON
// document. The first document's length prefix says where the second starts.
std::string PackRow(Row row) {
  if (row.meta == nullptr) return std::move(row.doc);
  const DocumentMeta& m = *row.meta;
  Document meta;
  if (m.text_score) meta.Append("t", *m.text_score);
  if (m.search_score) meta.Append("s", *m.search_score);
  if (m.geo_near_distance) meta.Append("d", *m.geo_near_distance);
  if (m.geo_near_point) meta.Append("p", *m.geo_near_point);
  if (m.rand_val) meta.Append("r", *m.rand_val);
  if (m.sort_key) meta.Append("k", *m.sort_key);
  if (m.index_key) meta.Append("i", *m.index_key);
  if (m.record_id) meta.Append("c", *m.record_id);
  std::string out = std::move(row.doc);
  out.append(bson::Encode(meta));
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
  Document meta = bson::Decode(bson::DocView(packed.data() + doc_size));
  auto m = std::make_shared<DocumentMeta>();
  for (const auto& [k, v] : meta) {
    if (k == "t") m->text_score = v.ToDouble();
    if (k == "s") m->search_score = v.ToDouble();
    if (k == "d") m->geo_near_distance = v.ToDouble();
    if (k == "p") m->geo_near_point = v;
    if (k == "r") m->rand_val = v.ToDouble();
    if (k == "k") m->sort_key = v;
    if (k == "i") m->index_key = v;
    if (k == "c") m->record_id = v;
  }
  packed.resize(doc_size);
  row->doc = std::move(packed);
  row->meta = std::move(m);
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline
