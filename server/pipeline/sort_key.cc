#include "pipeline/sort_key.h"

#include <algorithm>
#include <cstring>

#include "document/key_string.h"
#include "document/status.h"

namespace micromongo::pipeline {
namespace {

using bson::ValueView;

constexpr ValueView kUndefinedValue{BsonType::kUndefined, "", 0};

// One value a field's path reaches, and the element of the first array the path expanded
// that it came from (-1: no array expanded).
struct Candidate {
  ValueView value;
  int element = -1;
};

struct FieldValues {
  std::vector<Candidate> candidates;
  const char* array = nullptr;  // the first array expanded (identity for parallel arrays)
};

bool ParseIndex(std::string_view part, size_t* index) {
  if (part.empty() || part.size() > 9) return false;
  if (part.size() > 1 && part[0] == '0') return false;
  size_t n = 0;
  for (char c : part) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  *index = n;
  return true;
}

// Collects what `parts[i..]` reaches in `v`, as MongoDB's index key generation does.
void Collect(const ValueView& v, const std::vector<std::string>& parts, size_t i, int element,
             FieldValues* out) {
  auto expand = [&](const ValueView& array, auto&& per_element) {
    bool first = out->array == nullptr;
    if (first) out->array = array.data;
    int k = 0;
    for (const bson::ElementView& e : array.Doc()) {
      per_element(e.value, first ? k : element);
      ++k;
    }
  };
  if (i == parts.size()) {
    if (v.type == BsonType::kArray) {
      if (v.Doc().empty()) {
        out->candidates.push_back({kUndefinedValue, element});
        return;
      }
      expand(v, [&](const ValueView& e, int elem) { out->candidates.push_back({e, elem}); });
      return;
    }
    out->candidates.push_back({v, element});
    return;
  }
  if (v.type == BsonType::kDocument) {
    ValueView child;
    if (!v.Doc().Find(parts[i], &child)) {
      out->candidates.push_back({bson::kNullValue, element});
      return;
    }
    Collect(child, parts, i + 1, element, out);
    return;
  }
  if (v.type == BsonType::kArray) {
    if (v.Doc().empty()) {
      out->candidates.push_back({kUndefinedValue, element});
      return;
    }
    size_t index;
    if (ParseIndex(parts[i], &index)) {
      // A positional component selects one element ("a.0.b").
      size_t k = 0;
      for (const bson::ElementView& e : v.Doc()) {
        if (k++ == index) {
          Collect(e.value, parts, i + 1, element, out);
          return;
        }
      }
      out->candidates.push_back({bson::kNullValue, element});
      return;
    }
    expand(v, [&](const ValueView& e, int elem) {
      if (e.type == BsonType::kDocument) {
        Collect(e, parts, i, elem, out);
      } else {
        out->candidates.push_back({bson::kNullValue, elem});
      }
    });
    return;
  }
  out->candidates.push_back({bson::kNullValue, element});
}

void AppendComponent(const ValueView& v, bool ascending, const bson::Collator* collator,
                     std::string* out) {
  size_t start = out->size();
  bson::AppendKeyString(v, out, collator);
  if (!ascending) {
    for (size_t i = start; i < out->size(); ++i) (*out)[i] = static_cast<char>(~(*out)[i]);
  }
}

std::optional<double> MetaNumber(const DocumentMeta* meta, const std::string& name) {
  if (meta == nullptr) return std::nullopt;
  if (name == "textScore") return meta->text_score;
  if (name == "searchScore") return meta->search_score;
  if (name == "randVal") return meta->rand_val;
  if (name == "geoNearDistance") return meta->geo_near_distance;
  return std::nullopt;
}

}  // namespace

absl::Status SortKeyGenerator::AppendKey(bson::DocView doc, const DocumentMeta* meta,
                                         const bson::Collator* collator, std::string* key) const {
  const size_t n = pattern_.size();
  ValueView root{BsonType::kDocument, doc.data(), doc.size()};
  // The common case: each field has one value; build the key directly.
  std::vector<FieldValues> fields(n);
  int multi = -1;
  bool several_multi = false;
  for (size_t f = 0; f < n; ++f) {
    if (!pattern_.meta(f).empty()) continue;
    Collect(root, pattern_.path(f), 0, -1, &fields[f]);
    if (fields[f].candidates.size() > 1) {
      if (multi >= 0) several_multi = true;
      if (multi < 0) multi = static_cast<int>(f);
    }
  }
  auto append_meta = [&](size_t f, std::string* out) {
    std::optional<double> d = MetaNumber(meta, pattern_.meta(f));
    if (!d) {
      AppendComponent(bson::kNullValue, pattern_.ascending(f), collator, out);
      return;
    }
    double value = *d;
    char bytes[8];
    std::memcpy(bytes, &value, 8);
    AppendComponent(ValueView{BsonType::kDouble, bytes, 8}, pattern_.ascending(f), collator, out);
  };
  if (!several_multi) {
    for (size_t f = 0; f < n; ++f) {
      if (!pattern_.meta(f).empty()) {
        append_meta(f, key);
        continue;
      }
      const std::vector<Candidate>& c = fields[f].candidates;
      if (c.size() == 1) {
        AppendComponent(c[0].value, pattern_.ascending(f), collator, key);
        continue;
      }
      // The smallest encoded component is the element that sorts first in this direction.
      std::string best, encoded;
      for (size_t k = 0; k < c.size(); ++k) {
        encoded.clear();
        AppendComponent(c[k].value, pattern_.ascending(f), collator, &encoded);
        if (k == 0 || encoded < best) best.swap(encoded);
      }
      key->append(best);
    }
    return absl::OkStatus();
  }
  // Several fields take several values: they must come from the same array, and the key is
  // the smallest tuple formed from one element of it.
  const char* array = nullptr;
  for (size_t f = 0; f < n; ++f) {
    if (fields[f].candidates.size() <= 1) continue;
    if (array == nullptr) array = fields[f].array;
    if (fields[f].array != array) {
      return MongoError(kBadValue, "cannot sort with keys that are parallel arrays");
    }
  }
  std::vector<int> elements;
  for (size_t f = 0; f < n; ++f) {
    if (fields[f].candidates.size() <= 1) continue;
    for (const Candidate& c : fields[f].candidates) elements.push_back(c.element);
  }
  std::sort(elements.begin(), elements.end());
  elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
  std::string best;
  bool have_best = false;
  for (int element : elements) {
    std::string tuple;
    for (size_t f = 0; f < n; ++f) {
      if (!pattern_.meta(f).empty()) {
        append_meta(f, &tuple);
        continue;
      }
      const std::vector<Candidate>& c = fields[f].candidates;
      if (c.size() == 1) {
        AppendComponent(c[0].value, pattern_.ascending(f), collator, &tuple);
        continue;
      }
      std::string part, encoded;
      bool have = false;
      for (const Candidate& x : c) {
        if (x.element != element) continue;
        encoded.clear();
        AppendComponent(x.value, pattern_.ascending(f), collator, &encoded);
        if (!have || encoded < part) part.swap(encoded);
        have = true;
      }
      if (!have) AppendComponent(bson::kNullValue, pattern_.ascending(f), collator, &part);
      tuple.append(part);
    }
    if (!have_best || tuple < best) best.swap(tuple);
    have_best = true;
  }
  key->append(best);
  return absl::OkStatus();
}

}  // namespace micromongo::pipeline
