#include "pipeline/expressions/date_time.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "absl/time/civil_time.h"
#include "document/status.h"

namespace micromongo::pipeline::internal {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

absl::Time ToTime(DateTime d) { return absl::FromUnixMillis(d.millis); }

// Local civil time of `d` in `tz`, and the millisecond within its second.
absl::CivilSecond Local(DateTime d, const absl::TimeZone& tz, int* millis) {
  int64_t ms = d.millis;
  *millis = static_cast<int>(FloorMod(ms, 1000));
  return absl::ToCivilSecond(absl::FromUnixSeconds(FloorDiv(ms, 1000)), tz);
}

DateTime FromLocal(absl::CivilSecond cs, int millis, const absl::TimeZone& tz) {
  absl::Time t = absl::FromCivil(cs, tz);
  return DateTime{absl::ToUnixSeconds(t) * 1000 + millis};
}

const char* const kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

// Weekday as 0 (Sunday) .. 6.
int SundayBased(absl::Weekday w) {
  switch (w) {
    case absl::Weekday::sunday: return 0;
    case absl::Weekday::monday: return 1;
    case absl::Weekday::tuesday: return 2;
    case absl::Weekday::wednesday: return 3;
    case absl::Weekday::thursday: return 4;
    case absl::Weekday::friday: return 5;
    case absl::Weekday::saturday: return 6;
  }
  return 0;
}

// ISO 8601 week-numbering year and week of a civil day.
void IsoWeek(absl::CivilDay day, int64_t* iso_year, int* iso_week) {
  int iso_dow = SundayBased(absl::GetWeekday(day));
  if (iso_dow == 0) iso_dow = 7;
  // The Thursday of this ISO week decides its year.
  absl::CivilDay thursday = day + (4 - iso_dow);
  *iso_year = thursday.year();
  *iso_week = (absl::GetYearDay(thursday) - 1) / 7 + 1;
}

}  // namespace

TimeZone TimeZone::Utc() {
  TimeZone tz;
  tz.zone_ = absl::UTCTimeZone();
  return tz;
}

absl::StatusOr<TimeZone> TimeZone::Parse(std::string_view name) {
  auto bad = [&] {
    return MongoError(40485, StrCat("unrecognized time zone identifier: \"", name, "\""));
  };
  TimeZone tz;
  if (!name.empty() && (name[0] == '+' || name[0] == '-')) {
    // +hh, +hhmm, +hh:mm
    std::string digits;
    for (size_t i = 1; i < name.size(); ++i) {
      if (name[i] == ':' && i == 3) continue;
      if (!std::isdigit(static_cast<unsigned char>(name[i]))) return bad();
      digits.push_back(name[i]);
    }
    if (digits.size() != 2 && digits.size() != 4) return bad();
    int hours = std::stoi(digits.substr(0, 2));
    int minutes = digits.size() == 4 ? std::stoi(digits.substr(2)) : 0;
    if (minutes >= 60) return bad();
    int seconds = (hours * 60 + minutes) * 60 * (name[0] == '-' ? -1 : 1);
    tz.zone_ = absl::FixedTimeZone(seconds);
    return tz;
  }
  if (name.empty() || name.find("..") != std::string_view::npos || name[0] == '/') return bad();
  if (!absl::LoadTimeZone(std::string(name), &tz.zone_)) return bad();
  return tz;
}

TimeZone::Parts TimeZone::ToParts(DateTime d) const {
  int ms;
  absl::CivilSecond cs = Local(d, zone_, &ms);
  Parts p;
  p.year = cs.year();
  p.month = cs.month();
  p.day = cs.day();
  p.hour = cs.hour();
  p.minute = cs.minute();
  p.second = cs.second();
  p.millisecond = ms;
  absl::CivilDay day(cs);
  int dow = SundayBased(absl::GetWeekday(day));
  p.day_of_week = dow + 1;
  p.iso_day_of_week = dow == 0 ? 7 : dow;
  p.day_of_year = absl::GetYearDay(day);
  IsoWeek(day, &p.iso_week_year, &p.iso_week);
  // %U: weeks starting Sunday; days before the year's first Sunday are week 0.
  p.week = (p.day_of_year + 6 - dow) / 7;
  p.utc_offset_seconds = zone_.At(ToTime(d)).offset;
  return p;
}

DateTime TimeZone::FromParts(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                             int64_t second, int64_t millisecond) const {
  // Civil types normalize out-of-range fields (month 13 is January of the next year).
  int64_t extra_seconds = FloorDiv(millisecond, 1000);
  int ms = static_cast<int>(FloorMod(millisecond, 1000));
  absl::CivilSecond cs(year, month, day, hour, minute, second + extra_seconds);
  return FromLocal(cs, ms, zone_);
}

DateTime TimeZone::FromIsoParts(int64_t iso_week_year, int64_t iso_week, int64_t iso_day_of_week,
                                int64_t hour, int64_t minute, int64_t second,
                                int64_t millisecond) const {
  // Week 1 is the week holding January 4th; days count from its Monday.
  absl::CivilDay jan4(iso_week_year, 1, 4);
  int dow = SundayBased(absl::GetWeekday(jan4));
  int iso_dow = dow == 0 ? 7 : dow;
  absl::CivilDay monday = jan4 - (iso_dow - 1);
  absl::CivilDay day = monday + ((iso_week - 1) * 7 + (iso_day_of_week - 1));
  return FromParts(day.year(), day.month(), day.day(), hour, minute, second, millisecond);
}

std::optional<TimeUnit> ParseTimeUnit(std::string_view name) {
  static const std::pair<std::string_view, TimeUnit> kUnits[] = {
      {"year", TimeUnit::kYear},     {"quarter", TimeUnit::kQuarter}, {"month", TimeUnit::kMonth},
      {"week", TimeUnit::kWeek},     {"day", TimeUnit::kDay},         {"hour", TimeUnit::kHour},
      {"minute", TimeUnit::kMinute}, {"second", TimeUnit::kSecond},   {"millisecond", TimeUnit::kMillisecond}};
  for (const auto& [n, u] : kUnits) {
    if (n == name) return u;
  }
  return std::nullopt;
}

std::optional<int> ParseDayOfWeek(std::string_view name) {
  std::string lower;
  for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static const char* const kDays[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                                      "saturday"};
  for (int i = 0; i < 7; ++i) {
    if (lower == kDays[i] || lower == std::string(kDays[i], 3)) return i;
  }
  return std::nullopt;
}

absl::StatusOr<DateTime> DateAdd(DateTime d, TimeUnit unit, int64_t amount, const TimeZone& tz) {
  auto overflow = [] { return MongoError(5166406, "$dateAdd/$dateSubtract overflowed"); };
  int64_t step_ms = 0;
  switch (unit) {
    case TimeUnit::kHour: step_ms = 3'600'000; break;
    case TimeUnit::kMinute: step_ms = 60'000; break;
    case TimeUnit::kSecond: step_ms = 1'000; break;
    case TimeUnit::kMillisecond: step_ms = 1; break;
    default: break;
  }
  if (step_ms != 0) {
    int64_t delta, out;
    if (__builtin_mul_overflow(amount, step_ms, &delta) || __builtin_add_overflow(d.millis, delta, &out)) {
      return overflow();
    }
    return DateTime{out};
  }
  if (amount > 1'000'000'000'000 || amount < -1'000'000'000'000) return overflow();
  int ms;
  absl::CivilSecond local = Local(d, tz.zone(), &ms);
  absl::CivilSecond moved;
  if (unit == TimeUnit::kDay || unit == TimeUnit::kWeek) {
    int64_t days = unit == TimeUnit::kWeek ? amount * 7 : amount;
    absl::CivilDay day = absl::CivilDay(local) + days;
    moved = absl::CivilSecond(day.year(), day.month(), day.day(), local.hour(), local.minute(), local.second());
  } else {
    int64_t months = unit == TimeUnit::kYear ? amount * 12 : unit == TimeUnit::kQuarter ? amount * 3 : amount;
    absl::CivilMonth month = absl::CivilMonth(local) + months;
    // The same day of the target month, or its last day.
    absl::CivilDay last = absl::CivilDay(absl::CivilMonth(month) + 1) - 1;
    int day = std::min<int>(local.day(), last.day());
    moved = absl::CivilSecond(month.year(), month.month(), day, local.hour(), local.minute(), local.second());
  }
  if (moved.year() > 292'000'000 || moved.year() < -292'000'000) return overflow();
  return FromLocal(moved, ms, tz.zone());
}

int64_t DateDiff(DateTime start, DateTime end, TimeUnit unit, const TimeZone& tz, int start_of_week) {
  int ms1, ms2;
  absl::CivilSecond a = Local(start, tz.zone(), &ms1);
  absl::CivilSecond b = Local(end, tz.zone(), &ms2);
  switch (unit) {
    case TimeUnit::kYear: return b.year() - a.year();
    case TimeUnit::kQuarter:
      return (b.year() * 4 + (b.month() - 1) / 3) - (a.year() * 4 + (a.month() - 1) / 3);
    case TimeUnit::kMonth: return (b.year() * 12 + b.month()) - (a.year() * 12 + a.month());
    case TimeUnit::kWeek: {
      // Days from the start of each date's week.
      auto week_start = [&](absl::CivilDay day) {
        int dow = SundayBased(absl::GetWeekday(day));
        return day - FloorMod(dow - start_of_week, 7);
      };
      return (week_start(absl::CivilDay(b)) - week_start(absl::CivilDay(a))) / 7;
    }
    case TimeUnit::kDay: return absl::CivilDay(b) - absl::CivilDay(a);
    case TimeUnit::kHour: return absl::CivilHour(b) - absl::CivilHour(a);
    case TimeUnit::kMinute: return absl::CivilMinute(b) - absl::CivilMinute(a);
    case TimeUnit::kSecond: return b - a;
    case TimeUnit::kMillisecond: return end.millis - start.millis;
  }
  return 0;
}

absl::StatusOr<DateTime> DateTrunc(DateTime d, TimeUnit unit, int64_t bin_size, const TimeZone& tz,
                                   int start_of_week) {
  int ms;
  absl::CivilSecond local = Local(d, tz.zone(), &ms);
  absl::CivilSecond out;
  switch (unit) {
    case TimeUnit::kYear: {
      int64_t bins = FloorDiv(local.year() - 2000, bin_size);
      out = absl::CivilSecond(2000 + bins * bin_size, 1, 1, 0, 0, 0);
      break;
    }
    case TimeUnit::kQuarter:
    case TimeUnit::kMonth: {
      int64_t size = unit == TimeUnit::kQuarter ? bin_size * 3 : bin_size;
      int64_t months = (local.year() - 2000) * 12 + (local.month() - 1);
      absl::CivilMonth m = absl::CivilMonth(2000, 1) + FloorDiv(months, size) * size;
      out = absl::CivilSecond(m);
      break;
    }
    case TimeUnit::kWeek: {
      absl::CivilDay ref(2000, 1, 1);
      while (SundayBased(absl::GetWeekday(ref)) != start_of_week) ref += 1;
      int64_t days = absl::CivilDay(local) - ref;
      out = absl::CivilSecond(ref + FloorDiv(days, 7 * bin_size) * 7 * bin_size);
      break;
    }
    case TimeUnit::kDay: {
      absl::CivilDay ref(2000, 1, 1);
      int64_t days = absl::CivilDay(local) - ref;
      out = absl::CivilSecond(ref + FloorDiv(days, bin_size) * bin_size);
      break;
    }
    case TimeUnit::kHour:
    case TimeUnit::kMinute:
    case TimeUnit::kSecond:
    case TimeUnit::kMillisecond: {
      int64_t unit_ms = unit == TimeUnit::kHour ? 3'600'000 : unit == TimeUnit::kMinute ? 60'000
                        : unit == TimeUnit::kSecond ? 1'000 : 1;
      // Local milliseconds since 2000-01-01T00:00 local.
      int64_t local_ms = (local - absl::CivilSecond(2000, 1, 1, 0, 0, 0)) * 1000 + ms;
      int64_t bin = unit_ms * bin_size;
      int64_t truncated = FloorDiv(local_ms, bin) * bin;
      absl::CivilSecond cs = absl::CivilSecond(2000, 1, 1, 0, 0, 0) + FloorDiv(truncated, 1000);
      return FromLocal(cs, static_cast<int>(FloorMod(truncated, 1000)), tz.zone());
    }
  }
  return FromLocal(out, 0, tz.zone());
}

// ---- Formatting ---------------------------------------------------------------------------

absl::Status ValidateDateFormat(std::string_view format) {
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 == format.size()) {
      return MongoError(18535, "Unmatched '%' at end of format string");
    }
    char c = format[++i];
    if (std::string_view("dGHjLmMSuUVwYzZbB%").find(c) == std::string_view::npos) {
      return MongoError(18536, StrCat("Invalid format character '%", std::string(1, c), "' in format string"));
    }
  }
  return absl::OkStatus();
}

std::string FormatDate(std::string_view format, DateTime d, const TimeZone& tz) {
  TimeZone::Parts p = tz.ToParts(d);
  std::string out;
  char buf[32];
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      out.push_back(format[i]);
      continue;
    }
    char c = format[++i];
    switch (c) {
      case 'Y': std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(p.year)); break;
      case 'm': std::snprintf(buf, sizeof buf, "%02d", p.month); break;
      case 'd': std::snprintf(buf, sizeof buf, "%02d", p.day); break;
      case 'H': std::snprintf(buf, sizeof buf, "%02d", p.hour); break;
      case 'M': std::snprintf(buf, sizeof buf, "%02d", p.minute); break;
      case 'S': std::snprintf(buf, sizeof buf, "%02d", p.second); break;
      case 'L': std::snprintf(buf, sizeof buf, "%03d", p.millisecond); break;
      case 'j': std::snprintf(buf, sizeof buf, "%03d", p.day_of_year); break;
      case 'w': std::snprintf(buf, sizeof buf, "%d", p.day_of_week); break;
      case 'u': std::snprintf(buf, sizeof buf, "%d", p.iso_day_of_week); break;
      case 'U': std::snprintf(buf, sizeof buf, "%02d", p.week); break;
      case 'V': std::snprintf(buf, sizeof buf, "%02d", p.iso_week); break;
      case 'G': std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(p.iso_week_year)); break;
      case 'b': std::snprintf(buf, sizeof buf, "%.3s", kMonthNames[p.month - 1]); break;
      case 'B': std::snprintf(buf, sizeof buf, "%s", kMonthNames[p.month - 1]); break;
      case 'z': {
        int64_t off = p.utc_offset_seconds / 60;
        std::snprintf(buf, sizeof buf, "%c%02lld%02lld", off < 0 ? '-' : '+',
                      static_cast<long long>(std::llabs(off) / 60), static_cast<long long>(std::llabs(off) % 60));
        break;
      }
      case 'Z': std::snprintf(buf, sizeof buf, "%+03lld", static_cast<long long>(p.utc_offset_seconds / 60)); break;
      case '%': std::snprintf(buf, sizeof buf, "%%"); break;
      default: std::snprintf(buf, sizeof buf, "%%%c", c);
    }
    out += buf;
  }
  return out;
}

std::string FormatIsoDate(DateTime d) { return FormatDate("%Y-%m-%dT%H:%M:%S.%LZ", d, TimeZone::Utc()); }

// ---- Parsing ------------------------------------------------------------------------------

namespace {

absl::Status ParseError(std::string_view text, std::string_view why) {
  return MongoError(kConversionFailure, StrCat("Error parsing date string '", text, "'; ", why));
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  size_t pos() const { return pos_; }
  bool Consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Reads `min`..`max` digits.
  bool Digits(int min, int max, int64_t* out) {
    int n = 0;
    int64_t v = 0;
    while (n < max && !done() && std::isdigit(static_cast<unsigned char>(peek()))) {
      v = v * 10 + (s_[pos_++] - '0');
      ++n;
    }
    *out = v;
    return n >= min;
  }
  void SkipSpaces() {
    while (!done() && std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
  }
  std::string_view rest() const { return s_.substr(pos_); }
  void Skip(size_t n) { pos_ += n; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// "+hh", "+hhmm", "+hh:mm", "Z" at the scanner; seconds east of UTC.
bool ParseOffset(Scanner* sc, int64_t* seconds) {
  if (sc->Consume('Z') || sc->Consume('z')) {
    *seconds = 0;
    return true;
  }
  int sign = sc->peek() == '-' ? -1 : (sc->peek() == '+' ? 1 : 0);
  if (sign == 0) return false;
  sc->Skip(1);
  int64_t h = 0, m = 0;
  if (!sc->Digits(2, 2, &h)) return false;
  sc->Consume(':');
  sc->Digits(2, 2, &m);
  *seconds = sign * (h * 3600 + m * 60);
  return true;
}

int MonthFromName(std::string_view word) {
  std::string lower;
  for (char c : word) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower.size() < 3) return 0;
  for (int i = 0; i < 12; ++i) {
    std::string name = kMonthNames[i];
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.rfind(lower, 0) == 0 || lower == name.substr(0, 3)) return i + 1;
  }
  return 0;
}

struct ParsedDate {
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  std::optional<int64_t> offset_seconds;
  std::optional<TimeZone> zone;
  // ISO week date fields (with %G %V %u).
  std::optional<int64_t> iso_year, iso_week, iso_day;
  std::optional<int64_t> day_of_year;
};

absl::StatusOr<DateTime> Assemble(const ParsedDate& p, const TimeZone& tz) {
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > 31 || p.hour > 24 || p.minute > 59 ||
      p.second > 60) {
    return MongoError(kConversionFailure, "Error parsing date string: a date or time field is out of range");
  }
  DateTime d;
  const TimeZone& zone = p.zone ? *p.zone : tz;
  if (p.iso_year) {
    d = zone.FromIsoParts(*p.iso_year, p.iso_week.value_or(1), p.iso_day.value_or(1), p.hour, p.minute,
                          p.second, p.millis);
  } else if (p.day_of_year) {
    d = zone.FromParts(p.year, 1, *p.day_of_year, p.hour, p.minute, p.second, p.millis);
  } else {
    d = zone.FromParts(p.year, p.month, p.day, p.hour, p.minute, p.second, p.millis);
  }
  if (p.offset_seconds) {
    // The string's own offset: compute in UTC and shift.
    DateTime utc = TimeZone::Utc().FromParts(p.year, p.month, p.day, p.hour, p.minute, p.second, p.millis);
    if (p.iso_year) {
      utc = TimeZone::Utc().FromIsoParts(*p.iso_year, p.iso_week.value_or(1), p.iso_day.value_or(1), p.hour,
                                         p.minute, p.second, p.millis);
    }
    d = DateTime{utc.millis - *p.offset_seconds * 1000};
  }
  return d;
}

// Time of day after the date: HH:MM[:SS[.fff]] then an optional offset or zone name.
bool ParseTimeOfDay(Scanner* sc, ParsedDate* p) {
  if (!sc->Digits(1, 2, &p->hour)) return false;
  if (!sc->Consume(':')) return false;
  if (!sc->Digits(2, 2, &p->minute)) return false;
  if (sc->Consume(':')) {
    if (!sc->Digits(2, 2, &p->second)) return false;
    if (sc->Consume('.') || sc->Consume(',')) {
      int64_t frac = 0;
      size_t start = sc->pos();
      if (!sc->Digits(1, 9, &frac)) return false;
      size_t n = sc->pos() - start;
      while (n > 3) {
        frac /= 10;
        --n;
      }
      while (n < 3) {
        frac *= 10;
        ++n;
      }
      p->millis = frac;
    }
  }
  sc->SkipSpaces();
  int64_t off;
  if (!sc->done()) {
    if (ParseOffset(sc, &off)) {
      p->offset_seconds = off;
    } else {
      // A zone name ("UTC", "GMT", "America/New_York").
      auto zone = TimeZone::Parse(sc->rest());
      if (!zone.ok()) return false;
      p->zone = *zone;
      sc->Skip(sc->rest().size());
    }
  }
  return sc->done();
}

absl::StatusOr<DateTime> ParseFree(std::string_view text, const TimeZone& tz) {
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.remove_suffix(1);
  Scanner sc(trimmed);
  ParsedDate p;
  if (std::isdigit(static_cast<unsigned char>(sc.peek()))) {
    int64_t first = 0;
    size_t start = sc.pos();
    sc.Digits(1, 4, &first);
    size_t n = sc.pos() - start;
    char sep = sc.peek();
    if (n == 4 && (sep == '-' || sep == '/' || sep == '.')) {
      // YYYY-MM-DD (or YYYY-Www-D)
      sc.Skip(1);
      p.year = first;
      if (sep == '-' && (sc.peek() == 'W')) {
        sc.Skip(1);
        int64_t w = 0, dow = 1;
        if (!sc.Digits(2, 2, &w)) return ParseError(text, "bad ISO week");
        if (sc.Consume('-')) sc.Digits(1, 1, &dow);
        p.iso_year = first;
        p.iso_week = w;
        p.iso_day = dow;
      } else {
        if (!sc.Digits(1, 2, &p.month)) return ParseError(text, "bad month");
        if (!sc.Consume(sep)) return ParseError(text, "bad date separator");
        if (!sc.Digits(1, 2, &p.day)) return ParseError(text, "bad day");
      }
    } else if (n <= 2 && (sep == '-' || sep == '/' || sep == '.')) {
      // MM/DD/YYYY (US order, as timelib reads it), or DD-Mon-YYYY.
      sc.Skip(1);
      if (std::isalpha(static_cast<unsigned char>(sc.peek()))) {
        size_t s = sc.pos();
        while (std::isalpha(static_cast<unsigned char>(sc.peek()))) sc.Skip(1);
        p.month = MonthFromName(trimmed.substr(s, sc.pos() - s));
        if (p.month == 0) return ParseError(text, "bad month name");
        p.day = first;
      } else {
        p.month = first;
        if (!sc.Digits(1, 2, &p.day)) return ParseError(text, "bad day");
      }
      if (!sc.Consume(sep)) return ParseError(text, "bad date separator");
      if (!sc.Digits(4, 4, &p.year)) return ParseError(text, "bad year");
    } else if (n == 4 && sc.done()) {
      p.year = first;
    } else if (n <= 2 && sep == ' ') {
      // DD Month YYYY
      sc.SkipSpaces();
      size_t s = sc.pos();
      while (std::isalpha(static_cast<unsigned char>(sc.peek()))) sc.Skip(1);
      p.month = MonthFromName(trimmed.substr(s, sc.pos() - s));
      if (p.month == 0) return ParseError(text, "bad month name");
      p.day = first;
      sc.SkipSpaces();
      if (!sc.Digits(4, 4, &p.year)) return ParseError(text, "bad year");
    } else {
      return ParseError(text, "unrecognized date format");
    }
  } else if (std::isalpha(static_cast<unsigned char>(sc.peek()))) {
    // Month DD[,] YYYY
    size_t s = sc.pos();
    while (std::isalpha(static_cast<unsigned char>(sc.peek()))) sc.Skip(1);
    p.month = MonthFromName(trimmed.substr(s, sc.pos() - s));
    if (p.month == 0) return ParseError(text, "bad month name");
    sc.SkipSpaces();
    if (!sc.Digits(1, 2, &p.day)) return ParseError(text, "bad day");
    sc.Consume(',');
    sc.SkipSpaces();
    if (!sc.Digits(4, 4, &p.year)) return ParseError(text, "bad year");
  } else {
    return ParseError(text, "empty or unrecognized date string");
  }
  if (!sc.done()) {
    if (!(sc.Consume('T') || sc.Consume('t') || sc.Consume(' '))) {
      int64_t off;
      if (ParseOffset(&sc, &off) && sc.done()) {
        p.offset_seconds = off;
      } else {
        return ParseError(text, "trailing data");
      }
    } else {
      sc.SkipSpaces();
      if (!ParseTimeOfDay(&sc, &p)) return ParseError(text, "bad time of day");
    }
  }
  return Assemble(p, tz);
}

}  // namespace

absl::Status ValidateParseFormat(std::string_view format) {
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 == format.size()) return MongoError(18535, "Unmatched '%' at end of format string");
    char c = format[++i];
    if (std::string_view("dGHjLmMSuVwYzZbB%").find(c) == std::string_view::npos) {
      return MongoError(18536, StrCat("Invalid format character '%", std::string(1, c), "' in format string"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<DateTime> ParseDate(std::string_view text, const TimeZone& tz,
                                   std::optional<std::string_view> format) {
  if (!format) return ParseFree(text, tz);
  Scanner sc(text);
  ParsedDate p;
  std::string_view f = *format;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      if (!sc.Consume(f[i])) return ParseError(text, StrCat("does not match format '", f, "'"));
      continue;
    }
    char c = f[++i];
    int64_t v = 0;
    bool ok = true;
    switch (c) {
      case 'Y': ok = sc.Digits(4, 4, &p.year); break;
      case 'm': ok = sc.Digits(1, 2, &p.month); break;
      case 'd': ok = sc.Digits(1, 2, &p.day); break;
      case 'H': ok = sc.Digits(1, 2, &p.hour); break;
      case 'M': ok = sc.Digits(1, 2, &p.minute); break;
      case 'S': ok = sc.Digits(1, 2, &p.second); break;
      case 'L': {
        size_t start = sc.pos();
        ok = sc.Digits(1, 3, &v);
        size_t n = sc.pos() - start;
        while (n++ < 3) v *= 10;
        p.millis = v;
        break;
      }
      case 'j': ok = sc.Digits(1, 3, &v); p.day_of_year = v; break;
      case 'G': ok = sc.Digits(4, 4, &v); p.iso_year = v; break;
      case 'V': ok = sc.Digits(1, 2, &v); p.iso_week = v; break;
      case 'u': ok = sc.Digits(1, 1, &v); p.iso_day = v; break;
      case 'w': ok = sc.Digits(1, 1, &v); break;
      case 'b':
      case 'B': {
        size_t s = sc.pos();
        while (std::isalpha(static_cast<unsigned char>(sc.peek()))) sc.Skip(1);
        p.month = MonthFromName(text.substr(s, sc.pos() - s));
        ok = p.month != 0;
        break;
      }
      case 'z': {
        int64_t off;
        ok = ParseOffset(&sc, &off);
        if (ok) p.offset_seconds = off;
        break;
      }
      case 'Z': {
        int sign = sc.Consume('-') ? -1 : (sc.Consume('+'), 1);
        ok = sc.Digits(1, 4, &v);
        p.offset_seconds = sign * v * 60;
        break;
      }
      case '%': ok = sc.Consume('%'); break;
      default: ok = false;
    }
    if (!ok) return ParseError(text, StrCat("does not match format '", f, "'"));
  }
  if (!sc.done()) return ParseError(text, "trailing data");
  return Assemble(p, tz);
}

}  // namespace micromongo::pipeline::internal
