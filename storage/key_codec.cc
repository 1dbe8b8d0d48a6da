#include "storage/key_codec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "document/key_string.h"
#include "storage/counters.h"

namespace micromongo::storage {

uint32_t ReadBigEndian32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} << 24 | uint32_t{u[1]} << 16 | uint32_t{u[2]} << 8 | u[3];
}

uint64_t ReadBigEndian64(const char* p) {
  return uint64_t{ReadBigEndian32(p)} << 32 | ReadBigEndian32(p + 4);
}

std::string RecordPrefix(uint32_t collection_id) {
  std::string key(1, kRecordPrefix);
  AppendBigEndian32(collection_id, &key);
  return key;
}

std::string IndexPrefix(uint32_t collection_id, uint32_t index_id) {
  std::string key(1, kIndexPrefix);
  AppendBigEndian32(collection_id, &key);
  AppendBigEndian32(index_id, &key);
  return key;
}

std::string MultikeyPrefix(uint32_t collection_id, uint32_t index_id) {
  std::string key(1, kMultikeyPrefix);
  AppendBigEndian32(collection_id, &key);
  AppendBigEndian32(index_id, &key);
  return key;
}

std::string BuildMarkerKey(uint32_t collection_id, uint32_t index_id) {
  std::string key(1, kBuildPrefix);
  AppendBigEndian32(collection_id, &key);
  AppendBigEndian32(index_id, &key);
  return key;
}

std::string ChangeKey(uint64_t cluster_time) {
  std::string key(1, kLogPrefix);
  AppendBigEndian64(cluster_time, &key);
  return key;
}

size_t WriteStreamPrefix(std::string_view key) {
  if (key.empty()) return 0;
  switch (key[0]) {
    case kRecordPrefix: return key.size() > kCollectionPrefixBytes ? kCollectionPrefixBytes : 0;
    case kIndexPrefix: return key.size() > kIndexPrefixBytes ? kIndexPrefixBytes : 0;
    case kLogPrefix: return key.size() == kChangeKeyBytes ? 1 : 0;
    case kStatsPrefix: return key.size() == kCollectionPrefixBytes || key.size() == kIndexPrefixBytes ? key.size() : 0;
    default: return 0;
  }
}

size_t FileGroupPrefix(std::string_view key) {
  if (key.empty()) return 0;
  switch (key[0]) {
    case kRecordPrefix: return std::min(key.size(), kCollectionPrefixBytes);
    case kIndexPrefix: return std::min(key.size(), kIndexPrefixBytes);
    default: return 1;
  }
}

std::string PendingKey(std::string_view commit_id) {
  std::string key(1, kPendingPrefix);
  key.append(commit_id);
  return key;
}

std::string TimeseriesRecordKey(uint32_t collection_id, const bson::ValueView& time, uint64_t seq) {
  std::string key = RecordPrefix(collection_id);
  bson::AppendKeyString(time, &key);
  AppendBigEndian64(seq, &key);
  return key;
}

std::string NaturalPrefix(uint32_t collection_id) {
  std::string key(1, kNaturalPrefix);
  AppendBigEndian32(collection_id, &key);
  return key;
}

std::string NaturalKey(uint32_t collection_id, uint64_t seq) {
  std::string key = NaturalPrefix(collection_id);
  AppendBigEndian64(seq, &key);
  return key;
}

std::string NaturalOfPrefix(uint32_t collection_id) {
  std::string key(1, kNaturalOfPrefix);
  AppendBigEndian32(collection_id, &key);
  return key;
}

std::string StatsKey(uint32_t collection_id) {
  std::string key(1, kStatsPrefix);
  AppendBigEndian32(collection_id, &key);
  return key;
}

std::string StatsOperand(int64_t count, int64_t bytes, uint64_t max_seq, int64_t key_bytes) {
  // Fields combine by position: the sequence's place is kept (a maximum of 0 changes
  // nothing) whenever a later field follows.
  std::vector<Counter> fields{{Counter::Rule::kSum, count},
                              {Counter::Rule::kSum, bytes},
                              {Counter::Rule::kMax, static_cast<int64_t>(max_seq)}};
  if (key_bytes != 0) fields.push_back({Counter::Rule::kSum, key_bytes});
  return EncodeCounters(fields);
}

std::string IndexStatsKey(uint32_t collection_id, uint32_t index_id) {
  std::string key = StatsKey(collection_id);
  AppendBigEndian32(index_id, &key);
  return key;
}

std::string IndexStatsOperand(int64_t entries, int64_t bytes) {
  return EncodeCounters({{Counter::Rule::kSum, entries}, {Counter::Rule::kSum, bytes}});
}

std::string NaturalOfKey(uint32_t collection_id, std::string_view id_keystring) {
  std::string key = NaturalOfPrefix(collection_id);
  key.append(id_keystring);
  return key;
}

std::string RecordKey(uint32_t collection_id, const bson::ValueView& id) {
  std::string key = RecordPrefix(collection_id);
  bson::AppendKeyString(id, &key);
  return key;
}

}  // namespace micromongo::storage
