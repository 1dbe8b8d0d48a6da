// $pull (values, conditions, or documents matched as filters) and $pullAll (values).

#include <algorithm>

#include "document/builder.h"
#include "document/status.h"
#include "query/matcher.h"
#include "update/modifier.h"

namespace micromongo::update {
namespace {

class PullModifier : public Modifier {
 public:
  // $pull: `matcher` tests each element, either wrapped as {"": element} (values and
  // operator conditions) or as the document itself (a document operand is a filter).
  PullModifier(std::unique_ptr<query::Matcher> matcher, bool element_is_filter_target)
      : matcher_(std::move(matcher)), whole_element_(element_is_filter_target) {}
  // $pullAll
  explicit PullModifier(Array values) : values_(std::move(values)) {}

  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext& context) const override {
    auto array = ArrayAt(doc, path, /*create=*/false, matcher_ ? "$pull" : "$pullAll");
    if (!array.ok()) return array.status();
    if (*array == nullptr) return absl::OkStatus();
    // Under a collation the condition is parsed again with it (the parsed form binds its
    // comparisons to the request's collator).
    std::unique_ptr<query::Matcher> collated;
    if (matcher_ && context.collator != nullptr) {
      std::shared_ptr<const bson::Collator> borrowed(std::shared_ptr<void>(), context.collator);
      auto m = query::Matcher::Parse(std::string(matcher_->filter().bytes()), nullptr, borrowed);
      if (!m.ok()) return m.status();
      collated = *std::move(m);
    }
    const query::Matcher* matcher = collated ? collated.get() : matcher_.get();
    std::erase_if(**array, [&](const Value& e) { return Remove(e, matcher, context.collator); });
    return absl::OkStatus();
  }

 private:
  bool Remove(const Value& e, const query::Matcher* matcher, const bson::Collator* collator) const {
    if (matcher == nullptr) {
      return std::any_of(values_.begin(), values_.end(),
                         [&](const Value& v) { return TreeValuesEqual(v, e, collator); });
    }
    bson::Builder b;
    if (whole_element_) {
      if (e.type() != BsonType::kDocument) return false;
      for (const auto& [k, v] : e.AsDocument()) b.AppendValue(k, v);
    } else {
      b.AppendValue("", e);
    }
    std::string bytes = std::move(b).Finish();
    return matcher->Matches(bson::DocView(bytes));
  }

  std::unique_ptr<query::Matcher> matcher_;
  bool whole_element_ = false;
  Array values_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakePull(std::string_view, const bson::ValueView& v) {
  bool operators = false, filter = false;
  if (v.type == BsonType::kDocument) {
    bson::DocView d = v.Doc();
    operators = !d.empty() && !d.begin()->key.empty() && d.begin()->key[0] == '$' &&
                d.begin()->key != "$and" && d.begin()->key != "$or" && d.begin()->key != "$nor";
    filter = !operators;
  }
  bson::Builder b;
  if (filter) {
    for (const bson::ElementView& e : v.Doc()) b.AppendView(e.key, e.value);
  } else {
    b.AppendView("", v);
  }
  auto matcher = query::Matcher::Parse(std::move(b).Finish());
  if (!matcher.ok()) return matcher.status();
  return std::make_unique<PullModifier>(*std::move(matcher), filter);
}

absl::StatusOr<std::unique_ptr<Modifier>> MakePullAll(std::string_view field,
                                                      const bson::ValueView& v) {
  if (v.type != BsonType::kArray) {
    return MongoError(kBadValue, StrCat("$pullAll requires an array argument but was given a ",
                                        BsonTypeName(v.type)));
  }
  Value values = bson::ToValue(v);
  return std::make_unique<PullModifier>(std::move(values.AsArray()));
}

}  // namespace micromongo::update
