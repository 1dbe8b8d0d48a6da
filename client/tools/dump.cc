// micromongo dump: databases and collections into mongodump's layout (dump_files.h).

#include <filesystem>

#include "commands.h"
#include "connect.h"
#include "dump_files.h"
#include "progress.h"

namespace micromongo::tools {
namespace {

namespace fs = std::filesystem;

std::vector<FlagSpec> DumpFlags() {
  std::vector<FlagSpec> specs = ConnectionFlags();
  std::vector<FlagSpec> own = {
      {"db", true, "only this database (default: every database)", "d"},
      {"collection", true, "only this collection (needs --db)", "c"},
      {"query", true, "only the documents matching this filter (needs --collection)", "q"},
      {"out", true, "the dump directory (default: dump)", "o"},
      {"gzip", false, "gzip every file (.bson.gz, .metadata.json.gz)"},
  };
  specs.insert(specs.end(), own.begin(), own.end());
  return specs;
}

int Dump(const Flags& flags) {
  if (flags.Has("collection") && !flags.Has("db")) throw UsageError("--collection needs --db");
  if (flags.Has("query") && !flags.Has("collection")) throw UsageError("--query needs --collection");
  Document filter;
  if (flags.Has("query")) {
    try {
      filter = Document::FromJson(flags.Get("query"));
    } catch (const Error& e) {
      throw UsageError(std::string("--query is not a JSON document: ") + e.what());
    }
  }
  const bool gzip = flags.Has("gzip");
  const std::string suffix = gzip ? ".gz" : "";
  const fs::path out = flags.Get("out", "dump");
  const bool quiet = flags.Has("quiet");

  Connection connection(flags);
  MongoClient& client = connection.client();
  std::vector<std::string> dbs =
      flags.Has("db") ? std::vector<std::string>{flags.Get("db")} : client.ListDatabaseNames();

  // What to dump, and its size for the progress report.
  struct Item {
    std::string db;
    CollectionMetadata meta;
  };
  std::vector<Item> items;
  int64_t total_docs = 0;
  for (const std::string& db_name : dbs) {
    Database db = client.Db(db_name);
    for (const Document& info : db.ListCollections()) {
      Item item{db_name, {}};
      item.meta.name = info.GetString("name");
      if (flags.Has("collection") && item.meta.name != flags.Get("collection")) continue;
      item.meta.view = info.GetString("type") == "view";
      if (const Value* o = info.Find("options"); o && o->type() == BsonType::kDocument) {
        item.meta.options = o->AsDocument();
      }
      if (!item.meta.view) {
        item.meta.indexes = db[item.meta.name].ListIndexes();
        total_docs += db[item.meta.name].EstimatedDocumentCount();
      }
      items.push_back(std::move(item));
    }
  }
  if (flags.Has("collection") && items.empty()) {
    throw Error(26, "NamespaceNotFound", "no collection " + flags.Get("db") + "." + flags.Get("collection"));
  }

  Progress progress("dump", total_docs, -1, DefaultProgressStyle(stderr, quiet));
  int64_t docs = 0, bytes = 0;
  for (const Item& item : items) {
    fs::path dir = out / item.db;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
    DumpFile meta = DumpFile::Create((dir / (item.meta.name + ".metadata.json" + suffix)).string(), gzip);
    meta.Write(MetadataJson(item.meta));
    meta.Close();
    if (item.meta.view) continue;
    DumpFile data = DumpFile::Create((dir / (item.meta.name + ".bson" + suffix)).string(), gzip);
    Cursor cursor = client.Db(item.db)[item.meta.name].Find(filter);
    std::string bson;
    while (cursor.NextBson(&bson)) {
      data.Write(bson);
      bytes += static_cast<int64_t>(bson.size());
      progress.Update(++docs, bytes);
    }
    data.Close();
  }
  progress.Finish();
  if (!quiet) {
    std::fprintf(stderr, "dumped %s document(s) of %zu collection(s) and view(s) into %s\n",
                 Progress::Count(docs).c_str(), items.size(), out.string().c_str());
  }
  return 0;
}

}  // namespace

int RunDump(const std::vector<std::string>& args) {
  return RunCommand("dump",
                    "micromongo dump (--uri URI | --address ADDR | --data-dir DIR) "
                    "[--db DB [--collection C [--query JSON]]] [--out DIR] [--gzip]",
                    args, DumpFlags(), Dump);
}

}  // namespace micromongo::tools
