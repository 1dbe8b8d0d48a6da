#pragma once

// The columns of CSV/TSV import as mongoimport defines them: names that are dotted paths
// ("address.city" makes a sub-document) and, with --columnsHaveTypes, a type per column:
//   name.auto()  name.string()  name.int32()  name.int64()  name.double()
//   name.decimal()  name.boolean()  name.binary(hex|base32|base64)
//   name.date(GO LAYOUT)  name.date_go(GO LAYOUT)  name.date_ms(yyyy-MM-dd HH:mm:ss)
//   name.date_oracle(YYYY-MM-DD HH24:MI:SS)
// Untyped columns (and auto()) become int32, int64 or double when they read as numbers,
// else strings.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "micromongo/document.h"

namespace micromongo::tools {

enum class ColumnType {
  kAuto, kString, kInt32, kInt64, kDouble, kDecimal, kBoolean, kBinary, kDate
};

struct Column {
  std::string path;
  std::vector<std::string> parts;  // path split at dots
  ColumnType type = ColumnType::kAuto;
  std::string arg;                 // binary encoding or date layout
  // kDate: the layout compiled (see columns.cc).
  std::vector<std::pair<int, std::string>> date_layout;
};

// mongoimport's --parseGrace: what a value that does not convert to its column's type does.
enum class ParseGrace { kAutoCast, kSkipField, kSkipRow, kStop };

class ColumnError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the column names (with their types when `typed`). Throws ColumnError for an
// unknown type, a bad argument, or paths that collide ("a" and "a.b", or "a" twice).
std::vector<Column> ParseColumns(const std::vector<std::string>& names, bool typed);

// One value in its column's type; throws ColumnError if it does not convert.
Value ConvertValue(const Column& column, const std::string& text);
// The untyped reading: int32, int64, double, else the string itself.
Value AutoValue(const std::string& text);

// The document of one record: fields beyond the columns are named field<N> (as
// mongoimport does); blank values are left out when `ignore_blanks`. Returns false if
// `grace` is kSkipRow and a value did not convert; throws ColumnError under kStop.
bool BuildRow(const std::vector<Column>& columns, const std::vector<std::string>& fields,
              bool ignore_blanks, ParseGrace grace, Document* out);

// The value at a dotted path through sub-documents ("address.city"), or nullptr.
const Value* LookupPath(const Document& doc, const std::string& path);

}  // namespace micromongo::tools
