#include "service/pipeline_cursor.h"

#include "document/status.h"

namespace micromongo::service {

QueryLimits& GlobalQueryLimits() {
  static QueryLimits limits;
  return limits;
}

PipelineCursor::PipelineCursor(storage::Engine* engine, std::shared_ptr<const pipeline::Pipeline> pipeline,
                               ExecOptions options)
    : pipeline_(std::move(pipeline)), options_(std::move(options)), data_(engine, &ctx_.deadline) {
  ctx_.data = &data_;
  ctx_.db = options_.db;
  ctx_.let = options_.let ? &*options_.let : nullptr;
  ctx_.collator = options_.collator;
  ctx_.deadline = options_.deadline;
  ctx_.allow_disk_use = options_.allow_disk_use;
  ctx_.read_hint = options_.read_hint;
  ctx_.explain = options_.explain;
  ctx_.bypass_validation = options_.bypass_validation;
  ctx_.memory_limit = GlobalQueryLimits().blocking_sort_bytes;
  ctx_.group_memory_limit = GlobalQueryLimits().group_bytes;
  ctx_.temp_dir = SpillDirectory(*engine);
}

absl::Status PipelineCursor::Start(std::string_view coll, pipeline::ReadPlan* plan) {
  ctx_.collection = std::string(coll);
  absl::StatusOr<pipeline::StagePtr> top = coll.empty() ? pipeline_->Open(nullptr, &ctx_)
                                                        : pipeline_->OpenOnCollection(ctx_.db, coll, &ctx_, plan);
  if (!top.ok()) return top.status();
  top_ = *std::move(top);
  return absl::OkStatus();
}

absl::Status PipelineCursor::StartOn(pipeline::StagePtr source) {
  auto top = pipeline_->Open(std::move(source), &ctx_);
  if (!top.ok()) return top.status();
  top_ = *std::move(top);
  return absl::OkStatus();
}

absl::StatusOr<bool> PipelineCursor::Pull(pipeline::Row* row) {
  if (pending_) {
    *row = std::move(*pending_);
    pending_.reset();
    return true;
  }
  return top_->Next(row);
}

absl::Status PipelineCursor::NextBatch(size_t max_docs, size_t max_bytes, std::vector<std::string>* out) {
  if (exhausted_) return absl::OkStatus();
  if (auto s = ctx_.deadline.Check(); !s.ok()) {
    exhausted_ = true;
    return s;
  }
  size_t bytes = 0;
  pipeline::Row row;
  auto fail = [&](absl::Status s) {
    exhausted_ = true;
    top_.reset();
    return s;
  };
  while ((max_docs == 0 || out->size() < max_docs) && bytes < max_bytes) {
    auto more = Pull(&row);
    if (!more.ok()) return fail(more.status());
    if (!*more) {
      exhausted_ = true;
      top_.reset();
      return absl::OkStatus();
    }
    if (transform_) {
      auto t = transform_(std::move(row.doc), row.meta.get());
      if (!t.ok()) return fail(t.status());
      row.doc = *std::move(t);
    }
    bytes += row.doc.size();
    out->push_back(std::move(row.doc));
  }
  // One document of lookahead: a finished cursor reports exhaustion with its last batch,
  // so the client needs no extra round trip.
  pipeline::Row next;
  auto more = Pull(&next);
  if (!more.ok()) return fail(more.status());
  if (*more) {
    pending_ = std::move(next);
  } else {
    exhausted_ = true;
    top_.reset();
  }
  return absl::OkStatus();
}

}  // namespace micromongo::service
