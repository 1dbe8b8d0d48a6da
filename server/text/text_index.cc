#include "text/text_index.h"

#include <cmath>

#include "document/builder.h"
#include "document/status.h"
#include "text/tokenizer.h"

namespace micromongo::text {
namespace {

using bson::DocView;
using bson::ElementView;
using bson::ValueView;

constexpr double kMaxWordWeight = 100000;  // weights lie in (0, 100000)

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool IsTextValue(const ValueView& v) { return v.type == BsonType::kString && v.String() == "text"; }

absl::Status CheckFieldName(std::string_view name) {
  if (name == "_fts" || name == "_ftsx") {
    return MongoError(17289, "text index with reserved fields _fts/_ftsx not allowed");
  }
  return absl::OkStatus();
}

absl::Status CheckWeightPath(std::string_view path) {
  if (path == "$**") return absl::OkStatus();
  if (path.empty()) return MongoError(17294, "weight cannot be on an empty field");
  for (size_t start = 0;;) {
    size_t dot = path.find('.', start);
    std::string_view part = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty()) return MongoError(17291, "weight cannot have empty path component");
    if (part[0] == '$') return MongoError(17292, "weight cannot have path component with $ prefix");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return absl::OkStatus();
}

}  // namespace

bool IsTextKeyPattern(DocView keys) {
  for (const ElementView& e : keys) {
    if (IsTextValue(e.value) || e.key == "_fts") return true;
  }
  return false;
}

bool IsTextOption(std::string_view option) {
  return option == "weights" || option == "default_language" || option == "language_override" ||
         option == "textIndexVersion";
}

absl::StatusOr<TextIndexDefinition> BuildTextIndex(DocView keys, DocView options) {
  std::map<std::string, double> weights;
  bson::Builder key;
  // Prefix fields, then the text fields (adjacent), then suffix fields.
  enum { kPrefix, kText, kSuffix } at = kPrefix;
  bool stored_form = false;
  for (const ElementView& e : keys) {
    if (e.key == "_fts" || e.key == "_ftsx") {
      // The stored form given back (a restore): {_fts: "text", _ftsx: 1}.
      if (e.key == "_fts" && !IsTextValue(e.value)) return MongoError(17271, "expecting _fts:\"text\"");
      if (e.key == "_ftsx" && !(e.value.IsNumber() && e.value.AsDouble() == 1)) {
        return MongoError(17272, "expecting _ftsx:1");
      }
      if (at == kSuffix) return MongoError(17389, "'text' fields in index must all be adjacent");
      at = kText;
      stored_form = true;
      key.AppendView(e.key, e.value);
      continue;
    }
    if (IsTextValue(e.value)) {
      if (auto s = CheckFieldName(e.key); !s.ok()) return s;
      if (at == kSuffix) return MongoError(17389, "'text' fields in index must all be adjacent");
      if (at == kPrefix) {
        key.AppendString("_fts", "text");
        key.AppendInt32("_ftsx", 1);
      }
      at = kText;
      weights[std::string(e.key)] = 1;
      continue;
    }
    if (auto s = CheckFieldName(e.key); !s.ok()) return s;
    if (!e.value.IsNumber() || (e.value.AsDouble() != 1 && e.value.AsDouble() != -1)) {
      return MongoError(17273, "expected value 1 or -1 for non-text key in compound index");
    }
    if (at == kText) at = kSuffix;
    key.AppendView(e.key, e.value);
  }
  ValueView w;
  if (options.Find("weights", &w)) {
    if (w.type == BsonType::kDocument) {
      for (const ElementView& e : w.Doc()) {
        if (!e.value.IsNumber()) return MongoError(17283, "weight for text index needs numeric type");
        weights[std::string(e.key)] = std::trunc(e.value.AsDouble());
      }
    } else if (w.type == BsonType::kString && w.String() == "$**") {
      weights["$**"] = 1;
    } else {
      return MongoError(17284, "text index option 'weights' must be an object");
    }
  }
  if (weights.empty() && !stored_form) return MongoError(kCannotCreateIndex, "text index needs a text field");
  bson::Builder opts;
  {
    size_t t = opts.StartDocument("weights");
    for (const auto& [path, weight] : weights) {
      if (!(weight > 0 && weight < kMaxWordWeight)) return MongoError(16674, "score for word too high");
      if (auto s = CheckWeightPath(path); !s.ok()) return s;
      opts.AppendInt32(path, static_cast<int32_t>(weight));
    }
    opts.End(t);
  }
  std::string default_language = "english";
  ValueView v;
  if (options.Find("default_language", &v)) {
    if (v.type != BsonType::kString) return MongoError(17263, "default_language needs a string type");
    default_language = std::string(v.String());
    if (FindLanguage(default_language) == nullptr) {
      return MongoError(17264, StrCat("default_language is not valid: ", default_language));
    }
  }
  opts.AppendString("default_language", default_language);
  std::string language_override = "language";
  if (options.Find("language_override", &v)) {
    if (v.type != BsonType::kString) return MongoError(17136, "language_override is not valid");
    language_override = std::string(v.String());
    if (language_override.empty() || language_override[0] == '$' ||
        language_override.find('.') != std::string::npos) {
      return MongoError(17136, StrCat("language_override is not valid: ", language_override));
    }
  }
  opts.AppendString("language_override", language_override);
  if (options.Find("textIndexVersion", &v)) {
    if (!v.IsNumber() || v.AsDouble() != kTextIndexVersion) {
      return MongoError(17364, StrCat("attempt to use unsupported textIndexVersion ",
                                      v.IsNumber() ? static_cast<int64_t>(v.AsDouble()) : 0,
                                      "; versions supported: 3"));
    }
  }
  opts.AppendInt32("textIndexVersion", kTextIndexVersion);
  return TextIndexDefinition{std::move(key).Finish(), std::move(opts).Finish()};
}

absl::StatusOr<std::shared_ptr<const TextIndexSpec>> TextIndexSpec::Parse(DocView index_spec) {
  auto spec = std::make_shared<TextIndexSpec>();
  ValueView key, weights, v;
  if (!index_spec.Find("key", &key) || key.type != BsonType::kDocument || !index_spec.Find("weights", &weights) ||
      weights.type != BsonType::kDocument) {
    return MongoError(16739, "found invalid spec for text index");
  }
  bool passed = false;
  for (const ElementView& e : key.Doc()) {
    if (e.key == "_fts" || e.key == "_ftsx") {
      passed = true;
    } else if (passed) {
      spec->suffix_.emplace_back(e.key);
    } else {
      spec->prefix_.emplace_back(e.key);
    }
  }
  for (const ElementView& e : weights.Doc()) {
    if (e.key == "$**") {
      spec->wildcard_ = true;
    } else {
      spec->weights_[std::string(e.key)] = e.value.AsDouble();
    }
  }
  spec->default_language_ = FindLanguage("english");
  if (index_spec.Find("default_language", &v) && v.type == BsonType::kString) {
    const Language* lang = FindLanguage(v.String());
    if (lang == nullptr) return MongoError(17264, "found invalid default_language in text index");
    spec->default_language_ = lang;
  }
  if (index_spec.Find("language_override", &v) && v.type == BsonType::kString) {
    spec->language_override_ = std::string(v.String());
  }
  return std::shared_ptr<const TextIndexSpec>(std::move(spec));
}

namespace {

bool MatchesPrefix(const std::string& dotted, const std::string& weight) {
  return weight == dotted || (weight.size() > dotted.size() && weight.compare(0, dotted.size(), dotted) == 0 &&
                              weight[dotted.size()] == '.');
}

}  // namespace

absl::Status TextIndexSpec::ForEachString(
    DocView doc, absl::FunctionRef<void(const Language&, std::string_view, double)> fn) const {
  // One frame per document or array entered (MongoDB's FTSIteratorFrame).
  struct Frame {
    DocView obj;
    const Language* language;
    std::string parent;
    bool is_array;
  };
  auto language_of = [&](DocView obj, const Language* inherited) -> absl::StatusOr<const Language*> {
    ValueView v;
    if (!obj.Find(language_override_, &v)) return inherited;
    if (v.type != BsonType::kString) {
      return MongoError(17261, "found language override field in document with non-string type");
    }
    const Language* lang = FindLanguage(v.String());
    if (lang == nullptr) return MongoError(17262, StrCat("language override unsupported: ", v.String()));
    return lang;
  };
  auto first = language_of(doc, default_language_);
  if (!first.ok()) return first.status();
  // Recursion is bounded by the stored documents' depth limit.
  auto walk = [&](auto& self, const Frame& frame) -> absl::Status {
    for (const ElementView& e : frame.obj) {
      std::string name(e.key);
      if (wildcard_ && name == language_override_) continue;
      std::string dotted = frame.parent.empty() ? name : frame.is_array ? frame.parent : frame.parent + "." + name;
      auto it = weights_.lower_bound(e.value.type == BsonType::kDocument ? dotted + "." : dotted);
      bool possible = it != weights_.end();
      if (!wildcard_ && (!possible || !MatchesPrefix(dotted, it->first))) continue;
      bool exact = possible && it->first == dotted;
      double weight = possible ? it->second : 1;
      switch (e.value.type) {
        case BsonType::kString:
          if (exact || wildcard_) fn(*frame.language, e.value.String(), weight);
          break;
        case BsonType::kDocument:
          if (!exact || wildcard_) {
            auto lang = language_of(e.value.Doc(), frame.language);
            if (!lang.ok()) return lang.status();
            if (auto s = self(self, Frame{e.value.Doc(), *lang, dotted, false}); !s.ok()) return s;
          }
          break;
        case BsonType::kArray:
          if (!frame.is_array || wildcard_) {
            if (auto s = self(self, Frame{e.value.Doc(), frame.language, dotted, true}); !s.ok()) return s;
          }
          break;
        default:
          break;
      }
    }
    return absl::OkStatus();
  };
  return walk(walk, Frame{doc, *first, "", false});
}

absl::Status TextIndexSpec::ScoreDocument(DocView doc, absl::flat_hash_map<std::string, double>* scores) const {
  struct TermData {
    double freq = 0;
    double exp = 0;
    int count = 0;
  };
  std::string term;
  // One map for every string of the document (cleared, its capacity kept), sized for a
  // short string's terms at once rather than rehashed as it grows.
  absl::flat_hash_map<std::string, TermData> terms;
  terms.reserve(32);
  return ForEachString(doc, [&](const Language& language, std::string_view raw, double weight) {
    terms.clear();
    int tokens = 0;
    Tokenizer tokenizer(language);
    tokenizer.Reset(raw, kFilterStopWords);
    while (tokenizer.Next(&term)) {
      TermData& d = terms[term];
      d.exp = d.exp == 0 ? 1 : d.exp * 2;
      d.count += 1;
      d.freq += 1 / d.exp;
      ++tokens;
    }
    for (const auto& [t, d] : terms) {
      double coeff = 0.5 * d.count / tokens + 0.5;
      double adjustment = 1;
      if (raw.size() == t.size() && EqualsIgnoringAsciiCase(raw, t)) adjustment += 0.1;
      (*scores)[t] += weight * d.freq * coeff * adjustment;
    }
  });
}

}  // namespace micromongo::text
