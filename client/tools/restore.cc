// micromongo restore: a dump directory (mongodump's layout, from micro-mongo or MongoDB)
// back into a worker: collections with their options, documents, indexes, then views.

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "commands.h"
#include "connect.h"
#include "dump_files.h"
#include "progress.h"

namespace micromongo::tools {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string db;
  std::string name;
  fs::path metadata;  // empty if the dump has none
  fs::path data;      // empty for views
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The collections of one database directory, by name.
void ScanDatabase(const fs::path& dir, const std::string& db, std::map<std::string, Entry>* out) {
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.is_regular_file()) files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::string file = f.filename().string();
    for (const char* suffix : {".metadata.json.gz", ".metadata.json", ".bson.gz", ".bson"}) {
      if (!EndsWith(file, suffix)) continue;
      std::string name = file.substr(0, file.size() - std::strlen(suffix));
      Entry& e = (*out)[name];
      e.db = db;
      e.name = name;
      (std::strstr(suffix, "metadata") ? e.metadata : e.data) = f;
      break;
    }
  }
}

bool HoldsCollections(const fs::path& dir) {
  for (const auto& f : fs::directory_iterator(dir)) {
    std::string n = f.path().filename().string();
    if (f.is_regular_file() && (EndsWith(n, ".bson") || EndsWith(n, ".bson.gz") ||
                                EndsWith(n, ".metadata.json") || EndsWith(n, ".metadata.json.gz"))) {
      return true;
    }
  }
  return false;
}

std::vector<FlagSpec> RestoreFlags() {
  std::vector<FlagSpec> specs = ConnectionFlags();
  std::vector<FlagSpec> own = {
      {"dir", true, "the dump directory (default: dump), or one database's directory"},
      {"db", true, "only this database; with a database's directory: restore into it", "d"},
      {"collection", true, "only this collection (needs --db)", "c"},
      {"drop", false, "drop each collection before restoring it"},
      {"noIndexRestore", false, "do not create the dumped indexes"},
      {"stopOnError", false, "stop at the first document that fails to insert"},
      {"bypassDocumentValidation", false, "skip the collections' validators"},
      {"batchSize", true, "documents per insert (default 1000)"},
  };
  specs.insert(specs.end(), own.begin(), own.end());
  return specs;
}

int Restore(const Flags& flags) {
  if (flags.Has("collection") && !flags.Has("db")) throw UsageError("--collection needs --db");
  fs::path dir = flags.Get("dir", "dump");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw UsageError("no dump directory " + dir.string());
  size_t batch_size = 1000;
  if (auto n = flags.GetInt("batchSize")) batch_size = std::max<int64_t>(1, *n);
  const bool quiet = flags.Has("quiet");

  std::vector<Entry> entries;
  auto add_db = [&](const fs::path& d, const std::string& db) {
    std::map<std::string, Entry> found;
    ScanDatabase(d, db, &found);
    for (auto& [name, e] : found) {
      if (flags.Has("collection") && name != flags.Get("collection")) continue;
      if (name.rfind("system.", 0) == 0) {
        if (!quiet) std::fprintf(stderr, "skipping %s.%s (a system collection)\n", db.c_str(), name.c_str());
        continue;
      }
      entries.push_back(e);
    }
  };
  if (HoldsCollections(dir)) {
    add_db(dir, flags.Get("db", fs::absolute(dir).lexically_normal().filename().string()));
  } else {
    std::vector<fs::path> dbs;
    for (const auto& f : fs::directory_iterator(dir)) {
      if (f.is_directory()) dbs.push_back(f.path());
    }
    std::sort(dbs.begin(), dbs.end());
    for (const fs::path& d : dbs) {
      std::string db = d.filename().string();
      if (flags.Has("db") && db != flags.Get("db")) continue;
      add_db(d, db);
    }
  }
  int64_t total_bytes = 0;
  for (const Entry& e : entries) {
    if (!e.data.empty()) total_bytes += static_cast<int64_t>(fs::file_size(e.data, ec));
  }

  Connection connection(flags);
  MongoClient& client = connection.client();
  Progress progress("restore", -1, total_bytes, DefaultProgressStyle(stderr, quiet));
  int64_t docs = 0, failed = 0, bytes_done = 0;
  std::vector<std::pair<Entry, CollectionMetadata>> views;
  auto warn_ignored = [&](const std::string& what, const std::vector<std::string>& ignored) {
    if (quiet || ignored.empty()) return;
    std::string list;
    for (const std::string& i : ignored) list += (list.empty() ? "" : ", ") + i;
    std::fprintf(stderr, "%s: ignoring options micro-mongo does not have: %s\n", what.c_str(), list.c_str());
  };
  for (const Entry& e : entries) {
    CollectionMetadata meta;
    meta.name = e.name;
    if (!e.metadata.empty()) {
      DumpFile f = DumpFile::Open(e.metadata.string());
      meta = ParseMetadata(f.ReadAll(), e.name);
    }
    if (meta.view) {
      views.emplace_back(e, meta);
      continue;
    }
    Database db = client.Db(e.db);
    Collection coll = db[e.name];
    if (flags.Has("drop")) db.DropCollection(e.name);
    std::vector<std::string> names = db.ListCollectionNames();
    if (std::find(names.begin(), names.end(), e.name) == names.end()) {
      std::vector<std::string> ignored;
      CollectionOptions options = ToCollectionOptions(meta.options, &ignored);
      warn_ignored(e.db + "." + e.name, ignored);
      db.CreateCollection(e.name, options);
    }
    if (!e.data.empty()) {
      DumpFile f = DumpFile::Open(e.data.string());
      std::vector<std::string> batch;  // BSON as read: never built as Documents
      size_t batch_bytes = 0;
      std::string bson;
      int64_t file_base = bytes_done;
      auto flush = [&] {
        if (batch.empty()) return;
        try {
          InsertManyResult r = coll.InsertManyBson(
              batch, {.ordered = flags.Has("stopOnError"),
                      .bypass_document_validation = flags.Has("bypassDocumentValidation")});
          docs += r.inserted_count;
        } catch (const BulkWriteError& err) {
          docs += err.inserted_count();
          failed += static_cast<int64_t>(err.write_errors().size());
          for (const WriteError& w : err.write_errors()) {
            std::fprintf(stderr, "%s.%s: %s (%d %s)\n", e.db.c_str(), e.name.c_str(),
                         w.message.c_str(), w.code, w.code_name.c_str());
          }
          if (flags.Has("stopOnError")) throw;
        }
        batch.clear();
        batch_bytes = 0;
        progress.Update(docs, file_base + f.offset());
      };
      while (f.ReadBson(&bson)) {
        batch_bytes += bson.size();
        batch.push_back(std::move(bson));
        if (batch.size() >= batch_size || batch_bytes >= (8u << 20)) flush();
      }
      flush();
      bytes_done += static_cast<int64_t>(fs::file_size(e.data, ec));
    }
    if (!flags.Has("noIndexRestore")) {
      for (const Document& spec : meta.indexes) {
        std::vector<std::string> ignored;
        IndexToCreate index = ToIndex(spec, &ignored);
        if (index.options.name == "_id_") continue;
        warn_ignored(e.db + "." + e.name + " index " + index.options.name, ignored);
        coll.CreateIndex(index.keys, index.options);
      }
    }
  }
  // Views last, each after the views it reads from.
  while (!views.empty()) {
    size_t before = views.size();
    for (auto it = views.begin(); it != views.end();) {
      Database db = client.Db(it->first.db);
      std::vector<std::string> names = db.ListCollectionNames();
      const std::string& on = it->second.options.Has("viewOn") && it->second.options.Get("viewOn").type() == BsonType::kString
                                  ? it->second.options.GetString("viewOn") : std::string();
      bool waiting = std::any_of(views.begin(), views.end(), [&](const auto& v) {
        return v.first.db == it->first.db && v.second.name == on && &v != &*it;
      });
      if (waiting) {
        ++it;
        continue;
      }
      if (flags.Has("drop")) {
        db.DropCollection(it->second.name);
      } else if (std::find(names.begin(), names.end(), it->second.name) != names.end()) {
        if (!quiet) std::fprintf(stderr, "%s.%s exists: view not restored (use --drop)\n", it->first.db.c_str(), it->second.name.c_str());
        it = views.erase(it);
        continue;
      }
      std::vector<std::string> ignored;
      CollectionOptions options = ToCollectionOptions(it->second.options, &ignored);
      warn_ignored(it->first.db + "." + it->second.name, ignored);
      db.CreateCollection(it->second.name, options);
      it = views.erase(it);
    }
    if (views.size() == before) throw std::runtime_error("the dumped views read from each other in a cycle");
  }
  progress.Update(docs, total_bytes);
  progress.Finish();
  if (!quiet) {
    std::fprintf(stderr, "%s document(s) restored, %s failed\n", Progress::Count(docs).c_str(),
                 Progress::Count(failed).c_str());
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int RunRestore(const std::vector<std::string>& args) {
  return RunCommand("restore",
                    "micromongo restore (--uri URI | --address ADDR | --data-dir DIR) "
                    "[--dir DUMP] [--db DB [--collection C]] [--drop] [options]",
                    args, RestoreFlags(), Restore);
}

}  // namespace micromongo::tools
