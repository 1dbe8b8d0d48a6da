#pragma once

// The layout of every key micro-mongo stores (see FORMAT.md), built from key strings
// (document/key_string.h: the order-preserving encoding of BSON values).

#include <cstdint>
#include <string>
#include <string_view>

#include "document/bson_view.h"
#include "document/key_string.h"

namespace micromongo::storage {

// Key prefixes of the single key space of a database (one RocksDB instance).
inline constexpr char kMetaPrefix = 'm';     // m<name>                     -> value
inline constexpr char kCatalogPrefix = 'c';  // c<collection name>          -> catalog entry
inline constexpr char kRecordPrefix = 'r';   // r<coll id:4><_id keystring> -> BSON document
// Unique indexes: i<coll id:4><index id:4><key> -> _id keystring; others:
// i<coll id:4><index id:4><key><_id keystring> -> "".
inline constexpr char kIndexPrefix = 'i';
inline constexpr char kLogPrefix = 'l';      // l<sequence:8>               -> change event
// x<coll id:4><index id:4><field:1> -> "": documents have arrays along key field <field>.
inline constexpr char kMultikeyPrefix = 'x';
// b<coll id:4><index id:4> -> "": an index build in progress (its entries are partial).
inline constexpr char kBuildPrefix = 'b';
// A capped collection's insertion order: n<coll id:4><seq:8> -> _id keystring, and its
// reverse o<coll id:4><_id keystring> -> seq:8.
inline constexpr char kNaturalPrefix = 'n';
inline constexpr char kNaturalOfPrefix = 'o';
// p<commit id> -> a database's part of a commit across databases, not yet applied
// (cross_commit.h).
inline constexpr char kPendingPrefix = 'p';
// k<coll id:4> -> the collection's statistics as counters (counters.h): records, BSON
// bytes, largest time series sequence; merged into by every commit that changes them.
// k<coll id:4><index id:4> -> one index's statistics: entries and their bytes.
inline constexpr char kStatsPrefix = 'k';

// Sizes of fixed key parts: a collection's prefix r<coll id:4> (also n, o, k keys), an
// index's prefix i<coll id:4><index id:4>, and a change-log key l<sequence:8>.
inline constexpr size_t kCollectionPrefixBytes = 5;
inline constexpr size_t kIndexPrefixBytes = 9;
inline constexpr size_t kChangeKeyBytes = 9;

using bson::AppendBigEndian32;
using bson::AppendBigEndian64;
uint32_t ReadBigEndian32(const char* p);
uint64_t ReadBigEndian64(const char* p);

// r<coll id> : every record of the collection lies in [RecordPrefix(id), RecordPrefix(id+1)).
std::string RecordPrefix(uint32_t collection_id);
std::string RecordKey(uint32_t collection_id, const bson::ValueView& id);
// i<coll id><index id>: the entries of one index lie in [IndexPrefix(c, i), IndexPrefix(c, i+1)).
std::string IndexPrefix(uint32_t collection_id, uint32_t index_id);
// x<coll id><index id>: the multikey flags of one index (MultikeyPrefix(c, i) + field byte).
std::string MultikeyPrefix(uint32_t collection_id, uint32_t index_id);
// A time series collection's record key: r<coll id><keystring(time)><seq: u64 BE> (its
// records are in time order, and documents may share an _id).
std::string TimeseriesRecordKey(uint32_t collection_id, const bson::ValueView& time, uint64_t seq);
// n<coll id><seq>: where a capped collection's record of insertion sequence `seq` is named;
// every such entry lies in [NaturalKey(id, 0), NaturalPrefix(id + 1)).
std::string NaturalPrefix(uint32_t collection_id);
std::string NaturalKey(uint32_t collection_id, uint64_t seq);
// o<coll id><_id keystring>: the insertion sequence of a capped collection's record, from
// the record key's _id part (the record key minus RecordPrefix).
std::string NaturalOfKey(uint32_t collection_id, std::string_view id_keystring);
std::string NaturalOfPrefix(uint32_t collection_id);
// k<coll id>: the collection's statistics (Database keeps them).
std::string StatsKey(uint32_t collection_id);
// A change of a collection's statistics, to merge into its k key: records, BSON bytes,
// and the largest time series sequence number (0: none).
std::string StatsOperand(int64_t count, int64_t bytes, uint64_t max_seq, int64_t key_bytes);
// k<coll id><index id>: one index's statistics; every collection's lie in
// [StatsKey(id), StatsKey(id + 1)), after its own.
std::string IndexStatsKey(uint32_t collection_id, uint32_t index_id);
// A change of an index's statistics, to merge into its key: entries, and the bytes of
// their keys and values.
std::string IndexStatsOperand(int64_t entries, int64_t bytes);
// b<coll id><index id>: present while the index is being built.
std::string BuildMarkerKey(uint32_t collection_id, uint32_t index_id);
// l<cluster time>: the change-log entry whose first record has that time.
std::string ChangeKey(uint64_t cluster_time);
// p<commit id>: a pending part of a commit across databases.
std::string PendingKey(std::string_view commit_id);

// The write stream of a key (KvOptions::write_stream): the length of the prefix its
// stream shares, or 0. Streams: a collection's records (r<coll id>), one index's entries
// (i<coll id><index id>), the change log (l), and a collection's or an index's statistics
// key. No key that begins a range deletion (a bare prefix above, "l", "k", k<coll id>\0)
// is in a stream.
size_t WriteStreamPrefix(std::string_view key);

// The table-file group of a key (KvOptions::file_group): the length of the prefix its
// group shares. Groups: a collection's records (r<coll id>), one index's entries
// (i<coll id><index id>), and otherwise the key's kind (its first byte).
size_t FileGroupPrefix(std::string_view key);

}  // namespace micromongo::storage
