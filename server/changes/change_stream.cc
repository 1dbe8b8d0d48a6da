#include "changes/change_stream.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "document/builder.h"
#include "document/status.h"
#include "storage/key_codec.h"

namespace micromongo::changes {
namespace {

// Change records read per database per round: bounds memory when a stream is far behind.
constexpr size_t kGatherBatch = 1000;

const std::set<std::string, std::less<>>& AllowedStages() {
  static const auto* stages = new std::set<std::string, std::less<>>{
      "$match", "$project", "$addFields", "$set", "$unset", "$replaceRoot", "$replaceWith", "$redact"};
  return *stages;
}

std::string_view StringOf(bson::DocView d, std::string_view key) {
  bson::ValueView v;
  return d.Find(key, &v) && v.type == BsonType::kString ? v.String() : std::string_view();
}

bool DocOf(bson::DocView d, std::string_view key, bson::DocView* out) {
  bson::ValueView v;
  if (!d.Find(key, &v) || v.type != BsonType::kDocument) return false;
  *out = v.Doc();
  return true;
}

void AppendNamespace(bson::Builder* b, std::string_view key, std::string_view db, std::string_view coll) {
  size_t ns = b->StartDocument(key);
  b->AppendString("db", db);
  if (!coll.empty()) b->AppendString("coll", coll);
  b->End(ns);
}

// Change events that only streams with showExpandedEvents see.
bool IsExpanded(std::string_view op) {
  return op == "create" || op == "createIndexes" || op == "dropIndexes" || op == "modify";
}

// A collection's UUID as change events show it: collections have none of their own, so it
// is made from what identifies one for good (the database and the collection id, which is
// never reused), the same across restarts.
Value CollectionUuid(std::string_view db, int64_t cid) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the database name
  for (char c : db) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  std::string bytes(16, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(h >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) bytes[8 + i] = static_cast<char>(static_cast<uint64_t>(cid) >> (56 - 8 * i));
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);  // version 4 layout
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return Value(Binary{4, std::move(bytes)});
}

int64_t Int64Of(bson::DocView d, std::string_view key) {
  bson::ValueView v;
  return d.Find(key, &v) && v.IsNumber() ? static_cast<int64_t>(v.AsDouble()) : -1;
}

void AppendHeader(bson::Builder* b, const ResumeToken& token, std::string_view op, bson::DocView record,
                  std::string_view db, bool expanded) {
  b->AppendDocument("_id", bson::DocView(token.ToBson()));
  b->AppendString("operationType", op);
  b->AppendValue("clusterTime", Value(Timestamp{static_cast<uint32_t>(token.time >> 32),
                                                static_cast<uint32_t>(token.time & 0xffffffffu)}));
  if (int64_t cid = Int64Of(record, "cid"); expanded && cid >= 0) {
    b->AppendValue("collectionUUID", CollectionUuid(db, cid));
  }
  bson::ValueView wall;
  if (record.Find("wall", &wall)) b->AppendView("wallTime", wall);
}

}  // namespace

absl::StatusOr<FullDocument> ParseFullDocument(std::string_view s) {
  if (s.empty() || s == "default") return FullDocument::kDefault;
  if (s == "updateLookup") return FullDocument::kUpdateLookup;
  if (s == "whenAvailable") return FullDocument::kWhenAvailable;
  if (s == "required") return FullDocument::kRequired;
  return MongoError(kBadValue, StrCat("'", s, "' is not a valid value for fullDocument"));
}

absl::StatusOr<FullDocumentBeforeChange> ParseFullDocumentBeforeChange(std::string_view s) {
  if (s.empty() || s == "off") return FullDocumentBeforeChange::kOff;
  if (s == "whenAvailable") return FullDocumentBeforeChange::kWhenAvailable;
  if (s == "required") return FullDocumentBeforeChange::kRequired;
  return MongoError(kBadValue, StrCat("'", s, "' is not a valid value for fullDocumentBeforeChange"));
}

absl::StatusOr<std::unique_ptr<ChangeStream>> ChangeStream::Open(storage::Engine* engine, ChangeStreamSpec spec) {
  int starts = (spec.resume_after ? 1 : 0) + (spec.start_after ? 1 : 0) + (spec.start_at_operation_time ? 1 : 0);
  if (starts > 1) {
    return MongoError(kResumeOptionsConflict,
                      "Only one type of resume option is allowed, but multiple were found.");
  }
  std::unique_ptr<ChangeStream> stream(new ChangeStream(engine, std::move(spec)));
  // Parsed first, as MongoDB does: an unknown stage is 40324, a known one not allowed 20.
  pipeline::ParseOptions options;
  options.collator = stream->spec_.collator;
  auto parsed = pipeline::Pipeline::Parse(stream->spec_.pipeline, options);
  if (!parsed.ok()) return parsed.status();
  for (const Document& stage : stream->spec_.pipeline) {
    const std::string& name = stage.begin()->first;
    if (!AllowedStages().count(name)) {
      return MongoError(kIllegalOperation, StrCat(name, " is not permitted in a $changeStream pipeline"));
    }
  }
  stream->pipeline_ = *std::move(parsed);

  const ChangeStreamSpec& s = stream->spec_;
  // The databases in scope open first: opening one advances the change clock past every
  // time it holds, so "now" below is after all of their history.
  std::vector<std::shared_ptr<storage::Database>> databases = stream->Databases();
  uint64_t start;
  bool explicit_start = true;
  if (s.resume_after || s.start_after) {
    auto token = ResumeToken::Parse(bson::DocView(bson::Encode(s.resume_after ? *s.resume_after : *s.start_after)));
    if (!token.ok()) return token.status();
    if (s.resume_after && token->kind == ResumeToken::Kind::kInvalidate) {
      return MongoError(kInvalidResumeToken,
                        "Attempting to resume a change stream using 'resumeAfter' is not allowed from an "
                        "invalidate notification; use 'startAfter' instead");
    }
    start = token->time;
  } else if (s.start_at_operation_time) {
    uint64_t t = uint64_t{s.start_at_operation_time->t} << 32 | s.start_at_operation_time->i;
    start = t == 0 ? 0 : t - 1;  // the event at that time is the first returned
  } else {
    start = engine->change_clock().Visible();
    explicit_start = false;
  }
  stream->cursor_ = start;
  stream->last_token_ = ResumeToken{start, ResumeToken::Kind::kHighWaterMark};
  if (explicit_start) {
    for (const auto& db : databases) {
      if (start + 1 < db->changes_trimmed_before()) {
        return MongoError(kChangeStreamHistoryLost,
                          "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
      }
    }
  }
  return stream;
}

std::vector<std::shared_ptr<storage::Database>> ChangeStream::Databases() {
  if (spec_.db.empty()) {
    // The data root is listed once, when the stream opens: every database is open from
    // then on (the engine closes none while the stream lives), and any made later is
    // opened by its first write.
    if (listed_all_) return engine_->OpenDatabases();
    listed_all_ = true;
    keep_open_ = engine_->KeepDatabasesOpen();  // before listing: none closes after it
    return engine_->AllDatabases();
  }
  auto db = engine_->GetDatabase(spec_.db, /*create=*/false);
  if (!db.ok() || *db == nullptr) return {};
  return {*std::move(db)};
}

absl::Status ChangeStream::Gather(uint64_t* upto, std::vector<Raw>* out) {
  for (const auto& db : Databases()) {
    if (cursor_ + 1 < db->changes_trimmed_before()) {
      return MongoError(kChangeStreamHistoryLost,
                        "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
    }
    size_t n = 0;
    auto s = db->ReadChanges(cursor_, *upto, [&](uint64_t time, std::string_view record) {
      if (n == kGatherBatch) {
        *upto = time - 1;  // this database has more: read no further than what it gave
        return false;
      }
      out->push_back({time, db, std::string(record)});
      ++n;
      return true;
    });
    if (!s.ok()) return s;
  }
  std::sort(out->begin(), out->end(), [](const Raw& a, const Raw& b) { return a.time < b.time; });
  while (!out->empty() && out->back().time > *upto) out->pop_back();
  return absl::OkStatus();
}

absl::Status ChangeStream::Next(size_t max, std::chrono::milliseconds wait, std::vector<std::string>* events) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  storage::ChangeClock& clock = engine_->change_clock();
  while (!invalidated_) {
    uint64_t upto = clock.Visible();
    if (upto > cursor_) {
      std::vector<Raw> raws;
      if (auto s = Gather(&upto, &raws); !s.ok()) return s;
      for (const Raw& raw : raws) {
        if (auto s = Process(raw, events); !s.ok()) return s;
        cursor_ = raw.time;
        if (invalidated_ || events->size() >= max) return absl::OkStatus();
      }
      cursor_ = std::max(cursor_, upto);
      if (last_token_.time < cursor_) last_token_ = ResumeToken{cursor_, ResumeToken::Kind::kHighWaterMark};
      if (!events->empty()) return absl::OkStatus();
      if (clock.Visible() > cursor_) continue;  // more arrived, or a database had more
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return absl::OkStatus();
    clock.WaitPast(cursor_, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                                std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

std::string ChangeStream::ResumeTokenBson() const { return last_token_.ToBson(); }

absl::Status ChangeStream::Process(const Raw& raw, std::vector<std::string>* events) {
  bson::DocView record(raw.record);
  std::string_view op = StringOf(record, "op"), coll = StringOf(record, "coll");
  if (IsExpanded(op) && !spec_.show_expanded_events) return absl::OkStatus();
  bool invalidates = false;
  if (!spec_.coll.empty()) {
    bool mine = coll == spec_.coll || (op == "rename" && StringOf(record, "to") == spec_.coll);
    if (!mine) return absl::OkStatus();
    invalidates = op == "drop" || op == "rename";
  } else if (!spec_.db.empty()) {
    invalidates = op == "dropDatabase";
  }
  auto event = Shape(raw, record, op);
  if (!event.ok()) return event.status();
  ResumeToken token{raw.time, ResumeToken::Kind::kEvent};
  auto out = ApplyPipeline(*std::move(event), token.ToBson());
  if (!out.ok()) return out.status();
  if (*out) {
    events->push_back(**std::move(out));
    last_token_ = token;
  }
  if (invalidates) {
    ResumeToken inv{raw.time, ResumeToken::Kind::kInvalidate};
    bson::Builder b;
    AppendHeader(&b, inv, "invalidate", record, raw.db->name(), /*expanded=*/false);
    auto shaped = ApplyPipeline(std::move(b).Finish(), inv.ToBson());
    if (!shaped.ok()) return shaped.status();
    if (*shaped) events->push_back(**std::move(shaped));
    last_token_ = inv;
    invalidated_ = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ChangeStream::Shape(const Raw& raw, bson::DocView record, std::string_view op) {
  ResumeToken token{raw.time, ResumeToken::Kind::kEvent};
  std::string_view coll = StringOf(record, "coll");
  bson::DocView before, after;
  bool has_before = DocOf(record, "before", &before), has_after = DocOf(record, "after", &after);
  bson::ValueView images_v;
  bool images = record.Find("images", &images_v) && images_v.type == BsonType::kBool && images_v.Bool();
  bool document_event = op == "insert" || op == "update" || op == "replace" || op == "delete";

  bson::Builder b;
  AppendHeader(&b, token, op, record, raw.db->name(), spec_.show_expanded_events);
  if (op == "insert" || op == "replace") {
    if (has_after) b.AppendDocument("fullDocument", after);
  } else if (op == "update" && spec_.full_document != FullDocument::kDefault) {
    if (spec_.full_document == FullDocument::kUpdateLookup) {
      // The document as it is now (null when it is gone), as MongoDB's lookup reads it.
      std::string current;
      bool found = false;
      bson::ValueView id;
      bson::DocView key;
      if (DocOf(record, "key", &key) && key.Find("_id", &id)) {
        std::shared_lock<std::shared_mutex> ddl(raw.db->ddl_mutex());
        if (auto c = raw.db->FindCollection(coll)) {
          auto got = raw.db->GetRecord(*c, storage::RecordKey(c->id(), id), &current);
          if (!got.ok()) return got.status();
          found = *got;
        }
      }
      if (found) b.AppendDocument("fullDocument", bson::DocView(current));
      else b.AppendNull("fullDocument");
    } else if (images && has_after) {
      b.AppendDocument("fullDocument", after);
    } else if (spec_.full_document == FullDocument::kRequired) {
      return MongoError(kNoMatchingDocument,
                        "Change stream was configured to require a post-image for all update events, but the "
                        "post-image was not found");
    } else {
      b.AppendNull("fullDocument");
    }
  }
  AppendNamespace(&b, "ns", raw.db->name(), coll);
  if (document_event) {
    bson::DocView key;
    bson::ValueView id;
    if (DocOf(record, "key", &key)) {
      b.AppendDocument("documentKey", key);
    } else if ((has_after ? after : before).Find("_id", &id)) {
      size_t k = b.StartDocument("documentKey");
      b.AppendView("_id", id);
      b.End(k);
    }
  }
  bson::DocView desc;
  bool has_desc = DocOf(record, "desc", &desc);
  if (op == "update" && has_desc) {
    // Stored with disambiguatedPaths, which only expanded events show.
    size_t d = b.StartDocument("updateDescription");
    for (const bson::ElementView& e : desc) {
      if (e.key != "disambiguatedPaths" || spec_.show_expanded_events) b.AppendView(e.key, e.value);
    }
    b.End(d);
  }
  // Events of a transaction's writes name its session and number.
  if (bson::DocView lsid; DocOf(record, "lsid", &lsid)) {
    b.AppendDocument("lsid", lsid);
    if (int64_t txn = Int64Of(record, "txn"); txn >= 0) b.AppendInt64("txnNumber", txn);
  }
  if (op == "rename") AppendNamespace(&b, "to", raw.db->name(), StringOf(record, "to"));
  if (spec_.show_expanded_events && (op == "rename" || IsExpanded(op))) {
    size_t d = b.StartDocument("operationDescription");
    if (op == "rename") {
      AppendNamespace(&b, "to", raw.db->name(), StringOf(record, "to"));
      if (int64_t dropped = Int64Of(record, "dropped_cid"); dropped >= 0) {
        b.AppendValue("dropTarget", CollectionUuid(raw.db->name(), dropped));
      }
    } else if (bson::ValueView view_on; op == "create" && !desc.Find("viewOn", &view_on)) {
      // A collection's create shows its _id index and its options.
      size_t id_index = b.StartDocument("idIndex");
      b.AppendInt32("v", 2);
      size_t key = b.StartDocument("key");
      b.AppendInt32("_id", 1);
      b.End(key);
      b.AppendString("name", "_id_");
      b.End(id_index);
      for (const bson::ElementView& e : desc) b.AppendView(e.key, e.value);
    } else {
      for (const bson::ElementView& e : desc) b.AppendView(e.key, e.value);
    }
    b.End(d);
  }
  if ((op == "update" || op == "replace" || op == "delete") &&
      spec_.before_change != FullDocumentBeforeChange::kOff) {
    if (images && has_before) {
      b.AppendDocument("fullDocumentBeforeChange", before);
    } else if (spec_.before_change == FullDocumentBeforeChange::kRequired) {
      return MongoError(kNoMatchingDocument,
                        "Change stream was configured to require a pre-image for all update, delete and replace "
                        "events, but the pre-image was not found");
    } else {
      b.AppendNull("fullDocumentBeforeChange");
    }
  }
  return std::move(b).Finish();
}

absl::StatusOr<std::optional<std::string>> ChangeStream::ApplyPipeline(std::string event, std::string_view token) {
  if (pipeline_.empty()) return std::optional<std::string>(std::move(event));
  pipeline::ExecContext ctx;
  ctx.collator = spec_.collator;
  ctx.db = spec_.db;
  ctx.collection = spec_.coll;
  std::vector<std::string> one;
  one.push_back(std::move(event));
  auto stage = pipeline_.Open(pipeline::RowsSource(std::move(one)), &ctx);
  if (!stage.ok()) return stage.status();
  auto rows = pipeline::Drain(stage->get());
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<std::string>();
  std::string out = std::move(rows->front());
  bson::ValueView id;
  bson::DocView expected(token);
  if (!bson::DocView(out).Find("_id", &id) || id.type != BsonType::kDocument ||
      id.Doc().bytes() != expected.bytes()) {
    return MongoError(kChangeStreamFatalError,
                      "Encountered an event whose _id field, which contains the resume token, was modified by the "
                      "pipeline. Modifying the _id field of an event makes it impossible to resume the stream from "
                      "that point. Only transformations that retain the unmodified _id field are allowed.");
  }
  return std::optional<std::string>(std::move(out));
}

}  // namespace micromongo::changes
