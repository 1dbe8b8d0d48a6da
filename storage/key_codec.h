#pragma once

// Order-preserving, self-delimiting byte encoding of BSON values ("key strings"), and the
// layout of every key micro-mongo stores (see FORMAT.md).
//
// memcmp order of encodings == MongoDB's BSON comparison order, and values MongoDB calls
// equal encode identically: 1, 1.0 and NumberLong(1) are one key; "1" is another.

#include <cstdint>
#include <string>
#include <string_view>

#include "document/bson_view.h"

namespace micromongo::storage {

// Appends the key string of `v` to `out`.
void AppendKeyString(const bson::ValueView& v, std::string* out);

// Key prefixes of the single key space of a database (one RocksDB instance).
inline constexpr char kMetaPrefix = 'm';     // m<name>                     -> value
inline constexpr char kCatalogPrefix = 'c';  // c<collection name>          -> catalog entry
inline constexpr char kRecordPrefix = 'r';   // r<coll id:4><_id keystring> -> BSON document
// Unique indexes: i<coll id:4><index id:4><key> -> _id keystring; others:
// i<coll id:4><index id:4><key><_id keystring> -> "".
inline constexpr char kIndexPrefix = 'i';
inline constexpr char kLogPrefix = 'l';      // l<sequence:8>               -> change event

void AppendBigEndian32(uint32_t v, std::string* out);
void AppendBigEndian64(uint64_t v, std::string* out);
uint32_t ReadBigEndian32(const char* p);

// r<coll id> : every record of the collection lies in [RecordPrefix(id), RecordPrefix(id+1)).
std::string RecordPrefix(uint32_t collection_id);
std::string RecordKey(uint32_t collection_id, const bson::ValueView& id);
// i<coll id><index id>: the entries of one index lie in [IndexPrefix(c, i), IndexPrefix(c, i+1)).
std::string IndexPrefix(uint32_t collection_id, uint32_t index_id);

}  // namespace micromongo::storage
