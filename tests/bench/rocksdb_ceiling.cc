#include "rocksdb_ceiling.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace micromongo::bench {

double RawRocksDbDocsPerSecond(const std::string& dir, const std::vector<std::string>& docs,
                               size_t batch) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compression = rocksdb::kLZ4Compression;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < docs.size(); i += batch) {
    rocksdb::WriteBatch wb;
    for (size_t j = i; j < std::min(docs.size(), i + batch); ++j) {
      char key[13] = {'r'};
      uint64_t k = __builtin_bswap64(j);
      std::memcpy(key + 1, &k, 8);
      wb.Put(rocksdb::Slice(key, 9), docs[j]);
    }
    db->Write(rocksdb::WriteOptions(), &wb);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  db->Close();
  return docs.size() / secs;
}

}  // namespace micromongo::bench
