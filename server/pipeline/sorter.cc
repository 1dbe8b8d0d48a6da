#include "pipeline/sorter.h"

#include <algorithm>

namespace micromongo::pipeline {
namespace {

bool KeyLess(const std::pair<std::string, std::string>& a, const std::pair<std::string, std::string>& b) {
  return a.first < b.first;
}

}  // namespace

Sorter::Sorter(ExecContext* ctx, std::string stage, int64_t top_k)
    : ctx_(ctx), stage_(std::move(stage)), top_k_(top_k) {}

absl::Status Sorter::Add(std::string key, std::string value) {
  Record r(std::move(key), std::move(value));
  if (top_k_ > 0) {
    if (static_cast<int64_t>(records_.size()) < top_k_) {
      memory_ += static_cast<int64_t>(Cost(r));
      records_.push_back(std::move(r));
      std::push_heap(records_.begin(), records_.end(), KeyLess);
    } else if (r.first < records_.front().first) {
      std::pop_heap(records_.begin(), records_.end(), KeyLess);
      memory_ += static_cast<int64_t>(Cost(r)) - static_cast<int64_t>(Cost(records_.back()));
      records_.back() = std::move(r);
      std::push_heap(records_.begin(), records_.end(), KeyLess);
    }
    if (memory_ > ctx_->memory_limit) return MemoryLimitExceeded(stage_, ctx_->memory_limit);
    return absl::OkStatus();
  }
  memory_ += static_cast<int64_t>(Cost(r));
  records_.push_back(std::move(r));
  if (memory_ > ctx_->memory_limit) {
    if (!ctx_->allow_disk_use || ctx_->temp_dir.empty()) {
      return MemoryLimitExceeded(stage_, ctx_->memory_limit);
    }
    return SpillRun();
  }
  return absl::OkStatus();
}

absl::Status Sorter::SpillRun() {
  if (spill_ == nullptr) {
    auto f = SpillFile::Create(ctx_->temp_dir);
    if (!f.ok()) return f.status();
    spill_ = *std::move(f);
  }
  std::sort(records_.begin(), records_.end(), KeyLess);
  for (const Record& r : records_) {
    if (auto s = spill_->Append(r.first, r.second); !s.ok()) return s;
  }
  auto run = spill_->EndRun();
  if (!run.ok()) return run.status();
  std::vector<Record>().swap(records_);
  memory_ = 0;
  return absl::OkStatus();
}

absl::Status Sorter::Finish() {
  finished_ = true;
  if (spill_ == nullptr) {
    if (top_k_ > 0) {
      std::sort_heap(records_.begin(), records_.end(), KeyLess);
    } else {
      std::sort(records_.begin(), records_.end(), KeyLess);
    }
    return absl::OkStatus();
  }
  if (!records_.empty()) {
    if (auto s = SpillRun(); !s.ok()) return s;
  }
  merge_ = std::make_unique<Merge>();
  merge_->heads.resize(spill_->runs());
  for (size_t i = 0; i < spill_->runs(); ++i) {
    merge_->readers.push_back(spill_->Read(i));
    auto more = merge_->readers[i].Next(&merge_->heads[i].first, &merge_->heads[i].second);
    if (!more.ok()) return more.status();
    if (*more) merge_->heap.push_back(i);
  }
  auto greater = [this](size_t a, size_t b) { return merge_->heads[b].first < merge_->heads[a].first; };
  std::make_heap(merge_->heap.begin(), merge_->heap.end(), greater);
  return absl::OkStatus();
}

absl::StatusOr<bool> Sorter::Next(std::string* key, std::string* value) {
  if (merge_ == nullptr) {
    if (next_ >= records_.size()) {
      std::vector<Record>().swap(records_);
      return false;
    }
    Record& r = records_[next_++];
    *key = std::move(r.first);
    *value = std::move(r.second);
    return true;
  }
  if (merge_->heap.empty()) return false;
  auto greater = [this](size_t a, size_t b) { return merge_->heads[b].first < merge_->heads[a].first; };
  std::pop_heap(merge_->heap.begin(), merge_->heap.end(), greater);
  size_t i = merge_->heap.back();
  *key = std::move(merge_->heads[i].first);
  *value = std::move(merge_->heads[i].second);
  auto more = merge_->readers[i].Next(&merge_->heads[i].first, &merge_->heads[i].second);
  if (!more.ok()) return more.status();
  if (*more) {
    std::push_heap(merge_->heap.begin(), merge_->heap.end(), greater);
  } else {
    merge_->heap.pop_back();
  }
  return true;
}

}  // namespace micromongo::pipeline
