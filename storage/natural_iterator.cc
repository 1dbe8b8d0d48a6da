#include "storage/natural_iterator.h"

#include "storage/key_codec.h"

namespace micromongo::storage {

NaturalIterator::NaturalIterator(KvStore* kv, uint32_t collection_id, const KvSnapshot* snapshot)
    : kv_(kv), collection_id_(collection_id) {
  if (snapshot == nullptr) {
    own_snapshot_ = kv->GetSnapshot();
    snapshot = own_snapshot_.get();
  }
  snapshot_ = snapshot;
  it_ = kv->NewIterator(NaturalPrefix(collection_id), NaturalPrefix(collection_id + 1), snapshot);
}

void NaturalIterator::Load(int direction) {
  valid_ = false;
  while (it_->Valid()) {
    std::string_view k = it_->key();
    if (k.size() != 13) {
      status_ = absl::DataLossError("malformed natural-order key");
      return;
    }
    seq_ = ReadBigEndian64(k.data() + 5);
    record_key_ = RecordPrefix(collection_id_);
    record_key_.append(it_->value());
    auto found = kv_->Get(record_key_, &record_, snapshot_);
    if (!found.ok()) {
      status_ = found.status();
      return;
    }
    if (*found) {
      valid_ = true;
      return;
    }
    if (direction > 0) {
      it_->Next();
    } else {
      it_->Prev();
    }
  }
}

void NaturalIterator::Seek(std::string_view natural_key) {
  it_->Seek(natural_key);
  Load(1);
}

void NaturalIterator::SeekForPrev(std::string_view natural_key) {
  it_->SeekForPrev(natural_key);
  Load(-1);
}

void NaturalIterator::SeekToFirst() {
  it_->SeekToFirst();
  Load(1);
}

void NaturalIterator::SeekToLast() {
  it_->SeekToLast();
  Load(-1);
}

void NaturalIterator::Next() {
  it_->Next();
  Load(1);
}

void NaturalIterator::Prev() {
  it_->Prev();
  Load(-1);
}

void NaturalIterator::SeekToSeq(uint64_t seq) { Seek(NaturalKey(collection_id_, seq)); }

}  // namespace micromongo::storage
