// Date operators: $year $month $dayOfMonth $dayOfWeek $dayOfYear $hour $minute $second
// $millisecond $week $isoWeek $isoWeekYear $isoDayOfWeek $dateToString $dateFromString
// $dateFromParts $dateToParts $dateAdd $dateSubtract $dateDiff $dateTrunc. Every one honours
// `timezone` (Olson names from tzdata, or UTC offsets); dates, timestamps and ObjectIds are
// accepted as dates.

#include "pipeline/expressions/date_time.h"
#include "pipeline/expressions/internal.h"

namespace micromongo::pipeline::internal {
namespace {

// The time zone an optional 'timezone' expression names; nullopt when it evaluates to
// null/missing (the operator then returns null).
absl::StatusOr<std::optional<TimeZone>> EvalTimeZone(const ExprPtr& tz, const Variables& vars) {
  if (!tz) return std::optional<TimeZone>(TimeZone::Utc());
  MM_EVAL(v, tz, vars);
  if (IsNullish(v)) return std::optional<TimeZone>();
  if (v->type() != BsonType::kString) {
    return Err(40517, StrCat("timezone must evaluate to a string, found ", TypeName(v)));
  }
  MM_ASSIGN(zone, TimeZone::Parse(v->AsString()));
  return std::optional<TimeZone>(std::move(zone));
}

// ---- $year, $month, ... ($dateParts with one result) --------------------------------------

enum class Part {
  kYear, kMonth, kDayOfMonth, kDayOfWeek, kDayOfYear, kHour, kMinute, kSecond, kMillisecond,
  kWeek, kIsoWeek, kIsoWeekYear, kIsoDayOfWeek
};

struct PartState {
  Part part;
  ExprPtr date, timezone;
};

EvalResult EvalPart(const PartState& s, const Variables& vars) {
  MM_EVAL(date, s.date, vars);
  if (IsNullish(date)) return Null();
  MM_ASSIGN(tz, EvalTimeZone(s.timezone, vars));
  if (!tz) return Null();
  MM_ASSIGN(d, CoerceToDate(date));
  TimeZone::Parts p = tz->ToParts(d);
  switch (s.part) {
    case Part::kYear: return Some(static_cast<int32_t>(p.year));
    case Part::kMonth: return Some(p.month);
    case Part::kDayOfMonth: return Some(p.day);
    case Part::kDayOfWeek: return Some(p.day_of_week);
    case Part::kDayOfYear: return Some(p.day_of_year);
    case Part::kHour: return Some(p.hour);
    case Part::kMinute: return Some(p.minute);
    case Part::kSecond: return Some(p.second);
    case Part::kMillisecond: return Some(p.millisecond);
    case Part::kWeek: return Some(p.week);
    case Part::kIsoWeek: return Some(p.iso_week);
    case Part::kIsoWeekYear: return Some(static_cast<int64_t>(p.iso_week_year));
    case Part::kIsoDayOfWeek: return Some(p.iso_day_of_week);
  }
  return Null();
}

template <Part kPart>
absl::StatusOr<ExprPtr> ParsePart(std::string_view name, const Value& arg, const ParseContext& context) {
  PartState s;
  s.part = kPart;
  if (arg.type() == BsonType::kDocument && !arg.AsDocument().empty() &&
      !(arg.AsDocument().begin()->first.size() > 0 && arg.AsDocument().begin()->first[0] == '$')) {
    const Value* date = nullptr;
    const Value* tz = nullptr;
    for (const auto& [k, v] : arg.AsDocument()) {
      if (k == "date") {
        date = &v;
      } else if (k == "timezone") {
        tz = &v;
      } else {
        return Err(40535, StrCat("unrecognized option to ", name, ": \"", k, "\""));
      }
    }
    if (date == nullptr) {
      return Err(40539, StrCat("missing 'date' argument to ", name, ", provided: ", arg.ToJson()));
    }
    MM_ASSIGN(d, Parse(*date, context));
    s.date = std::move(d);
    if (tz != nullptr) {
      MM_ASSIGN(t, Parse(*tz, context));
      s.timezone = std::move(t);
    }
  } else if (arg.type() == BsonType::kArray) {
    if (arg.AsArray().size() != 1) {
      return Err(40536, StrCat(name, " accepts exactly one argument if given an array, but was given ",
                               arg.AsArray().size()));
    }
    MM_ASSIGN(d, Parse(arg.AsArray()[0], context));
    s.date = std::move(d);
  } else {
    MM_ASSIGN(d, Parse(arg, context));
    s.date = std::move(d);
  }
  std::vector<const ExprPtr*> parts{&s.date, &s.timezone};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<PartState>>(std::move(s), &EvalPart), context);
}

// The 'format' argument of $dateToString / $dateFromString: a string with valid specifiers
// (`code` otherwise), or nullish; missing when not given.
absl::StatusOr<std::optional<Value>> EvalFormat(const ExprPtr& format, const Variables& vars, int code,
                                                std::string_view op, absl::Status (*validate)(std::string_view)) {
  if (!format) return std::optional<Value>();
  MM_EVAL(f, format, vars);
  if (!IsNullish(f)) {
    if (f->type() != BsonType::kString) {
      return Err(code, StrCat(op, " requires that 'format' be a string, found: ", TypeName(f), " with value ",
                              f->ToJson()));
    }
    if (auto st = validate(f->AsString()); !st.ok()) return st;
  }
  return f;
}

// ---- $dateToString ---------------------------------------------------------------------------

struct ToStringState {
  ExprPtr date, format, timezone, on_null;
};

EvalResult EvalDateToString(const ToStringState& s, const Variables& vars) {
  MM_EVAL(date, s.date, vars);
  MM_ASSIGN(format, EvalFormat(s.format, vars, 18533, "$dateToString", &ValidateDateFormat));
  MM_ASSIGN(tz, EvalTimeZone(s.timezone, vars));
  if (IsNullish(date)) return s.on_null ? s.on_null->Evaluate(vars) : Null();
  if (!tz) return Null();
  if (s.format && IsNullish(format)) return Null();
  MM_ASSIGN(d, CoerceToDate(date));
  TimeZone::Parts p = tz->ToParts(d);
  if (p.year < 0 || p.year > 9999) {
    return Err(18537, StrCat("Could not convert date to string: date component was outside the "
                             "supported range of 0-9999: ", p.year));
  }
  return Some(FormatDate(s.format ? std::string_view(format->AsString()) : "%Y-%m-%dT%H:%M:%S.%LZ", d, *tz));
}

absl::StatusOr<ExprPtr> ParseDateToString(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(18629, "$dateToString only supports an object as its argument");
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, "$dateToString", {"format", "date", "timezone", "onNull"}, 18534,
                                      "Unrecognized argument to $dateToString: "));
  ToStringState s;
  MM_ASSIGN(date, named.ParseRequired("date", context, 18628, "Missing 'date' parameter to $dateToString"));
  MM_ASSIGN(format, named.ParseOptional("format", context));
  MM_ASSIGN(tz, named.ParseOptional("timezone", context));
  MM_ASSIGN(on_null, named.ParseOptional("onNull", context));
  s.date = std::move(date);
  s.format = std::move(format);
  s.timezone = std::move(tz);
  s.on_null = std::move(on_null);
  std::vector<const ExprPtr*> parts{&s.date, &s.format, &s.timezone, &s.on_null};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<ToStringState>>(std::move(s), &EvalDateToString), context);
}

// ---- $dateFromString -------------------------------------------------------------------------

struct FromStringState {
  ExprPtr date_string, timezone, format, on_null, on_error;
};

EvalResult EvalDateFromString(const FromStringState& s, const Variables& vars) {
  MM_EVAL(text, s.date_string, vars);
  MM_ASSIGN(format, EvalFormat(s.format, vars, 40684, "$dateFromString", &ValidateParseFormat));
  MM_ASSIGN(tz, EvalTimeZone(s.timezone, vars));
  if (IsNullish(text)) return s.on_null ? s.on_null->Evaluate(vars) : Null();
  absl::StatusOr<DateTime> parsed;
  if (text->type() != BsonType::kString) {
    parsed = Err(kConversionFailure, StrCat("$dateFromString requires that 'dateString' be a string, found: ",
                                            TypeName(text), " with value ", text->ToJson()));
  } else if (!tz) {
    return Null();
  } else if (s.format) {
    if (IsNullish(format)) return Null();
    parsed = ParseDate(text->AsString(), *tz, std::string_view(format->AsString()));
  } else {
    parsed = ParseDate(text->AsString(), *tz);
  }
  if (!parsed.ok()) {
    if (s.on_error && MongoCodeOf(parsed.status()) == kConversionFailure) return s.on_error->Evaluate(vars);
    return parsed.status();
  }
  return Some(*parsed);
}

absl::StatusOr<ExprPtr> ParseDateFromString(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(40540, StrCat("$dateFromString only supports an object as an argument, found: ", TypeName(arg)));
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, "$dateFromString",
                                      {"format", "dateString", "timezone", "onNull", "onError"}, 40541,
                                      "Unrecognized argument to $dateFromString: "));
  FromStringState s;
  MM_ASSIGN(text, named.ParseRequired("dateString", context, 40542,
                                      "Missing 'dateString' parameter to $dateFromString"));
  MM_ASSIGN(tz, named.ParseOptional("timezone", context));
  MM_ASSIGN(format, named.ParseOptional("format", context));
  MM_ASSIGN(on_null, named.ParseOptional("onNull", context));
  MM_ASSIGN(on_error, named.ParseOptional("onError", context));
  s.date_string = std::move(text);
  s.timezone = std::move(tz);
  s.format = std::move(format);
  s.on_null = std::move(on_null);
  s.on_error = std::move(on_error);
  std::vector<const ExprPtr*> parts{&s.date_string, &s.timezone, &s.format, &s.on_null, &s.on_error};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<FromStringState>>(std::move(s), &EvalDateFromString),
                        context);
}

// ---- $dateFromParts --------------------------------------------------------------------------

struct FromPartsState {
  ExprPtr year, month, day, hour, minute, second, millisecond, iso_week_year, iso_week, iso_day_of_week,
      timezone;
};

// A part's value (nullopt for null/missing, which makes the result null), `def` if absent.
absl::StatusOr<std::optional<int64_t>> PartValue(const ExprPtr& e, std::string_view name, int64_t def,
                                                 bool bounded, const Variables& vars) {
  if (!e) return std::optional<int64_t>(def);
  MM_EVAL(v, e, vars);
  if (IsNullish(v)) return std::optional<int64_t>();
  auto n = Integral64(v);
  if (!n) {
    return Err(40515, StrCat("'", name, "' must evaluate to an integer, found ", TypeName(v), " with value ",
                             v->ToJson()));
  }
  if (bounded && (*n < -32768 || *n > 32767)) {
    return Err(31034, StrCat("'", name, "' must evaluate to a value in the range [-32768, 32767]; value ", *n,
                             " is not in range"));
  }
  return std::optional<int64_t>(*n);
}

EvalResult EvalDateFromParts(const FromPartsState& s, const Variables& vars) {
  MM_ASSIGN(hour, PartValue(s.hour, "hour", 0, true, vars));
  MM_ASSIGN(minute, PartValue(s.minute, "minute", 0, true, vars));
  MM_ASSIGN(second, PartValue(s.second, "second", 0, false, vars));
  MM_ASSIGN(ms, PartValue(s.millisecond, "millisecond", 0, false, vars));
  if (!hour || !minute || !second || !ms) return Null();
  MM_ASSIGN(tz, EvalTimeZone(s.timezone, vars));
  if (!tz) return Null();
  if (s.year) {
    MM_ASSIGN(year, PartValue(s.year, "year", 1970, false, vars));
    MM_ASSIGN(month, PartValue(s.month, "month", 1, true, vars));
    MM_ASSIGN(day, PartValue(s.day, "day", 1, true, vars));
    if (!year || !month || !day) return Null();
    if (*year < 1 || *year > 9999) {
      return Err(40523, StrCat("'year' must evaluate to an integer in the range 1 to 9999, found ", *year));
    }
    return Some(tz->FromParts(*year, *month, *day, *hour, *minute, *second, *ms));
  }
  MM_ASSIGN(iso_year, PartValue(s.iso_week_year, "isoWeekYear", 1970, false, vars));
  MM_ASSIGN(iso_week, PartValue(s.iso_week, "isoWeek", 1, true, vars));
  MM_ASSIGN(iso_day, PartValue(s.iso_day_of_week, "isoDayOfWeek", 1, true, vars));
  if (!iso_year || !iso_week || !iso_day) return Null();
  if (*iso_year < 1 || *iso_year > 9999) {
    return Err(31095, StrCat("'isoWeekYear' must evaluate to an integer in the range 1 to 9999, found ",
                             *iso_year));
  }
  return Some(tz->FromIsoParts(*iso_year, *iso_week, *iso_day, *hour, *minute, *second, *ms));
}

absl::StatusOr<ExprPtr> ParseDateFromParts(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) {
    return Err(40519, "$dateFromParts only supports an object as its argument");
  }
  MM_ASSIGN(named, NamedArgs::Collect(arg, "$dateFromParts",
                                      {"year", "month", "day", "hour", "minute", "second", "millisecond",
                                       "isoWeekYear", "isoWeek", "isoDayOfWeek", "timezone"},
                                      40518, "Unrecognized argument to $dateFromParts: "));
  bool natural = named.Has("year") || named.Has("month") || named.Has("day");
  bool iso = named.Has("isoWeekYear") || named.Has("isoWeek") || named.Has("isoDayOfWeek");
  if (!named.Has("year") && !named.Has("isoWeekYear")) {
    return Err(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present");
  }
  if (named.Has("year") && iso) {
    return Err(40489, "$dateFromParts does not allow mixing natural dates with ISO dates");
  }
  if (named.Has("isoWeekYear") && natural) {
    return Err(40525, "$dateFromParts does not allow mixing ISO dates with natural dates");
  }
  FromPartsState s;
  struct Field {
    const char* name;
    ExprPtr* slot;
  } fields[] = {{"year", &s.year},
                {"month", &s.month},
                {"day", &s.day},
                {"hour", &s.hour},
                {"minute", &s.minute},
                {"second", &s.second},
                {"millisecond", &s.millisecond},
                {"isoWeekYear", &s.iso_week_year},
                {"isoWeek", &s.iso_week},
                {"isoDayOfWeek", &s.iso_day_of_week},
                {"timezone", &s.timezone}};
  std::vector<const ExprPtr*> parts;
  for (Field& f : fields) {
    MM_ASSIGN(e, named.ParseOptional(f.name, context));
    *f.slot = std::move(e);
    parts.push_back(f.slot);
  }
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<FromPartsState>>(std::move(s), &EvalDateFromParts), context);
}

// ---- $dateToParts ----------------------------------------------------------------------------

struct ToPartsState {
  ExprPtr date, timezone, iso8601;
};

EvalResult EvalDateToParts(const ToPartsState& s, const Variables& vars) {
  MM_EVAL(date, s.date, vars);
  MM_ASSIGN(tz, EvalTimeZone(s.timezone, vars));
  if (!tz) return Null();
  bool iso = false;
  if (s.iso8601) {
    MM_EVAL(flag, s.iso8601, vars);
    if (IsNullish(flag)) return Null();
    if (flag->type() != BsonType::kBool) {
      return Err(40521, StrCat("iso8601 must evaluate to a bool, found ", TypeName(flag)));
    }
    iso = flag->AsBool();
  }
  if (IsNullish(date)) return Null();
  MM_ASSIGN(d, CoerceToDate(date));
  TimeZone::Parts p = tz->ToParts(d);
  if (iso) {
    return Some(Document{{"isoWeekYear", static_cast<int32_t>(p.iso_week_year)},
                         {"isoWeek", p.iso_week},
                         {"isoDayOfWeek", p.iso_day_of_week},
                         {"hour", p.hour},
                         {"minute", p.minute},
                         {"second", p.second},
                         {"millisecond", p.millisecond}});
  }
  return Some(Document{{"year", static_cast<int32_t>(p.year)},
                       {"month", p.month},
                       {"day", p.day},
                       {"hour", p.hour},
                       {"minute", p.minute},
                       {"second", p.second},
                       {"millisecond", p.millisecond}});
}

absl::StatusOr<ExprPtr> ParseDateToParts(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) return Err(40524, "$dateToParts only supports an object as its argument");
  MM_ASSIGN(named, NamedArgs::Collect(arg, "$dateToParts", {"date", "timezone", "iso8601"}, 40520,
                                      "Unrecognized argument to $dateToParts: "));
  ToPartsState s;
  MM_ASSIGN(date, named.ParseRequired("date", context, 40522, "Missing 'date' parameter to $dateToParts"));
  MM_ASSIGN(tz, named.ParseOptional("timezone", context));
  MM_ASSIGN(iso, named.ParseOptional("iso8601", context));
  s.date = std::move(date);
  s.timezone = std::move(tz);
  s.iso8601 = std::move(iso);
  std::vector<const ExprPtr*> parts{&s.date, &s.timezone, &s.iso8601};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<ToPartsState>>(std::move(s), &EvalDateToParts), context);
}

// ---- $dateAdd, $dateSubtract -----------------------------------------------------------------

absl::StatusOr<TimeUnit> UnitArg(const Value& v, std::string_view op) {
  if (v.type() != BsonType::kString) {
    return Err(5439013, StrCat(op, " requires 'unit' to be a string, but got ", TypeName(v)));
  }
  auto unit = ParseTimeUnit(v.AsString());
  if (!unit) {
    return Err(5439014, StrCat(op, " parameter 'unit' value cannot be recognized as a time unit: ",
                               v.AsString()));
  }
  return *unit;
}

struct ArithmeticState {
  bool subtract;
  ExprPtr start, unit, amount, timezone;
};

EvalResult EvalDateArithmetic(const ArithmeticState& s, const Variables& vars) {
  std::string_view op = s.subtract ? "$dateSubtract" : "$dateAdd";
  MM_EVAL(start, s.start, vars);
  if (IsNullish(start)) return Null();
  MM_EVAL(unit, s.unit, vars);
  if (IsNullish(unit)) return Null();
  MM_EVAL(amount, s.amount, vars);
  if (IsNullish(amount)) return Null();
  MM_ASSIGN(tz, EvalTimeZone(s.timezone, vars));
  if (!tz) return Null();
  std::optional<DateTime> date = AsDate(*start);
  if (!date) return Err(5166403, StrCat(op, " requires startDate to be convertible to a date"));
  if (unit->type() != BsonType::kString) return Err(5166404, StrCat(op, " expects string defining the time unit"));
  MM_ASSIGN(u, UnitArg(*unit, op));
  auto n = Integral64(amount);
  if (!n) return Err(5166405, StrCat(op, " expects integer amount of time units"));
  int64_t delta = *n;
  if (s.subtract) {
    if (delta == std::numeric_limits<int64_t>::min()) {
      return Err(6045000, StrCat("invalid $dateSubtract 'amount' parameter value: ", delta));
    }
    delta = -delta;
  }
  MM_ASSIGN(result, DateAdd(*date, u, delta, *tz));
  return Some(result);
}

absl::StatusOr<ExprPtr> ParseDateArithmetic(std::string_view name, const Value& arg,
                                            const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) return Err(5166400, StrCat(name, " expects an object as its argument"));
  ArithmeticState s;
  s.subtract = name == "$dateSubtract";
  for (const auto& [k, v] : arg.AsDocument()) {
    ExprPtr* slot = k == "startDate" ? &s.start : k == "unit" ? &s.unit : k == "amount" ? &s.amount
                    : k == "timezone" ? &s.timezone : nullptr;
    if (slot == nullptr) {
      return Err(5166401, StrCat("Unrecognized argument to ", name, ": ", k,
                                 ". Expected arguments are startDate, unit, amount, and optionally timezone."));
    }
    MM_ASSIGN(e, Parse(v, context));
    *slot = std::move(e);
  }
  if (!s.start || !s.unit || !s.amount) {
    return Err(5166402, StrCat(name, " requires startDate, unit, and amount to be present"));
  }
  std::vector<const ExprPtr*> parts{&s.start, &s.unit, &s.amount, &s.timezone};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<ArithmeticState>>(std::move(s), &EvalDateArithmetic), context);
}

// ---- $dateDiff -------------------------------------------------------------------------------

struct DiffState {
  ExprPtr start, end, unit, timezone, start_of_week;
};

absl::StatusOr<int> StartOfWeekArg(const Value& v, std::string_view op) {
  if (v.type() != BsonType::kString) {
    return Err(5439015, StrCat(op, " requires 'startOfWeek' to be a string, but got ", TypeName(v)));
  }
  auto d = ParseDayOfWeek(v.AsString());
  if (!d) {
    return Err(5439016, StrCat(op, " parameter 'startOfWeek' value cannot be recognized as a day of a week: ",
                               v.AsString()));
  }
  return *d;
}

bool IsWeekUnit(const std::optional<Value>& unit) {
  return unit && unit->type() == BsonType::kString && unit->AsString() == "week";
}

EvalResult EvalDateDiff(const DiffState& s, const Variables& vars) {
  MM_EVAL(start, s.start, vars);
  if (IsNullish(start)) return Null();
  MM_EVAL(end, s.end, vars);
  if (IsNullish(end)) return Null();
  MM_EVAL(unit, s.unit, vars);
  if (IsNullish(unit)) return Null();
  std::optional<Value> sow;
  bool use_sow = s.start_of_week && IsWeekUnit(unit);
  if (use_sow) {
    MM_EVAL(w, s.start_of_week, vars);
    if (IsNullish(w)) return Null();
    sow = std::move(w);
  }
  MM_ASSIGN(tz, EvalTimeZone(s.timezone, vars));
  if (!tz) return Null();
  auto a = AsDate(*start);
  if (!a) return Err(5166307, StrCat("$dateDiff requires 'startDate' to be a date, but got ", TypeName(start)));
  auto b = AsDate(*end);
  if (!b) return Err(5166307, StrCat("$dateDiff requires 'endDate' to be a date, but got ", TypeName(end)));
  MM_ASSIGN(u, UnitArg(*unit, "$dateDiff"));
  int start_of_week = 0;
  if (use_sow) {
    MM_ASSIGN(d, StartOfWeekArg(*sow, "$dateDiff"));
    start_of_week = d;
  }
  return Some(DateDiff(*a, *b, u, *tz, start_of_week));
}

absl::StatusOr<ExprPtr> ParseDateDiff(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) return Err(5166301, "$dateDiff only supports an object as its argument");
  MM_ASSIGN(named, NamedArgs::Collect(arg, "$dateDiff", {"startDate", "endDate", "unit", "timezone", "startOfWeek"},
                                      5166302, "Unrecognized argument to $dateDiff: "));
  DiffState s;
  MM_ASSIGN(start, named.ParseRequired("startDate", context, 5166303, "Missing 'startDate' parameter to $dateDiff"));
  MM_ASSIGN(end, named.ParseRequired("endDate", context, 5166304, "Missing 'endDate' parameter to $dateDiff"));
  MM_ASSIGN(unit, named.ParseRequired("unit", context, 5166305, "Missing 'unit' parameter to $dateDiff"));
  MM_ASSIGN(tz, named.ParseOptional("timezone", context));
  MM_ASSIGN(sow, named.ParseOptional("startOfWeek", context));
  s.start = std::move(start);
  s.end = std::move(end);
  s.unit = std::move(unit);
  s.timezone = std::move(tz);
  s.start_of_week = std::move(sow);
  std::vector<const ExprPtr*> parts{&s.start, &s.end, &s.unit, &s.timezone, &s.start_of_week};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<DiffState>>(std::move(s), &EvalDateDiff), context);
}

// ---- $dateTrunc ------------------------------------------------------------------------------

struct TruncState {
  ExprPtr date, unit, bin_size, timezone, start_of_week;
};

EvalResult EvalDateTrunc(const TruncState& s, const Variables& vars) {
  MM_EVAL(date, s.date, vars);
  if (IsNullish(date)) return Null();
  MM_EVAL(unit, s.unit, vars);
  if (IsNullish(unit)) return Null();
  std::optional<Value> bin;
  if (s.bin_size) {
    MM_EVAL(b, s.bin_size, vars);
    if (IsNullish(b)) return Null();
    bin = std::move(b);
  }
  std::optional<Value> sow;
  bool use_sow = s.start_of_week && IsWeekUnit(unit);
  if (use_sow) {
    MM_EVAL(w, s.start_of_week, vars);
    if (IsNullish(w)) return Null();
    sow = std::move(w);
  }
  MM_ASSIGN(tz, EvalTimeZone(s.timezone, vars));
  if (!tz) return Null();
  auto d = AsDate(*date);
  if (!d) return Err(5439012, StrCat("$dateTrunc requires 'date' to be a date, but got ", TypeName(date)));
  MM_ASSIGN(u, UnitArg(*unit, "$dateTrunc"));
  int64_t bin_size = 1;
  if (bin) {
    auto n = Integral64(bin);
    if (!n) {
      return Err(5439017, StrCat("$dateTrunc requires 'binSize' to be a 64-bit integer, but got value '",
                                 bin->ToJson(), "' of type ", TypeName(bin)));
    }
    if (*n <= 0) return Err(5439018, StrCat("$dateTrunc requires 'binSize' to be greater than 0, but got value ", *n));
    bin_size = *n;
  }
  int start_of_week = 0;
  if (use_sow) {
    MM_ASSIGN(w, StartOfWeekArg(*sow, "$dateTrunc"));
    start_of_week = w;
  }
  MM_ASSIGN(out, DateTrunc(*d, u, bin_size, *tz, start_of_week));
  return Some(out);
}

absl::StatusOr<ExprPtr> ParseDateTrunc(std::string_view, const Value& arg, const ParseContext& context) {
  if (arg.type() != BsonType::kDocument) return Err(5439007, "$dateTrunc only supports an object as its argument");
  TruncState s;
  for (const auto& [k, v] : arg.AsDocument()) {
    ExprPtr* slot = k == "date" ? &s.date : k == "unit" ? &s.unit : k == "binSize" ? &s.bin_size
                    : k == "timezone" ? &s.timezone : k == "startOfWeek" ? &s.start_of_week : nullptr;
    if (slot == nullptr) {
      return Err(5439008, StrCat("Unrecognized argument to $dateTrunc: ", k,
                                 ". Expected arguments are date, unit, and optionally, binSize, timezone, "
                                 "startOfWeek"));
    }
    MM_ASSIGN(e, Parse(v, context));
    *slot = std::move(e);
  }
  if (!s.date) return Err(5439009, "Missing 'date' parameter to $dateTrunc");
  if (!s.unit) return Err(5439010, "Missing 'unit' parameter to $dateTrunc");
  std::vector<const ExprPtr*> parts{&s.date, &s.unit, &s.bin_size, &s.timezone, &s.start_of_week};
  const bool all_constant = AllConstant(parts);
  return FoldIfConstant(all_constant, std::make_unique<CustomExpr<TruncState>>(std::move(s), &EvalDateTrunc), context);
}

}  // namespace

void RegisterDate(OperatorTable* t) {
  t->Add("$year", &ParsePart<Part::kYear>);
  t->Add("$month", &ParsePart<Part::kMonth>);
  t->Add("$dayOfMonth", &ParsePart<Part::kDayOfMonth>);
  t->Add("$dayOfWeek", &ParsePart<Part::kDayOfWeek>);
  t->Add("$dayOfYear", &ParsePart<Part::kDayOfYear>);
  t->Add("$hour", &ParsePart<Part::kHour>);
  t->Add("$minute", &ParsePart<Part::kMinute>);
  t->Add("$second", &ParsePart<Part::kSecond>);
  t->Add("$millisecond", &ParsePart<Part::kMillisecond>);
  t->Add("$week", &ParsePart<Part::kWeek>);
  t->Add("$isoWeek", &ParsePart<Part::kIsoWeek>);
  t->Add("$isoWeekYear", &ParsePart<Part::kIsoWeekYear>);
  t->Add("$isoDayOfWeek", &ParsePart<Part::kIsoDayOfWeek>);
  t->Add("$dateToString", &ParseDateToString);
  t->Add("$dateFromString", &ParseDateFromString);
  t->Add("$dateFromParts", &ParseDateFromParts);
  t->Add("$dateToParts", &ParseDateToParts);
  t->Add("$dateAdd", &ParseDateArithmetic);
  t->Add("$dateSubtract", &ParseDateArithmetic);
  t->Add("$dateDiff", &ParseDateDiff);
  t->Add("$dateTrunc", &ParseDateTrunc);
}

}  // namespace micromongo::pipeline::internal
