// The ICU-backed Collator. UCollator comparison functions are const and may be called
// concurrently; attributes are only set here, before the collator is shared.

#include <unicode/ucol.h>
#include <unicode/uloc.h>
#include <unicode/ustring.h>

#include <cmath>
#include <set>
#include <string>

#include "collation/collation.h"
#include "document/builder.h"
#include "document/json.h"
#include "document/status.h"

namespace micromongo::collation {
namespace {

using bson::ValueView;

class IcuCollator final : public bson::Collator {
 public:
  IcuCollator(UCollator* c, std::string spec) : c_(c), spec_(std::move(spec)) {}
  std::string_view spec() const override { return spec_; }
  ~IcuCollator() override { ucol_close(c_); }
  IcuCollator(const IcuCollator&) = delete;
  IcuCollator& operator=(const IcuCollator&) = delete;

  int Compare(std::string_view a, std::string_view b) const override {
    UErrorCode status = U_ZERO_ERROR;
    UCollationResult r = ucol_strcollUTF8(c_, a.data(), static_cast<int32_t>(a.size()), b.data(),
                                          static_cast<int32_t>(b.size()), &status);
    if (U_FAILURE(status)) {
      // Only invalid UTF-8 gets here, which stored documents cannot hold (inserts validate).
      int c = a.compare(b);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return r == UCOL_LESS ? -1 : (r == UCOL_GREATER ? 1 : 0);
  }

  std::string SortKey(std::string_view s) const override {
    // ICU computes sort keys from UTF-16.
    std::u16string utf16(s.size() + 1, u'\0');
    int32_t len = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strFromUTF8(reinterpret_cast<UChar*>(utf16.data()), static_cast<int32_t>(utf16.size()), &len,
                  s.data(), static_cast<int32_t>(s.size()), &status);
    if (U_FAILURE(status)) return std::string(s);  // invalid UTF-8: see Compare
    std::string key(2 * static_cast<size_t>(len) + 16, '\0');
    int32_t n = ucol_getSortKey(c_, reinterpret_cast<const UChar*>(utf16.data()), len,
                                reinterpret_cast<uint8_t*>(key.data()),
                                static_cast<int32_t>(key.size()));
    if (n > static_cast<int32_t>(key.size())) {
      key.resize(static_cast<size_t>(n));
      n = ucol_getSortKey(c_, reinterpret_cast<const UChar*>(utf16.data()), len,
                          reinterpret_cast<uint8_t*>(key.data()), n);
    }
    key.resize(n > 0 ? static_cast<size_t>(n) - 1 : 0);  // without the terminating NUL
    return key;
  }

 private:
  UCollator* c_;
  std::string spec_;
};

// The locales ICU has collation data for (en, en_US, fr_CA, zh, ...), as MongoDB accepts
// them: exactly as ICU spells them, optionally with @keywords (de@collation=phonebook).
bool KnownLocale(std::string_view locale) {
  static const std::set<std::string, std::less<>> known = [] {
    std::set<std::string, std::less<>> s;
    for (int32_t i = 0; i < ucol_countAvailable(); ++i) s.insert(ucol_getAvailable(i));
    s.insert("root");
    return s;
  }();
  return known.count(locale.substr(0, locale.find('@'))) > 0;
}

std::string TypeError(std::string_view field, const ValueView& v, std::string_view expected) {
  return StrCat("BSON field 'collation.", field, "' is the wrong type '", BsonTypeName(v.type),
                "', expected type '", expected, "'");
}

struct Spec {
  std::string locale;
  bool has_locale = false;
  int strength = 3;
  bool case_level = false;
  std::string case_first = "off";
  bool numeric_ordering = false;
  std::string alternate = "non-ignorable";
  std::string max_variable = "punct";
  bool normalization = false;
  bool backwards = false;
};

absl::StatusOr<Spec> ParseSpec(bson::DocView doc) {
  Spec spec;
  for (const bson::ElementView& e : doc) {
    std::string_view k = e.key;
    const ValueView& v = e.value;
    auto need_bool = [&](bool* out) -> absl::Status {
      if (v.type != BsonType::kBool) return MongoError(kTypeMismatch, TypeError(k, v, "bool"));
      *out = v.Bool();
      return absl::OkStatus();
    };
    auto need_string = [&](std::string* out) -> absl::Status {
      if (v.type != BsonType::kString) return MongoError(kTypeMismatch, TypeError(k, v, "string"));
      *out = std::string(v.String());
      return absl::OkStatus();
    };
    // A string that must be one of `allowed`.
    auto need_one_of = [&](std::string* out, std::initializer_list<std::string_view> allowed) {
      absl::Status st = need_string(out);
      if (!st.ok()) return st;
      for (std::string_view a : allowed) {
        if (*out == a) return absl::OkStatus();
      }
      std::string list;
      for (std::string_view a : allowed) list += StrCat(list.empty() ? "'" : ", '", a, "'");
      return MongoError(kBadValue, StrCat("collation ", k, " must be one of ", list, ", not '", *out, "'"));
    };
    absl::Status s;
    if (k == "locale") {
      s = need_string(&spec.locale);
      spec.has_locale = true;
    } else if (k == "strength") {
      if (!v.IsNumber()) return MongoError(kTypeMismatch, TypeError(k, v, "int"));
      double d = v.AsDouble();
      if (d != std::trunc(d) || d < 1 || d > 5) {
        return MongoError(kBadValue, "collation strength must be an integer from 1 to 5");
      }
      spec.strength = static_cast<int>(d);
    } else if (k == "caseLevel") {
      s = need_bool(&spec.case_level);
    } else if (k == "caseFirst") {
      s = need_one_of(&spec.case_first, {"upper", "lower", "off"});
    } else if (k == "numericOrdering") {
      s = need_bool(&spec.numeric_ordering);
    } else if (k == "alternate") {
      s = need_one_of(&spec.alternate, {"non-ignorable", "shifted"});
    } else if (k == "maxVariable") {
      s = need_one_of(&spec.max_variable, {"punct", "space"});
    } else if (k == "normalization") {
      s = need_bool(&spec.normalization);
    } else if (k == "backwards") {
      s = need_bool(&spec.backwards);
    } else if (k == "version") {
      // Informational (the ICU version a collation was created with); accepted as MongoDB does.
      if (v.type != BsonType::kString) return MongoError(kTypeMismatch, TypeError(k, v, "string"));
    } else {
      return MongoError(40415, StrCat("BSON field 'collation.", k, "' is an unknown field."));
    }
    if (!s.ok()) return s;
  }
  if (!spec.has_locale) {
    return MongoError(40414, "BSON field 'collation.locale' is missing but a required field");
  }
  return spec;
}

}  // namespace

absl::StatusOr<std::string> Normalize(bson::DocView doc) {
  auto spec = ParseSpec(doc);
  if (!spec.ok()) return spec.status();
  if (spec->locale == "simple") return std::string();
  if (!KnownLocale(spec->locale)) {
    return MongoError(kBadValue, StrCat("Field 'locale' is invalid in: ", bson::BsonToJson(doc.bytes())));
  }
  bson::Builder b;
  b.AppendString("locale", spec->locale);
  b.AppendBool("caseLevel", spec->case_level);
  b.AppendString("caseFirst", spec->case_first);
  b.AppendInt32("strength", spec->strength);
  b.AppendBool("numericOrdering", spec->numeric_ordering);
  b.AppendString("alternate", spec->alternate);
  b.AppendString("maxVariable", spec->max_variable);
  b.AppendBool("normalization", spec->normalization);
  b.AppendBool("backwards", spec->backwards);
  b.AppendString("version", U_ICU_VERSION);
  return std::move(b).Finish();
}

absl::StatusOr<std::shared_ptr<const bson::Collator>> Parse(bson::DocView doc) {
  auto spec = ParseSpec(doc);
  if (!spec.ok()) return spec.status();
  if (spec->locale == "simple") return std::shared_ptr<const bson::Collator>();
  if (!KnownLocale(spec->locale)) {
    return MongoError(kBadValue, StrCat("Field 'locale' is invalid in: ", bson::BsonToJson(doc.bytes())));
  }
  UErrorCode status = U_ZERO_ERROR;
  UCollator* c = ucol_open(spec->locale.c_str(), &status);
  if (U_FAILURE(status)) {
    return MongoError(kBadValue, StrCat("could not open a collator for locale '", spec->locale,
                                        "': ", u_errorName(status)));
  }
  auto normalized = Normalize(doc);
  if (!normalized.ok()) {
    ucol_close(c);
    return normalized.status();
  }
  auto collator = std::make_shared<IcuCollator>(c, *std::move(normalized));  // owns c from here on
  static constexpr UColAttributeValue kStrengths[] = {UCOL_PRIMARY, UCOL_SECONDARY, UCOL_TERTIARY,
                                                      UCOL_QUATERNARY, UCOL_IDENTICAL};
  auto on = [](bool b) { return b ? UCOL_ON : UCOL_OFF; };
  ucol_setAttribute(c, UCOL_STRENGTH, kStrengths[spec->strength - 1], &status);
  ucol_setAttribute(c, UCOL_CASE_LEVEL, on(spec->case_level), &status);
  ucol_setAttribute(c, UCOL_CASE_FIRST,
                    spec->case_first == "upper"   ? UCOL_UPPER_FIRST
                    : spec->case_first == "lower" ? UCOL_LOWER_FIRST
                                                  : UCOL_OFF,
                    &status);
  ucol_setAttribute(c, UCOL_NUMERIC_COLLATION, on(spec->numeric_ordering), &status);
  ucol_setAttribute(c, UCOL_ALTERNATE_HANDLING,
                    spec->alternate == "shifted" ? UCOL_SHIFTED : UCOL_NON_IGNORABLE, &status);
  ucol_setMaxVariable(c, spec->max_variable == "space" ? UCOL_REORDER_CODE_SPACE
                                                       : UCOL_REORDER_CODE_PUNCTUATION,
                      &status);
  ucol_setAttribute(c, UCOL_NORMALIZATION_MODE, on(spec->normalization), &status);
  ucol_setAttribute(c, UCOL_FRENCH_COLLATION, on(spec->backwards), &status);
  if (U_FAILURE(status)) {
    return MongoError(kBadValue, StrCat("invalid collation ", bson::BsonToJson(doc.bytes()), ": ", u_errorName(status)));
  }
  return std::shared_ptr<const bson::Collator>(std::move(collator));
}

}  // namespace micromongo::collation
