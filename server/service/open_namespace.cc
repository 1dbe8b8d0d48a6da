#include "service/open_namespace.h"

#include <tuple>

#include "absl/container/flat_hash_set.h"

#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"
#include "storage/namespace.h"

namespace micromongo::service {

using bson::DocView;
using bson::ValueView;

absl::Status Namespace::WriteIndexEntries(storage::WriteUnit* unit, const DocView* old_doc,
                                          const DocView* new_doc) const {
  if (indexes.empty()) return absl::OkStatus();
  std::string id_key;  // the record's _id keystring: names it in unique entries
  bson::AppendKeyString((new_doc != nullptr ? *new_doc : *old_doc).begin()->value, &id_key);
  std::vector<std::pair<std::string, bool>> deletes;               // key, unique index
  std::vector<std::tuple<std::string, std::string, bool>> puts;  // key, value, unique index
  std::vector<index::IndexKey> old_keys, new_keys;
  std::vector<std::pair<const Index*, uint64_t>> multikey;
  for (const Index& ix : indexes) {
    old_keys.clear();
    new_keys.clear();
    if (old_doc != nullptr) {
      if (auto s = ix.spec.Keys(*old_doc, &old_keys); !s.ok()) return s;
    }
    if (new_doc != nullptr) {
      uint64_t fields = 0;
      if (auto s = ix.spec.Keys(*new_doc, &new_keys, &fields); !s.ok()) return s;
      if (fields != 0) multikey.emplace_back(&ix, fields);
    }
    std::string prefix = storage::IndexPrefix(coll->id(), ix.id);
    auto entry_key = [&](const index::IndexKey& k) {
      std::string key = prefix + k.encoded;
      if (!ix.spec.unique()) key += id_key;
      return key;
    };
    // Keys in both documents stay; a hash set keeps large multikey arrays linear.
    absl::flat_hash_set<std::string_view> old_set, new_set;
    for (const auto& k : old_keys) old_set.insert(k.encoded);
    for (const auto& k : new_keys) new_set.insert(k.encoded);
    for (const auto& k : old_keys) {
      if (!new_set.contains(k.encoded)) deletes.emplace_back(entry_key(k), ix.spec.unique());
    }
    for (const auto& k : new_keys) {
      if (old_set.contains(k.encoded)) continue;
      std::string key = entry_key(k);
      if (ix.spec.unique()) {
        auto owner = unit->GetIndexEntry(key);
        if (!owner.ok()) return owner.status();
        if (*owner && index::EntryRecordId(**owner) != id_key) {
          std::string key_value = ix.spec.KeyValueDocument(k);
          bson::Builder details;
          details.AppendDocument("keyPattern", ix.spec.key_pattern());
          details.AppendDocument("keyValue", DocView(key_value));
          return MongoError(kDuplicateKey,
                            StrCat("E11000 duplicate key error collection: ", db_name, ".",
                                   coll_name, " index: ", ix.spec.name(),
                                   " dup key: ", bson::BsonToJson(key_value)),
                            std::move(details).Finish());
        }
      }
      // Every entry's value holds the key values (for covered queries) and names its
      // document, so lookups need not parse keys.
      puts.emplace_back(std::move(key), index::EntryValue(k, id_key), ix.spec.unique());
    }
  }
  for (const auto& [ix, fields] : multikey) {
    if (ix->def != nullptr) {
      unit->MarkMultikey(*coll, *ix->def, fields);
    } else {
      unit->MarkBuildMultikey(*coll, ix->id, fields);
    }
  }
  for (auto& [key, unique] : deletes) unit->DeleteIndexEntry(std::move(key), unique);
  for (auto& [key, value, unique] : puts) unit->PutIndexEntry(std::move(key), std::move(value), unique);
  return absl::OkStatus();
}

absl::StatusOr<Namespace> OpenNamespace(storage::Engine* engine, std::string_view db_name,
                                        std::string_view coll_name, bool create,
                                        Access access, const WriteOptions& options) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  auto db = engine->GetDatabase(db_name, create);
  if (!db.ok()) return db.status();
  Namespace ns;
  ns.db = *std::move(db);
  if (ns.db == nullptr) return ns;
  ns.ddl = std::shared_lock<std::shared_mutex>(ns.db->ddl_mutex());
  if (create) {
    auto coll = ns.db->GetOrCreateCollection(coll_name);
    if (!coll.ok()) return coll.status();
    ns.coll = *std::move(coll);
  } else {
    ns.coll = ns.db->FindCollection(coll_name);
  }
  if (access == Access::kWrite && ns.coll != nullptr) {
    if (ns.coll->is_view()) {
      return MongoError(kCommandNotSupportedOnView,
                        StrCat("Namespace ", db_name, ".", coll_name, " is a view, not a collection"));
    }
    if (!options.bypass_validation) {
      auto validator = DocumentValidator::FromOptions(ns.coll->options());
      if (!validator.ok()) return validator.status();
      ns.validator = *std::move(validator);
    }
    for (const storage::IndexDef& def : ns.coll->indexes()) {
      auto spec = index::IndexSpec::Parse(DocView(def.spec));
      if (!spec.ok()) return spec.status();
      ns.indexes.push_back({def.id, *std::move(spec), &def});
    }
    ns.db_name = std::string(db_name);
    ns.coll_name = std::string(coll_name);
  }
  return ns;
}

std::string IdDocument(const ValueView& id) {
  bson::Builder b;
  b.AppendView("_id", id);
  return std::move(b).Finish();
}

absl::Status DuplicateKey(std::string_view db, std::string_view coll, const ValueView& id) {
  std::string key_value = IdDocument(id);
  std::string json = bson::BsonToJson(key_value);
  bson::Builder details;
  bson::Builder pattern;
  pattern.AppendInt32("_id", 1);
  details.AppendDocument("keyPattern", DocView(std::move(pattern).Finish()));
  details.AppendDocument("keyValue", DocView(key_value));
  return MongoError(kDuplicateKey,
                    StrCat("E11000 duplicate key error collection: ", db, ".", coll,
                           " index: _id_ dup key: ", json),
                    std::move(details).Finish());
}

std::string WithIdFirst(std::string doc) {
  DocView view(doc);
  auto first = view.begin();
  if (first != view.end() && first->key == "_id") return doc;
  ValueView id;
  bool has_id = view.Find("_id", &id);
  bson::Builder b;
  if (has_id) {
    b.AppendView("_id", id);
  } else {
    ObjectId oid = ObjectId::Generate();
    b.AppendView("_id", ValueView{BsonType::kObjectId, reinterpret_cast<const char*>(oid.bytes.data()), 12});
  }
  for (const bson::ElementView& e : view) {
    if (e.key != "_id") b.AppendView(e.key, e.value);
  }
  return std::move(b).Finish();
}

// The smallest string greater than every string starting with `prefix`.
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

bool IndexLookupScalar(const ValueView& v, const bson::Collator* collator) {
  switch (v.type) {
    case BsonType::kDocument:
    case BsonType::kArray:
    case BsonType::kRegex:
    case BsonType::kNull:
    case BsonType::kUndefined:
    case BsonType::kMinKey:
    case BsonType::kMaxKey:
      return false;
    case BsonType::kString:
    case BsonType::kSymbol:
      return collator == nullptr;
    default:
      return true;
  }
}

std::string KeyOf(const ValueView& v) {
  std::string key;
  bson::AppendKeyString(v, &key);
  return key;
}

// Values whose type bracket is one key-string type byte (booleans span two; others are
// not worth a range).
bool RangeScalar(const ValueView& v, const bson::Collator* collator) {
  switch (v.type) {
    case BsonType::kInt32:
    case BsonType::kInt64:
    case BsonType::kDouble:
    case BsonType::kDecimal128:
    case BsonType::kDate:
    case BsonType::kObjectId:
    case BsonType::kTimestamp:
      return true;
    case BsonType::kString:
      return collator == nullptr;
    default:
      return false;
  }
}

// The key ranges of one top-level condition, or nullopt if no index lookup can serve it.
std::optional<std::vector<std::pair<std::string, std::string>>> RangesOf(
    const ValueView& condition, const bson::Collator* collator) {
  using Ranges = std::vector<std::pair<std::string, std::string>>;
  auto point = [](const ValueView& v) {
    std::string key = KeyOf(v);
    return std::make_pair(key, PrefixSuccessor(key));
  };
  if (condition.type != BsonType::kDocument) {
    if (!IndexLookupScalar(condition, collator)) return std::nullopt;
    return Ranges{point(condition)};
  }
  DocView ops = condition.Doc();
  if (ops.empty() || ops.begin()->key.empty() || ops.begin()->key[0] != '$') return std::nullopt;
  std::optional<std::pair<std::string, std::string>> lower, upper;
  for (const bson::ElementView& op : ops) {
    if (op.key == "$eq") {
      if (!IndexLookupScalar(op.value, collator)) return std::nullopt;
      return Ranges{point(op.value)};
    }
    if (op.key == "$in") {
      if (op.value.type != BsonType::kArray) return std::nullopt;
      Ranges ranges;
      for (const bson::ElementView& e : op.value.Doc()) {
        if (!IndexLookupScalar(e.value, collator)) return std::nullopt;
        ranges.push_back(point(e.value));
      }
      if (ranges.empty()) return std::nullopt;
      return ranges;
    }
    if (op.key == "$gt" || op.key == "$gte" || op.key == "$lt" || op.key == "$lte") {
      if (!RangeScalar(op.value, collator)) continue;
      std::string key = KeyOf(op.value);
      std::string bracket_start(1, key[0]), bracket_end(1, static_cast<char>(key[0] + 1));
      if (op.key == "$gt") lower = std::make_pair(PrefixSuccessor(key), bracket_end);
      if (op.key == "$gte") lower = std::make_pair(key, bracket_end);
      if (op.key == "$lt") upper = std::make_pair(bracket_start, key);
      if (op.key == "$lte") upper = std::make_pair(bracket_start, PrefixSuccessor(key));
    }
    // Other operators only narrow what the chosen bound finds; the matcher checks them.
  }
  if (lower) return Ranges{*lower};
  if (upper) return Ranges{*upper};
  return std::nullopt;
}

bool SimpleLeadingField(const index::IndexSpec& spec, std::string_view field) {
  return !spec.partial() && !spec.hidden() && spec.collator() == nullptr &&
         spec.fields()[0].kind == index::KeyKind::kAscending && spec.fields()[0].path.dotted() == field;
}

std::optional<IndexLookup> ChooseIndex(const storage::Collection& coll, const query::Matcher& m) {
  if (coll.indexes().empty() || m.MatchesAll()) return std::nullopt;
  for (const bson::ElementView& e : m.filter()) {
    if (e.key.empty() || e.key[0] == '$') continue;
    auto ranges = RangesOf(e.value, m.collator());
    if (!ranges) continue;
    query::FieldPath path(e.key);
    bool numeric_part = false;
    for (size_t i = 0; i < path.size(); ++i) numeric_part = numeric_part || path.index(i).has_value();
    if (numeric_part) continue;
    for (const storage::IndexDef& def : coll.indexes()) {
      auto spec = index::IndexSpec::Parse(DocView(def.spec));
      if (!spec.ok() || !SimpleLeadingField(*spec, e.key)) {
        continue;
      }
      IndexLookup lookup;
      lookup.index_id = def.id;
      lookup.ranges = *std::move(ranges);
      return lookup;
    }
  }
  return std::nullopt;
}

void Candidates::LoadIndexed(const IndexLookup& lookup) {
  indexed_ = true;
  std::string record_prefix = storage::RecordPrefix(coll_.id());
  for (const auto& [lo, hi] : lookup.ranges) {
    auto it = db_->ScanIndex(coll_, lookup.index_id, lo, hi);
    for (; it->Valid(); it->Next()) {
      if ((++scanned_ & 255) == 0) {
        if (auto s = deadline_->Check(); !s.ok()) {
          status_ = s;
          return;
        }
      }
      indexed_keys_.push_back(record_prefix + std::string(index::EntryRecordId(it->value())));
    }
    if (!it->status().ok()) {
      status_ = it->status();
      return;
    }
  }
  std::sort(indexed_keys_.begin(), indexed_keys_.end());
  indexed_keys_.erase(std::unique(indexed_keys_.begin(), indexed_keys_.end()), indexed_keys_.end());
}

}  // namespace micromongo::service
