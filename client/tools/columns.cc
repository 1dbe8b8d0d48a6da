#include "columns.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

namespace micromongo::tools {
namespace {

// Date layout tokens, shared by the Go, .NET (date_ms) and Oracle layouts.
enum Token {
  kLiteral, kYear4, kYear2, kMonth2, kMonth1, kMonthAbbr, kMonthFull, kDay2, kDay1, kDaySpace,
  kHour24, kHour12, kMinute, kSecond, kFraction, kAmPm, kZoneColon, kZone, kZoneZColon,
  kZoneZ, kWeekdayAbbr, kWeekdayFull,
};

struct LayoutWord {
  const char* text;
  Token token;
};

// Longest words first within each table: a layout is matched greedily left to right.
constexpr LayoutWord kGoWords[] = {
    {"January", kMonthFull}, {"Monday", kWeekdayFull}, {"Z07:00", kZoneZColon},
    {"-07:00", kZoneColon}, {"Z0700", kZoneZ}, {"-0700", kZone}, {"2006", kYear4},
    {"Jan", kMonthAbbr}, {"Mon", kWeekdayAbbr}, {"MST", kLiteral}, {".000", kFraction},
    {".999", kFraction}, {".00", kFraction}, {".99", kFraction}, {".0", kFraction},
    {".9", kFraction}, {"06", kYear2}, {"01", kMonth2}, {"02", kDay2}, {"_2", kDaySpace},
    {"15", kHour24}, {"03", kHour12}, {"04", kMinute}, {"05", kSecond}, {"PM", kAmPm},
    {"pm", kAmPm}, {"1", kMonth1}, {"2", kDay1}, {"3", kHour12}, {"4", kMinute},
    {"5", kSecond},
};
constexpr LayoutWord kMsWords[] = {
    {"yyyy", kYear4}, {"MMMM", kMonthFull}, {"dddd", kWeekdayFull}, {"ddd", kWeekdayAbbr},
    {"MMM", kMonthAbbr}, {"fffffffff", kFraction}, {"ffffff", kFraction}, {"fff", kFraction},
    {"ff", kFraction}, {"zzz", kZoneColon}, {"yy", kYear2}, {"MM", kMonth2}, {"dd", kDay2},
    {"HH", kHour24}, {"hh", kHour12}, {"mm", kMinute}, {"ss", kSecond}, {"tt", kAmPm},
    {"f", kFraction}, {"M", kMonth1}, {"d", kDay1}, {"H", kHour24}, {"h", kHour12},
    {"m", kMinute}, {"s", kSecond},
};
constexpr LayoutWord kOracleWords[] = {
    {"MONTH", kMonthFull}, {"HH24", kHour24}, {"HH12", kHour12}, {"YYYY", kYear4},
    {"TZH:TZM", kZoneColon}, {"MON", kMonthAbbr}, {"DAY", kWeekdayFull}, {"DY", kWeekdayAbbr},
    {"FF9", kFraction}, {"FF6", kFraction}, {"FF3", kFraction}, {"FF", kFraction},
    {"YY", kYear2}, {"MM", kMonth2}, {"DD", kDay2}, {"HH", kHour12}, {"MI", kMinute},
    {"SS", kSecond}, {"AM", kAmPm}, {"PM", kAmPm},
};

constexpr const char* kMonths[] = {"january", "february", "march",     "april",
                                   "may",     "june",     "july",      "august",
                                   "september", "october", "november", "december"};
constexpr const char* kWeekdays[] = {"monday", "tuesday", "wednesday", "thursday",
                                     "friday", "saturday", "sunday"};

template <size_t N>
std::vector<std::pair<int, std::string>> CompileLayout(const std::string& layout,
                                                        const LayoutWord (&words)[N],
                                                        bool case_insensitive) {
  std::vector<std::pair<int, std::string>> out;
  size_t i = 0;
  while (i < layout.size()) {
    const LayoutWord* hit = nullptr;
    for (const LayoutWord& w : words) {
      size_t n = std::char_traits<char>::length(w.text);
      if (layout.size() - i < n) continue;
      bool same = true;
      for (size_t k = 0; k < n && same; ++k) {
        char a = layout[i + k], b = w.text[k];
        same = case_insensitive ? std::toupper(static_cast<unsigned char>(a)) == b : a == b;
      }
      if (same) {
        hit = &w;
        break;
      }
    }
    if (hit == nullptr || hit->token == kLiteral) {
      size_t n = hit ? std::char_traits<char>::length(hit->text) : 1;
      if (!out.empty() && out.back().first == kLiteral) out.back().second += layout.substr(i, n);
      else out.emplace_back(kLiteral, layout.substr(i, n));
      i += n;
    } else {
      out.emplace_back(hit->token, hit->text);
      i += std::char_traits<char>::length(hit->text);
    }
  }
  return out;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

class DateParser {
 public:
  explicit DateParser(const std::string& text) : s_(text) {}

  int64_t Parse(const std::vector<std::pair<int, std::string>>& layout) {
    int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0;
    int64_t zone_seconds = 0;
    bool pm = false, have_ampm = false;
    for (const auto& [token, text] : layout) {
      switch (token) {
        case kLiteral:
          for (char c : text) {
            if (pos_ >= s_.size() || s_[pos_] != c) Fail();
            ++pos_;
          }
          break;
        case kYear4: year = Digits(4, 4); break;
        case kYear2: year = Digits(2, 2); year += year < 69 ? 2000 : 1900; break;
        case kMonth2: month = Digits(2, 2); break;
        case kMonth1: month = Digits(1, 2); break;
        case kDay2: day = Digits(2, 2); break;
        case kDay1: day = Digits(1, 2); break;
        case kDaySpace:
          if (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
          day = Digits(1, 2);
          break;
        case kHour24: hour = Digits(1, 2); break;
        case kHour12: hour = Digits(1, 2); break;
        case kMinute: minute = Digits(1, 2); break;
        case kSecond: second = Digits(1, 2); break;
        case kFraction: {
          if (text[0] == '.' || text[0] == ',') {
            if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == ',')) ++pos_;
            else if (text[1] == '9') break;  // .999: the fraction may be absent
            else Fail();
          }
          size_t start = pos_;
          int64_t v = Digits(1, 9);
          for (size_t n = pos_ - start; n < 9; ++n) v *= 10;
          nanos = v;
          break;
        }
        case kAmPm: {
          std::string w = Word();
          if (w == "PM") pm = true;
          else if (w != "AM") Fail();
          have_ampm = true;
          break;
        }
        case kMonthAbbr:
        case kMonthFull: month = Name(kMonths, 12) + 1; break;
        case kWeekdayAbbr:
        case kWeekdayFull: Name(kWeekdays, 7); break;
        case kZoneZ:
        case kZoneZColon:
          if (pos_ < s_.size() && s_[pos_] == 'Z') {
            ++pos_;
            break;
          }
          [[fallthrough]];
        case kZone:
        case kZoneColon: {
          if (pos_ >= s_.size() || (s_[pos_] != '+' && s_[pos_] != '-')) Fail();
          int sign = s_[pos_++] == '-' ? -1 : 1;
          int64_t h = Digits(2, 2);
          if (pos_ < s_.size() && s_[pos_] == ':') ++pos_;
          int64_t m = Digits(2, 2);
          zone_seconds = sign * (h * 3600 + m * 60);
          break;
        }
      }
    }
    if (pos_ != s_.size()) Fail();
    if (have_ampm) {
      if (hour < 1 || hour > 12) Fail();
      hour = hour % 12 + (pm ? 12 : 0);
    }
    static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 ||
        minute > 59 || second > 59) {
      Fail();
    }
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month == 2 && day == 29 && !leap) Fail();
    int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - zone_seconds;
    return seconds * 1000 + nanos / 1000000;
  }

 private:
  [[noreturn]] void Fail() { throw ColumnError("'" + s_ + "' does not match the date layout"); }
  int64_t Digits(size_t min, size_t max) {
    size_t start = pos_;
    int64_t v = 0;
    while (pos_ < s_.size() && pos_ - start < max && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      v = v * 10 + (s_[pos_++] - '0');
    }
    if (pos_ - start < min) Fail();
    return v;
  }
  std::string Word() {
    std::string w;
    while (pos_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) {
      w += static_cast<char>(std::toupper(static_cast<unsigned char>(s_[pos_++])));
    }
    return w;
  }
  // The index of the name (full or its first three letters) in `names`.
  int64_t Name(const char* const* names, int n) {
    std::string w = Word();
    std::transform(w.begin(), w.end(), w.begin(), [](char c) { return std::tolower(static_cast<unsigned char>(c)); });
    for (int i = 0; i < n; ++i) {
      std::string full = names[i];
      if (w == full || (w.size() == 3 && full.compare(0, 3, w) == 0)) return i;
    }
    Fail();
  }
  const std::string& s_;
  size_t pos_ = 0;
};

int DecodeBase64Char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::string DecodeBinary(const std::string& encoding, const std::string& text) {
  std::string out;
  if (encoding == "hex") {
    if (text.size() % 2 != 0) throw ColumnError("'" + text + "' is not hex");
    for (size_t i = 0; i < text.size(); i += 2) {
      int v = 0;
      auto [p, ec] = std::from_chars(text.data() + i, text.data() + i + 2, v, 16);
      if (ec != std::errc() || p != text.data() + i + 2) throw ColumnError("'" + text + "' is not hex");
      out.push_back(static_cast<char>(v));
    }
    return out;
  }
  // base64 and base32: accumulate bits, padding '=' ends the data.
  int bits_per_char = encoding == "base64" ? 6 : 5;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    int v;
    if (bits_per_char == 6) {
      v = DecodeBase64Char(c);
    } else {
      char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      v = u >= 'A' && u <= 'Z' ? u - 'A' : u >= '2' && u <= '7' ? u - '2' + 26 : -1;
    }
    if (v < 0) throw ColumnError("'" + text + "' is not " + encoding);
    acc = (acc << bits_per_char) | static_cast<uint32_t>(v);
    bits += bits_per_char;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// Go's strconv.ParseFloat words: inf, infinity, nan (any case, with a sign for inf).
bool ParseDouble(const std::string& text, double* out) {
  if (text.empty()) return false;
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) { return std::tolower(static_cast<unsigned char>(c)); });
  std::string_view body = lower;
  int sign = 1;
  if (body[0] == '+' || body[0] == '-') {
    sign = body[0] == '-' ? -1 : 1;
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    *out = sign * HUGE_VAL;
    return true;
  }
  if (body == "nan" && text.size() == 3) {
    *out = std::nan("");
    return true;
  }
  const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(begin, text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

template <typename T>
bool ParseInt(const std::string& text, T* out) {
  const char* begin = text.data() + (!text.empty() && text[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(begin, text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && p == text.data() + text.size();
}

}  // namespace

Value AutoValue(const std::string& text) {
  int32_t i32;
  if (ParseInt(text, &i32)) return i32;
  int64_t i64;
  if (ParseInt(text, &i64)) return i64;
  double d;
  if (ParseDouble(text, &d)) return d;
  return text;
}

Value ConvertValue(const Column& column, const std::string& text) {
  auto fail = [&]() -> Value {
    throw ColumnError("field " + column.path + ": '" + text + "' is not a valid " +
                      [&] {
                        switch (column.type) {
                          case ColumnType::kInt32: return "int32";
                          case ColumnType::kInt64: return "int64";
                          case ColumnType::kDouble: return "double";
                          case ColumnType::kBoolean: return "boolean";
                          default: return "value";
                        }
                      }());
  };
  switch (column.type) {
    case ColumnType::kAuto: return AutoValue(text);
    case ColumnType::kString: return text;
    case ColumnType::kInt32: {
      int32_t v;
      return ParseInt(text, &v) ? Value(v) : fail();
    }
    case ColumnType::kInt64: {
      int64_t v;
      return ParseInt(text, &v) ? Value(v) : fail();
    }
    case ColumnType::kDouble: {
      double v;
      return ParseDouble(text, &v) ? Value(v) : fail();
    }
    case ColumnType::kDecimal:
      try {
        return Decimal128::FromString(text);
      } catch (const std::exception&) {
        throw ColumnError("field " + column.path + ": '" + text + "' is not a valid decimal");
      }
    case ColumnType::kBoolean: {
      // Go's strconv.ParseBool, as mongoimport.
      static const std::set<std::string> kTrue = {"1", "t", "T", "true", "TRUE", "True"};
      static const std::set<std::string> kFalse = {"0", "f", "F", "false", "FALSE", "False"};
      if (kTrue.count(text)) return true;
      if (kFalse.count(text)) return false;
      return fail();
    }
    case ColumnType::kBinary: {
      try {
        return Binary{0, DecodeBinary(column.arg, text)};
      } catch (const ColumnError& e) {
        throw ColumnError("field " + column.path + ": " + e.what());
      }
    }
    case ColumnType::kDate:
      try {
        return DateTime{DateParser(text).Parse(column.date_layout)};
      } catch (const ColumnError& e) {
        throw ColumnError("field " + column.path + ": " + e.what());
      }
  }
  return text;
}

std::vector<Column> ParseColumns(const std::vector<std::string>& names, bool typed) {
  std::vector<Column> columns;
  std::set<std::string> seen;
  for (const std::string& raw : names) {
    Column c;
    std::string name = raw;
    if (typed) {
      size_t open = name.find('(');
      size_t dot = open == std::string::npos ? std::string::npos : name.rfind('.', open);
      if (open == std::string::npos || dot == std::string::npos || name.back() != ')') {
        throw ColumnError("column '" + raw + "' has no type: name it as field.type(), e.g. age.int32()");
      }
      std::string type = name.substr(dot + 1, open - dot - 1);
      c.arg = name.substr(open + 1, name.size() - open - 2);
      name.resize(dot);
      static const std::map<std::string, ColumnType> kTypes = {
          {"auto", ColumnType::kAuto},       {"string", ColumnType::kString},
          {"int32", ColumnType::kInt32},     {"int64", ColumnType::kInt64},
          {"double", ColumnType::kDouble},   {"decimal", ColumnType::kDecimal},
          {"boolean", ColumnType::kBoolean}, {"binary", ColumnType::kBinary},
          {"date", ColumnType::kDate},       {"date_go", ColumnType::kDate},
          {"date_ms", ColumnType::kDate},    {"date_oracle", ColumnType::kDate}};
      auto it = kTypes.find(type);
      if (it == kTypes.end()) throw ColumnError("column '" + raw + "': unknown type " + type + "()");
      c.type = it->second;
      bool wants_arg = c.type == ColumnType::kBinary || c.type == ColumnType::kDate;
      if (wants_arg == c.arg.empty()) {
        throw ColumnError("column '" + raw + "': " + type +
                          (wants_arg ? "() needs an argument" : "() takes no argument"));
      }
      if (c.type == ColumnType::kBinary && c.arg != "hex" && c.arg != "base32" && c.arg != "base64") {
        throw ColumnError("column '" + raw + "': binary() takes hex, base32 or base64");
      }
      if (type == "date" || type == "date_go") c.date_layout = CompileLayout(c.arg, kGoWords, false);
      if (type == "date_ms") c.date_layout = CompileLayout(c.arg, kMsWords, false);
      if (type == "date_oracle") c.date_layout = CompileLayout(c.arg, kOracleWords, true);
    }
    if (name.empty()) throw ColumnError("a column has no name");
    c.path = name;
    size_t start = 0;
    while (true) {
      size_t dot = name.find('.', start);
      std::string part = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty()) throw ColumnError("column '" + raw + "' has an empty part in its name");
      c.parts.push_back(part);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!seen.insert(name).second) throw ColumnError("column '" + name + "' appears twice");
    columns.push_back(std::move(c));
  }
  // "a" beside "a.b": a field cannot be both a value and a sub-document.
  for (const Column& a : columns) {
    for (const Column& b : columns) {
      if (b.path.size() > a.path.size() && b.path.compare(0, a.path.size(), a.path) == 0 &&
          b.path[a.path.size()] == '.') {
        throw ColumnError("columns '" + a.path + "' and '" + b.path + "' collide");
      }
    }
  }
  return columns;
}

namespace {

void SetPath(Document* doc, const std::vector<std::string>& parts, size_t i, Value v) {
  if (i + 1 == parts.size()) {
    doc->Append(parts[i], std::move(v));
    return;
  }
  Value* sub = doc->Find(parts[i]);
  if (sub == nullptr) {
    doc->Append(parts[i], Document());
    sub = doc->Find(parts[i]);
  }
  SetPath(&sub->AsDocument(), parts, i + 1, std::move(v));
}

}  // namespace

bool BuildRow(const std::vector<Column>& columns, const std::vector<std::string>& fields,
              bool ignore_blanks, ParseGrace grace, Document* out) {
  *out = Document();
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& text = fields[i];
    if (ignore_blanks && text.empty()) continue;
    if (i >= columns.size()) {
      out->Append("field" + std::to_string(i), AutoValue(text));
      continue;
    }
    const Column& column = columns[i];
    Value v = nullptr;
    try {
      v = ConvertValue(column, text);
    } catch (const ColumnError&) {
      switch (grace) {
        case ParseGrace::kAutoCast: v = AutoValue(text); break;
        case ParseGrace::kSkipField: continue;
        case ParseGrace::kSkipRow: return false;
        case ParseGrace::kStop: throw;
      }
    }
    SetPath(out, column.parts, 0, std::move(v));
  }
  return true;
}

const Value* LookupPath(const Document& doc, const std::string& path) {
  const Document* at = &doc;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    const Value* v = at->Find(std::string_view(path).substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (v == nullptr || dot == std::string::npos) return v;
    at = v->GetIf<Document>();
    if (at == nullptr) return nullptr;
    start = dot + 1;
  }
}

}  // namespace micromongo::tools
