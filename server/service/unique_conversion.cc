#include "service/unique_conversion.h"

#include <string>
#include <vector>

#include "document/builder.h"
#include "document/status.h"
#include "index/index_key.h"
#include "storage/key_codec.h"

namespace micromongo::service {

namespace {

// MongoDB stops listing violations once their _ids pass half the largest document.
constexpr size_t kMaxViolationBytes = kMaxBsonObjectSize / 2;

}  // namespace

absl::Status CheckConvertibleToUnique(storage::Database* db, const storage::Collection& coll,
                                      const storage::IndexDef& def) {
  // Entries are keyed by key then _id, so the documents sharing a key are side by side.
  const size_t prefix = storage::IndexPrefix(coll.id(), def.id).size();
  std::vector<std::vector<std::string>> groups;  // _id keystrings per shared key
  std::string previous_key;
  std::string previous_id;
  bool in_group = false;
  auto it = db->ScanIndex(coll, def.id, /*snapshot=*/nullptr);
  for (; it->Valid(); it->Next()) {
    std::string_view key = it->key();
    std::string_view id = index::EntryRecordId(it->value());
    if (id.size() > key.size() - prefix) return MongoError(kInternalError, "malformed index entry");
    std::string_view values = key.substr(prefix, key.size() - prefix - id.size());
    if (!previous_id.empty() && values == previous_key) {
      if (!in_group) groups.push_back({previous_id});
      groups.back().emplace_back(id);
      in_group = true;
    } else {
      in_group = false;
      previous_key.assign(values);
    }
    previous_id.assign(id);
  }
  if (auto s = it->status(); !s.ok()) return s;
  if (groups.empty()) return absl::OkStatus();

  bson::Builder violations;
  size_t bytes = 0, listed = 0;
  bool truncated = false;
  const std::string record_prefix = storage::RecordPrefix(coll.id());
  for (const auto& group : groups) {
    bson::Builder ids;
    size_t n = 0;
    for (const std::string& id_key : group) {
      std::string record;
      auto found = db->GetRecord(coll, record_prefix + id_key, &record);
      if (!found.ok()) return found.status();
      if (!*found) continue;  // deleted since the scan
      bson::ValueView id = bson::DocView(record).begin()->value;
      bytes += id.bytes().size();
      if (bytes > kMaxViolationBytes && (listed > 0 || n > 0)) {
        truncated = true;
        break;
      }
      ids.AppendView(std::to_string(n++), id);
    }
    if (n > 0) {
      bson::Builder violation;
      violation.AppendArray("ids", bson::DocView(std::move(ids).Finish()));
      violations.AppendDocument(std::to_string(listed++), bson::DocView(std::move(violation).Finish()));
    }
    if (truncated) break;
  }
  bson::Builder details;
  details.AppendArray("violations", bson::DocView(std::move(violations).Finish()));
  return MongoError(359,
                    truncated ? "Cannot convert the index to unique. Too many conflicting documents were "
                                "detected. Please resolve them and rerun collMod."
                              : "Cannot convert the index to unique. Please resolve conflicting documents "
                                "before running collMod again.",
                    std::move(details).Finish());
}

}  // namespace micromongo::service
