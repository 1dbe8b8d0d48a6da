#include "service/find_cursor.h"

#include <algorithm>

#include "document/status.h"
#include "service/open_namespace.h"

namespace micromongo::service {

using bson::DocView;
using bson::ValueView;

std::unique_ptr<FindCursor> FindCursor::FromDocuments(std::vector<std::string> docs) {
  auto c = std::unique_ptr<FindCursor>(new FindCursor());
  c->spec_.matcher = *query::Matcher::Parse(std::string("\x05\x00\x00\x00\x00", 5));
  c->sorted_ = std::move(docs);
  c->use_sorted_ = true;
  return c;
}

absl::StatusOr<std::unique_ptr<FindCursor>> FindCursor::Open(storage::Engine* engine,
                                                             std::string_view db_name,
                                                             std::string_view coll_name,
                                                             FindSpec spec) {
  if (spec.skip < 0) return MongoError(kBadValue, "skip must be non-negative");
  if (spec.limit < 0) return MongoError(kBadValue, "limit must be non-negative");
  auto ns = OpenNamespace(engine, db_name, coll_name, /*create=*/false);
  if (!ns.ok()) return ns.status();
  auto c = std::unique_ptr<FindCursor>(new FindCursor());
  c->spec_ = std::move(spec);
  c->db_ = ns->db;
  if (ns->coll == nullptr) {
    c->exhausted_ = true;
    return c;
  }
  if (const ValueView* id = c->spec_.matcher->id_equality()) {
    std::string doc;
    auto found = ns->db->GetRecord(*ns->coll, storage::RecordKey(ns->coll->id(), *id), &doc);
    if (!found.ok()) return found.status();
    c->use_sorted_ = true;
    if (*found && c->spec_.matcher->Matches(DocView(doc))) c->sorted_.push_back(std::move(doc));
  } else if (auto lookup = ChooseIndex(*ns->coll, *c->spec_.matcher)) {
    // An index lookup: its (few) documents are fetched now, in _id order.
    Candidates candidates(ns->db.get(), *ns->coll, *c->spec_.matcher, c->spec_.deadline, lookup);
    std::string key, doc;
    while (true) {
      auto more = candidates.Next(&key, &doc);
      if (!more.ok()) return more.status();
      if (!*more) break;
      c->sorted_.push_back(std::move(doc));
    }
    c->use_sorted_ = true;
  } else {
    c->it_ = ns->db->ScanRecords(*ns->coll);
  }
  if (c->spec_.sort && !c->spec_.sort->empty() && (!c->use_sorted_ || c->sorted_.size() > 1)) {
    // Blocking sort: gather matches, then order them stably by the sort key (ties keep
    // _id order, so skip/limit pages are deterministic).
    std::vector<std::string> docs;
    std::string doc;
    while (true) {
      auto more = c->NextMatch(&doc);
      if (!more.ok()) return more.status();
      if (!*more) break;
      docs.push_back(std::move(doc));
    }
    std::vector<std::pair<std::vector<ValueView>, size_t>> keys;
    keys.reserve(docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      keys.emplace_back(c->spec_.sort->ExtractKey(DocView(docs[i])), i);
    }
    const query::SortSpec& sort = *c->spec_.sort;
    std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
      return sort.Compare(a.first, b.first) < 0;
    });
    c->sorted_.clear();
    c->sorted_pos_ = 0;
    c->sorted_.reserve(docs.size());
    for (auto& [k, i] : keys) c->sorted_.push_back(std::move(docs[i]));
    c->use_sorted_ = true;
    c->it_.reset();
  }
  return c;
}

absl::StatusOr<bool> FindCursor::NextMatch(std::string* doc) {
  if (use_sorted_) {
    if (sorted_pos_ >= sorted_.size()) return false;
    *doc = std::move(sorted_[sorted_pos_++]);
    return true;
  }
  if (it_ == nullptr) return false;
  for (; it_->Valid(); it_->Next()) {
    if ((++scanned_ & 255) == 0) {
      if (auto s = spec_.deadline.Check(); !s.ok()) return s;
    }
    std::string_view value = it_->value();
    if (!spec_.matcher->Matches(DocView(value.data()))) continue;
    doc->assign(value);
    it_->Next();
    return true;
  }
  if (!it_->status().ok()) return it_->status();
  return false;
}

absl::StatusOr<bool> FindCursor::NextUnskipped(std::string* doc) {
  if (pending_) {
    *doc = std::move(*pending_);
    pending_.reset();
    return true;
  }
  while (true) {
    auto more = NextMatch(doc);
    if (!more.ok() || !*more) return more;
    if (skipped_ < spec_.skip) {
      ++skipped_;
      continue;
    }
    return true;
  }
}

absl::Status FindCursor::NextBatch(size_t max_docs, size_t max_bytes,
                                   std::vector<std::string>* out) {
  size_t bytes = 0;
  std::string doc;
  while (!exhausted_ && (max_docs == 0 || out->size() < max_docs) && bytes < max_bytes) {
    if (spec_.limit > 0 && returned_ >= spec_.limit) {
      exhausted_ = true;
      break;
    }
    auto more = NextUnskipped(&doc);
    if (!more.ok()) return more.status();
    if (!*more) {
      exhausted_ = true;
      break;
    }
    ++returned_;
    if (spec_.projection) {
      auto projected = spec_.projection->Apply(DocView(doc), spec_.matcher.get(), spec_.matcher->let());
      if (!projected.ok()) return projected.status();
      doc = *std::move(projected);
    }
    bytes += doc.size();
    out->push_back(std::move(doc));
  }
  // Look one document ahead so that a finished cursor reports exhaustion with its last
  // batch and the client needs no extra round trip.
  if (!exhausted_ && !pending_) {
    if (spec_.limit > 0 && returned_ >= spec_.limit) {
      exhausted_ = true;
    } else {
      std::string next;
      auto more = NextUnskipped(&next);
      if (!more.ok()) return more.status();
      if (*more) {
        pending_ = std::move(next);
      } else {
        exhausted_ = true;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace micromongo::service
