// micromongo export: a collection (or a query's results) as JSON lines, a JSON array, or
// CSV/TSV with chosen fields.

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <ctime>

#include "columns.h"
#include "commands.h"
#include "connect.h"
#include "progress.h"

namespace micromongo::tools {
namespace {

std::optional<Document> JsonFlag(const Flags& flags, const char* name) {
  if (!flags.Has(name)) return std::nullopt;
  try {
    return Document::FromJson(flags.Get(name));
  } catch (const Error& e) {
    throw UsageError(std::string("--") + name + " is not a JSON document: " + e.what());
  }
}

std::string IsoDate(int64_t millis) {
  int64_t secs = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  int ms = static_cast<int>(millis - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

// A value as mongoexport writes it into a CSV cell (before quoting).
std::string CellText(const Value& v) {
  switch (v.type()) {
    case BsonType::kString: return v.AsString();
    case BsonType::kInt32: return std::to_string(v.AsInt32());
    case BsonType::kInt64: return std::to_string(v.AsInt64());
    case BsonType::kDouble: {
      char buf[32];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.AsDouble());
      return std::string(buf, p);
    }
    case BsonType::kBool: return v.AsBool() ? "true" : "false";
    case BsonType::kNull:
    case BsonType::kUndefined: return "";
    case BsonType::kObjectId: return "ObjectId(" + v.AsObjectId().ToHex() + ")";
    case BsonType::kDate: return IsoDate(v.AsDate().millis);
    case BsonType::kDecimal128: return v.AsDecimal128().ToString();
    default: return v.ToJson();
  }
}

void AppendCell(const std::string& text, char delimiter, std::string* out) {
  if (text.find_first_of(std::string("\"\r\n") + delimiter) == std::string::npos) {
    *out += text;
    return;
  }
  *out += '"';
  for (char c : text) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

std::vector<FlagSpec> ExportFlags() {
  std::vector<FlagSpec> specs = ConnectionFlags();
  std::vector<FlagSpec> own = {
      {"db", true, "database (default: the URI's, else test)", "d"},
      {"collection", true, "collection (required)", "c"},
      {"out", true, "output file (default: standard output)", "o"},
      {"type", true, "json (default), csv or tsv"},
      {"jsonFormat", true, "relaxed (default) or canonical Extended JSON"},
      {"jsonArray", false, "one JSON array instead of one document per line"},
      {"fields", true, "CSV/TSV: comma-separated fields (dotted paths) to write", "f"},
      {"fieldFile", true, "CSV/TSV: a file with one field per line"},
      {"noHeaderLine", false, "CSV/TSV: no line of field names first"},
      {"query", true, "a filter document in Extended JSON", "q"},
      {"sort", true, "a sort document"},
      {"projection", true, "a projection document"},
      {"skip", true, "documents to skip"},
      {"limit", true, "documents to write at most"},
  };
  specs.insert(specs.end(), own.begin(), own.end());
  return specs;
}

int Export(const Flags& flags) {
  std::string type = flags.Get("type", "json");
  if (type != "json" && type != "csv" && type != "tsv") throw UsageError("--type must be json, csv or tsv");
  bool tabular = type != "json";
  std::string format = flags.Get("jsonFormat", "relaxed");
  if (format != "relaxed" && format != "canonical") throw UsageError("--jsonFormat must be relaxed or canonical");
  std::vector<std::string> fields = FieldNames(flags);
  if (tabular && fields.empty()) throw UsageError("CSV/TSV export needs --fields or --fieldFile");
  if (!flags.Has("collection")) throw UsageError("name the collection with --collection");
  std::string coll_name = flags.Get("collection");

  FindOptions options;
  options.sort = JsonFlag(flags, "sort");
  options.projection = JsonFlag(flags, "projection");
  if (!options.projection && !fields.empty() && !tabular) {
    // JSON with --fields: those fields only (and _id), as mongoexport.
    Document p;
    for (const std::string& f : fields) p.Append(f, 1);
    options.projection = p;
  }
  if (auto n = flags.GetInt("skip")) options.skip = *n;
  if (auto n = flags.GetInt("limit")) options.limit = *n;
  Document filter = JsonFlag(flags, "query").value_or(Document());

  std::FILE* out = stdout;
  std::string out_path = flags.Get("out");
  if (!out_path.empty() && out_path != "-") {
    out = std::fopen(out_path.c_str(), "wb");
    if (out == nullptr) throw UsageError("cannot write " + out_path);
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(out == stdout ? nullptr : out, &std::fclose);

  Connection connection(flags);
  std::string db = connection.database(flags);
  Collection coll = connection.client().Db(db)[coll_name];
  bool quiet = flags.Has("quiet");
  int64_t total = -1;
  if (!quiet) {
    total = filter.empty() ? coll.EstimatedDocumentCount() : coll.CountDocuments(filter);
    total = std::max<int64_t>(0, total - options.skip);
    if (options.limit > 0) total = std::min<int64_t>(total, options.limit);
  }
  Progress progress("export " + db + "." + coll_name, total, -1, DefaultProgressStyle(stderr, quiet));

  const char delimiter = type == "tsv" ? '\t' : ',';
  const bool canonical = format == "canonical";
  const bool array = flags.Has("jsonArray");
  std::string buf;
  if (tabular && !flags.Has("noHeaderLine")) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) buf += delimiter;
      AppendCell(fields[i], delimiter, &buf);
    }
    buf += '\n';
  }
  if (array) buf += '[';
  int64_t docs = 0;
  int64_t bytes = 0;
  auto drain = [&] {
    if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) {
      throw std::runtime_error("cannot write the output: " + std::string(std::strerror(errno)));
    }
    bytes += static_cast<int64_t>(buf.size());
    buf.clear();
  };
  Cursor cursor = coll.Find(filter, options);
  std::string bson;
  while (cursor.NextBson(&bson)) {
    if (tabular) {
      Document d = Document::FromBson(bson);
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) buf += delimiter;
        if (const Value* v = LookupPath(d, fields[i])) AppendCell(CellText(*v), delimiter, &buf);
      }
      buf += '\n';
    } else {
      if (array && docs > 0) buf += ',';
      buf += Document::BsonToJson(bson, canonical);
      if (!array) buf += '\n';
    }
    ++docs;
    if (buf.size() >= (1 << 20)) {
      drain();
      progress.Update(docs, bytes);
    }
  }
  if (array) buf += "]\n";
  drain();
  if (std::fflush(out) != 0) throw std::runtime_error("cannot write the output");
  progress.Update(docs, bytes);
  progress.Finish();
  if (!quiet) {
    std::fprintf(stderr, "%s document(s) exported from %s.%s\n", Progress::Count(docs).c_str(),
                 db.c_str(), coll_name.c_str());
  }
  return 0;
}

}  // namespace

int RunExport(const std::vector<std::string>& args) {
  return RunCommand("export",
                    "micromongo export (--uri URI | --address ADDR | --data-dir DIR) "
                    "[--db DB] --collection C [--out FILE] [options]",
                    args, ExportFlags(), Export);
}

}  // namespace micromongo::tools
