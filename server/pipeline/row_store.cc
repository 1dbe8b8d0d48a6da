#include "pipeline/row_store.h"

#include "document/status.h"

namespace micromongo::pipeline {

absl::Status RowStore::Add(Row row) {
  std::string packed = PackRow(std::move(row));
  ++count_;
  if (file_ != nullptr) return file_->Append("", packed);
  bytes_ += static_cast<int64_t>(packed.capacity() + sizeof(std::string));
  memory_.push_back(std::move(packed));
  if (bytes_ <= ctx_->memory_limit) return absl::OkStatus();
  if (!ctx_->allow_disk_use || ctx_->temp_dir.empty()) return MemoryLimitExceeded(stage_, ctx_->memory_limit);
  // Past the limit: everything moves to disk, and later rows go there directly.
  auto f = SpillFile::Create(ctx_->temp_dir);
  if (!f.ok()) return f.status();
  file_ = *std::move(f);
  for (const std::string& r : memory_) {
    if (auto s = file_->Append("", r); !s.ok()) return s;
  }
  std::vector<std::string>().swap(memory_);
  bytes_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<RowStore::Reader> RowStore::Read() {
  if (file_ != nullptr && !sealed_) {
    auto run = file_->EndRun();
    if (!run.ok()) return run.status();
  }
  sealed_ = true;
  Reader r;
  r.store_ = this;
  if (file_ != nullptr) r.disk_ = file_->Read(0);
  return r;
}

absl::StatusOr<bool> RowStore::Reader::Next(Row* out) {
  if (disk_) {
    std::string key, packed;
    auto more = disk_->Next(&key, &packed);
    if (!more.ok() || !*more) return more;
    if (auto s = UnpackRow(std::move(packed), out); !s.ok()) return s;
    return true;
  }
  if (next_ >= store_->memory_.size()) return false;
  if (auto s = UnpackRow(store_->memory_[next_++], out); !s.ok()) return s;
  return true;
}

namespace {

class ReplayStage final : public Stage {
 public:
  explicit ReplayStage(RowStore::Reader reader) : reader_(std::move(reader)) {}
  absl::StatusOr<bool> Next(Row* out) override { return reader_.Next(out); }

 private:
  RowStore::Reader reader_;
};

}  // namespace

absl::StatusOr<StagePtr> ReplayRows(RowStore* store) {
  auto reader = store->Read();
  if (!reader.ok()) return reader.status();
  return StagePtr(std::make_unique<ReplayStage>(*std::move(reader)));
}

}  // namespace micromongo::pipeline
