#pragma once

// A capped collection's records in insertion order ("natural order"): a walk of its n keys
// (FORMAT.md) that reads each one's record, over one snapshot.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/kv.h"

namespace micromongo::storage {

class NaturalIterator final : public KvIterator {
 public:
  // `snapshot` (may be null: the iterator takes one of its own) must outlive it.
  NaturalIterator(KvStore* kv, uint32_t collection_id, const KvSnapshot* snapshot);

  // key(): the record key (r...); value(): the record's BSON; seq(): its insertion
  // sequence. Seek and SeekForPrev take n keys (NaturalKey); SeekToSeq(s) is
  // Seek(NaturalKey(id, s)).
  bool Valid() const override { return valid_; }
  void Seek(std::string_view natural_key) override;
  void SeekForPrev(std::string_view natural_key) override;
  void SeekToFirst() override;
  void SeekToLast() override;
  void Next() override;
  void Prev() override;
  std::string_view key() const override { return record_key_; }
  std::string_view value() const override { return record_; }
  absl::Status status() const override { return status_.ok() ? it_->status() : status_; }

  void SeekToSeq(uint64_t seq);
  uint64_t seq() const { return seq_; }

 private:
  // Reads the record the n entry under it_ names, stepping past entries whose record is
  // gone (none, unless the store is damaged) in `direction`.
  void Load(int direction);

  KvStore* kv_;
  uint32_t collection_id_;
  std::shared_ptr<const KvSnapshot> own_snapshot_;
  const KvSnapshot* snapshot_;
  std::unique_ptr<KvIterator> it_;
  bool valid_ = false;
  uint64_t seq_ = 0;
  std::string record_key_, record_;
  absl::Status status_;
};

}  // namespace micromongo::storage
