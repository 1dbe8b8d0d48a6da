// micromongo import: JSON (documents one after another, or one array) and CSV/TSV into a
// collection, in batches through InsertMany (insert mode) or BulkWrite (upsert, merge,
// delete). A reader thread parses the next batch while the current one is written.

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "columns.h"
#include "commands.h"
#include "connect.h"
#include "input.h"
#include "progress.h"

namespace micromongo::tools {
namespace {

enum class Mode { kInsert, kUpsert, kMerge, kDelete };

struct Batch {
  std::vector<std::string> bson;                          // insert mode: the documents' BSON
  std::vector<Document> docs;                             // the other modes: the documents
  std::vector<int64_t> lines;                             // of each document
  std::vector<std::pair<int64_t, std::string>> errors;   // unparsable records: line, why
  int64_t bytes_read = 0;                                 // input consumed after the batch
  bool last = false;
};

// The reader thread's output: at most two batches ahead of the writer.
class BatchQueue {
 public:
  void Push(Batch b) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return queue_.size() < 2 || cancelled_; });
    if (cancelled_) return;
    queue_.push_back(std::move(b));
    cv_.notify_all();
  }
  Batch Pop() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !queue_.empty(); });
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }
  void Cancel() {
    std::lock_guard<std::mutex> l(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  bool cancelled() {
    std::lock_guard<std::mutex> l(mu_);
    return cancelled_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool cancelled_ = false;
};

struct ImportSettings {
  std::string type;  // json, csv, tsv
  bool json_array = false;
  bool header_line = false;
  std::vector<std::string> fields;
  bool typed = false;
  bool ignore_blanks = false;
  ParseGrace grace = ParseGrace::kStop;
  size_t batch_size = 1000;
  size_t batch_bytes = 8 << 20;
  // Insert mode: documents travel as BSON, never built as Documents (JSON straight to BSON).
  bool as_bson = false;
};

// The reader thread: parses records into batches until the input ends or the queue is
// cancelled. Column errors of the header end the import (reported as a line-1 error).
void ReadBatches(std::FILE* in, const ImportSettings& settings, BatchQueue* queue) {
  Batch batch;
  size_t batch_bytes = 0;
  auto flush = [&](bool last, int64_t bytes_read) {
    batch.bytes_read = bytes_read;
    batch.last = last;
    queue->Push(std::move(batch));
    batch = Batch();
    batch_bytes = 0;
  };
  if (settings.type == "json") {
    JsonDocumentReader reader(in, settings.json_array);
    std::string text;
    int64_t line = 0;
    while (!queue->cancelled()) {
      try {
        if (!reader.Next(&text, &line)) break;
        if (settings.as_bson) batch.bson.push_back(Document::JsonToBson(text));
        else batch.docs.push_back(Document::FromJson(text));
        batch.lines.push_back(line);
        batch_bytes += text.size();
      } catch (const InputError& e) {
        batch.errors.emplace_back(e.line(), e.what());
      } catch (const Error& e) {
        batch.errors.emplace_back(line, e.what());
      }
      if (batch.lines.size() >= settings.batch_size || batch_bytes >= settings.batch_bytes) {
        flush(false, reader.bytes_read());
      }
    }
    flush(true, reader.bytes_read());
    return;
  }
  CsvReader reader(in, settings.type == "tsv");
  std::vector<Column> columns;
  std::vector<std::string> record;
  int64_t line = 0;
  try {
    if (settings.header_line) {
      if (reader.Next(&record, &line)) columns = ParseColumns(record, settings.typed);
    } else {
      columns = ParseColumns(settings.fields, settings.typed);
    }
  } catch (const std::exception& e) {
    batch.errors.emplace_back(1, std::string("header: ") + e.what());
    flush(true, reader.bytes_read());
    return;
  }
  Document doc;
  while (!queue->cancelled()) {
    try {
      if (!reader.Next(&record, &line)) break;
      if (record.size() == 1 && record[0].empty()) continue;  // a blank line
      if (BuildRow(columns, record, settings.ignore_blanks, settings.grace, &doc)) {
        if (settings.as_bson) batch.bson.push_back(doc.ToBson());
        else batch.docs.push_back(std::move(doc));
        batch.lines.push_back(line);
      }
      for (const std::string& f : record) batch_bytes += f.size() + 1;
    } catch (const InputError& e) {
      batch.errors.emplace_back(e.line(), e.what());
    } catch (const ColumnError& e) {
      batch.errors.emplace_back(line, e.what());
    }
    if (batch.lines.size() >= settings.batch_size || batch_bytes >= settings.batch_bytes) {
      flush(false, reader.bytes_read());
    }
  }
  flush(true, reader.bytes_read());
}

void ReportError(int64_t line, const std::string& message) {
  std::fprintf(stderr, "line %lld: %s\n", static_cast<long long>(line), message.c_str());
}

std::string ErrorText(const WriteError& e) {
  return e.message + " (" + std::to_string(e.code) + " " + e.code_name + ")";
}

// The filter of an upsert/merge/delete model: the document's values at `fields`; nullopt
// when it has none of them (upsert and merge then insert the document).
std::optional<Document> KeyFilter(const Document& doc, const std::vector<std::string>& fields) {
  Document filter;
  for (const std::string& f : fields) {
    if (const Value* v = LookupPath(doc, f)) filter.Append(f, *v);
  }
  if (filter.empty()) return std::nullopt;
  return filter;
}

WriteModel ModelFor(Mode mode, Document doc, const std::vector<std::string>& upsert_fields) {
  std::optional<Document> filter = KeyFilter(doc, upsert_fields);
  switch (mode) {
    case Mode::kInsert:
      break;
    case Mode::kUpsert:
      if (filter) return ReplaceOneModel{.filter = *filter, .replacement = std::move(doc), .upsert = true};
      break;
    case Mode::kMerge:
      if (filter) {
        // The fields of the import replace the stored ones; the rest stay.
        Document set;
        for (auto& [k, v] : doc) {
          if (k != "_id" || !filter->Has("_id")) set.Append(k, v);
        }
        Document update;
        if (!set.empty()) update.Append("$set", std::move(set));
        else update.Append("$setOnInsert", Document{{"_id", doc.Get("_id")}});
        return UpdateOneModel{.filter = *filter, .update = std::move(update), .upsert = true};
      }
      break;
    case Mode::kDelete:
      return DeleteOneModel{.filter = *filter};  // (WriteBatch checked it has one)
  }
  return InsertOneModel{std::move(doc)};
}

struct Counts {
  int64_t imported = 0;  // documents written (inserted, replaced, merged, deleted)
  int64_t failed = 0;
};

// Writes one batch; returns false when the import must stop.
bool WriteBatch(Collection& coll, Batch& batch, Mode mode, const std::vector<std::string>& upsert_fields,
                bool keep_going, bool bypass, Counts* counts) {
  if (batch.lines.empty()) return true;
  if (mode == Mode::kInsert) {
    try {
      InsertManyResult r = coll.InsertManyBson(batch.bson, {.ordered = !keep_going,
                                                            .bypass_document_validation = bypass});
      counts->imported += r.inserted_count;
      return true;
    } catch (const BulkWriteError& e) {
      for (const WriteError& w : e.write_errors()) ReportError(batch.lines[w.index], ErrorText(w));
      counts->failed += static_cast<int64_t>(e.write_errors().size());
      if (keep_going) {
        counts->imported += e.inserted_count();
        return true;
      }
      // Nothing half-imported: the documents inserted before the failing one go again.
      Array ids;
      for (const auto& [index, id] : e.result().inserted_ids) ids.push_back(id);
      if (!ids.empty()) coll.DeleteMany(Document{{"_id", Document{{"$in", std::move(ids)}}}});
      std::fprintf(stderr, "the batch of lines %lld-%lld was not imported\n",
                   static_cast<long long>(batch.lines.front()),
                   static_cast<long long>(batch.lines.back()));
      return false;
    }
  }
  std::vector<WriteModel> models;
  std::vector<int64_t> lines;  // of each model
  models.reserve(batch.docs.size());
  for (size_t i = 0; i < batch.docs.size(); ++i) {
    if (mode == Mode::kDelete && !KeyFilter(batch.docs[i], upsert_fields)) {
      ReportError(batch.lines[i], "the document has none of the fields that identify what to delete");
      ++counts->failed;
      if (!keep_going) return false;
      continue;
    }
    models.push_back(ModelFor(mode, std::move(batch.docs[i]), upsert_fields));
    lines.push_back(batch.lines[i]);
  }
  if (models.empty()) return true;
  auto written = [&](const BulkWriteResult& r) {
    return r.inserted_count + r.matched_count + r.upserted_count + r.deleted_count;
  };
  try {
    counts->imported += written(coll.BulkWrite(models, {.ordered = !keep_going,
                                                        .bypass_document_validation = bypass}));
    return true;
  } catch (const BulkWriteError& e) {
    for (const WriteError& w : e.write_errors()) ReportError(lines[w.index], ErrorText(w));
    counts->failed += static_cast<int64_t>(e.write_errors().size());
    counts->imported += written(e.result());
    return keep_going;
  }
}

std::vector<FlagSpec> ImportFlags() {
  std::vector<FlagSpec> specs = ConnectionFlags();
  std::vector<FlagSpec> own = {
      {"db", true, "database (default: the URI's, else test)", "d"},
      {"collection", true, "collection (default: the file name without extension)", "c"},
      {"file", true, "input file (default: standard input)"},
      {"type", true, "json (default), csv or tsv"},
      {"jsonArray", false, "the JSON input is one array of documents"},
      {"headerline", false, "CSV/TSV: the first line names the fields"},
      {"fields", true, "CSV/TSV: comma-separated field names"},
      {"fieldFile", true, "CSV/TSV: a file with one field name per line"},
      {"columnsHaveTypes", false, "CSV/TSV: field names carry types: name.int32(), d.date(2006-01-02)"},
      {"ignoreBlanks", false, "CSV/TSV: leave empty values out"},
      {"parseGrace", true, "a value that does not fit its type: autoCast, skipField, skipRow, stop (default)"},
      {"mode", true, "insert (default), upsert, merge or delete"},
      {"upsertFields", true, "fields that identify a document for upsert/merge/delete (default _id)"},
      {"drop", false, "drop the collection first"},
      {"batchSize", true, "documents per batch (default 1000)"},
      {"continue-on-error", false, "report failing documents and go on (default: stop; the failing batch is not imported)"},
      {"bypassDocumentValidation", false, "skip the collection's validator"},
  };
  specs.insert(specs.end(), own.begin(), own.end());
  return specs;
}

int Import(const Flags& flags) {
  ImportSettings settings;
  settings.type = flags.Get("type", "json");
  if (settings.type != "json" && settings.type != "csv" && settings.type != "tsv") {
    throw UsageError("--type must be json, csv or tsv");
  }
  bool tabular = settings.type != "json";
  settings.json_array = flags.Has("jsonArray");
  if (settings.json_array && tabular) throw UsageError("--jsonArray is for JSON input");
  settings.header_line = flags.Has("headerline");
  settings.fields = FieldNames(flags);
  if (tabular && settings.header_line == !settings.fields.empty()) {
    throw UsageError("CSV/TSV input needs exactly one of --headerline, --fields, --fieldFile");
  }
  if (!tabular && (settings.header_line || !settings.fields.empty() || flags.Has("columnsHaveTypes"))) {
    throw UsageError("--headerline, --fields, --fieldFile and --columnsHaveTypes are for CSV/TSV input");
  }
  settings.typed = flags.Has("columnsHaveTypes");
  settings.ignore_blanks = flags.Has("ignoreBlanks");
  std::string grace = flags.Get("parseGrace", "stop");
  if (grace == "autoCast") settings.grace = ParseGrace::kAutoCast;
  else if (grace == "skipField") settings.grace = ParseGrace::kSkipField;
  else if (grace == "skipRow") settings.grace = ParseGrace::kSkipRow;
  else if (grace != "stop") throw UsageError("--parseGrace must be autoCast, skipField, skipRow or stop");
  if (auto n = flags.GetInt("batchSize")) {
    if (*n == 0) throw UsageError("--batchSize must be positive");
    settings.batch_size = static_cast<size_t>(*n);
  }
  std::string mode_name = flags.Get("mode", "insert");
  Mode mode;
  if (mode_name == "insert") mode = Mode::kInsert;
  else if (mode_name == "upsert") mode = Mode::kUpsert;
  else if (mode_name == "merge") mode = Mode::kMerge;
  else if (mode_name == "delete") mode = Mode::kDelete;
  else throw UsageError("--mode must be insert, upsert, merge or delete");
  std::vector<std::string> upsert_fields = flags.GetList("upsertFields");
  settings.as_bson = mode == Mode::kInsert;
  if (upsert_fields.empty()) upsert_fields = {"_id"};
  else if (mode == Mode::kInsert) throw UsageError("--upsertFields needs --mode upsert, merge or delete");

  std::string file = flags.Get("file");
  std::string coll_name = flags.Get("collection");
  if (coll_name.empty()) {
    if (file.empty()) throw UsageError("name the collection with --collection (reading standard input)");
    coll_name = std::filesystem::path(file).stem().string();
  }
  std::FILE* in = stdin;
  int64_t total_bytes = -1;
  if (!file.empty()) {
    in = std::fopen(file.c_str(), "rb");
    if (in == nullptr) throw UsageError("cannot open " + file);
    std::error_code ec;
    auto size = std::filesystem::file_size(file, ec);
    if (!ec) total_bytes = static_cast<int64_t>(size);
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(in == stdin ? nullptr : in, &std::fclose);

  Connection connection(flags);
  std::string db = connection.database(flags);
  Collection coll = connection.client().Db(db)[coll_name];
  if (flags.Has("drop")) coll.Drop();

  bool quiet = flags.Has("quiet");
  bool keep_going = flags.Has("continue-on-error");
  bool bypass = flags.Has("bypassDocumentValidation");
  Progress progress("import " + db + "." + coll_name, -1, total_bytes,
                    DefaultProgressStyle(stderr, quiet));
  BatchQueue queue;
  std::thread reader([&] { ReadBatches(in, settings, &queue); });
  Counts counts;
  bool ok = true;
  auto started = std::chrono::steady_clock::now();
  try {
    while (true) {
      Batch batch = queue.Pop();
      for (const auto& [line, why] : batch.errors) ReportError(line, why);
      counts.failed += static_cast<int64_t>(batch.errors.size());
      if (!batch.errors.empty() && !keep_going) {
        if (!batch.lines.empty()) {
          std::fprintf(stderr, "the batch of lines %lld-%lld was not imported\n",
                       static_cast<long long>(batch.lines.front()),
                       static_cast<long long>(batch.lines.back()));
        }
        ok = false;
        break;
      }
      if (!WriteBatch(coll, batch, mode, upsert_fields, keep_going, bypass, &counts)) {
        ok = false;
        break;
      }
      progress.Update(counts.imported, batch.bytes_read);
      if (batch.last) break;
    }
  } catch (...) {
    queue.Cancel();
    reader.join();
    throw;
  }
  queue.Cancel();
  reader.join();
  progress.Finish();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!quiet) {
    std::fprintf(stderr, "%s document(s) imported into %s.%s in %s, %s document(s) failed\n",
                 Progress::Count(counts.imported).c_str(), db.c_str(), coll_name.c_str(),
                 Progress::Duration(seconds).c_str(), Progress::Count(counts.failed).c_str());
  }
  return ok && counts.failed == 0 ? 0 : 1;
}

}  // namespace

int RunImport(const std::vector<std::string>& args) {
  return RunCommand("import",
                    "micromongo import (--uri URI | --address ADDR | --data-dir DIR) "
                    "[--db DB] [--collection C] [--file FILE] [options]",
                    args, ImportFlags(), Import);
}

}  // namespace micromongo::tools
