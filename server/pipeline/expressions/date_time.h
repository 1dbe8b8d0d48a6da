#pragma once

// Dates in time zones for the date operators and the stages that bucket by time ($densify,
// $setWindowFields ranges, $dateTrunc): Olson time zones from the system's tzdata and fixed
// UTC offsets, through Abseil's time library.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "micromongo/bson_types.h"

namespace micromongo::pipeline::internal {

class TimeZone {
 public:
  static TimeZone Utc();
  // An Olson name ("Europe/Oslo", "UTC", "GMT") or a UTC offset ("+02", "+0200", "+02:00",
  // "-05:30"). Error 40485 for anything else.
  static absl::StatusOr<TimeZone> Parse(std::string_view name);

  struct Parts {
    int64_t year;
    int month, day, hour, minute, second, millisecond;
    int day_of_week;  // 1 (Sunday) .. 7
    int day_of_year;  // 1 .. 366
    int iso_day_of_week;  // 1 (Monday) .. 7
    int iso_week;
    int64_t iso_week_year;
    int week;  // weeks starting on Sunday, 0 .. 53 (strftime %U)
    int64_t utc_offset_seconds;
  };
  Parts ToParts(DateTime d) const;
  // Local date-time parts to an instant; out-of-range parts carry over (month 14 is February
  // of the next year), as MongoDB's $dateFromParts does.
  DateTime FromParts(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                     int64_t second, int64_t millisecond) const;
  DateTime FromIsoParts(int64_t iso_week_year, int64_t iso_week, int64_t iso_day_of_week,
                        int64_t hour, int64_t minute, int64_t second, int64_t millisecond) const;

  const absl::TimeZone& zone() const { return zone_; }

 private:
  absl::TimeZone zone_;
};

// Time units of $dateAdd, $dateDiff, $dateTrunc, $densify and window ranges.
enum class TimeUnit { kYear, kQuarter, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMillisecond };
std::optional<TimeUnit> ParseTimeUnit(std::string_view name);
// "sunday".."saturday" or their three-letter forms, any case: 0 (Sunday) .. 6.
std::optional<int> ParseDayOfWeek(std::string_view name);

// $dateAdd: calendar units (year..day) move the local date and keep the local time (days of
// months that do not exist clamp to the month's last day); hours and below add durations.
absl::StatusOr<DateTime> DateAdd(DateTime d, TimeUnit unit, int64_t amount, const TimeZone& tz);
// $dateDiff: the number of unit boundaries crossed between the two instants, in `tz`;
// weeks start on `start_of_week` (0 = Sunday).
int64_t DateDiff(DateTime start, DateTime end, TimeUnit unit, const TimeZone& tz, int start_of_week);
// $dateTrunc: the start of the bin of `bin_size` units containing `d` (bins are counted from
// 2000-01-01 in `tz`, weeks from the first `start_of_week` on or after it).
absl::StatusOr<DateTime> DateTrunc(DateTime d, TimeUnit unit, int64_t bin_size, const TimeZone& tz,
                                   int start_of_week);

// $dateToString's format (%Y %m %d %H %M %S %L %j %w %u %U %V %G %z %Z %b %B %%): 18535 for
// a lone '%' at the end, 18536 for an unknown specifier.
absl::Status ValidateDateFormat(std::string_view format);
std::string FormatDate(std::string_view format, DateTime d, const TimeZone& tz);
// The ISO 8601 form MongoDB prints dates in: 2021-03-14T15:09:26.123Z.
std::string FormatIsoDate(DateTime d);

// $dateFromString and string-to-date conversion: ISO 8601 dates and date-times (with 'T' or
// a space, optional seconds, fractions, 'Z' or an offset), the common MongoDB examples'
// forms, and with `format` exactly that format. A string's own offset or zone wins over `tz`.
// Errors: 241 (ConversionFailure) for strings that do not parse.
absl::Status ValidateParseFormat(std::string_view format);
absl::StatusOr<DateTime> ParseDate(std::string_view text, const TimeZone& tz,
                                   std::optional<std::string_view> format = std::nullopt);

}  // namespace micromongo::pipeline::internal
