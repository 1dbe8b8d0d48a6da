#include "query/sort.h"

#include "document/builder.h"
#include "document/status.h"

namespace micromongo::query {

absl::StatusOr<SortSpec> SortSpec::Parse(bson::DocView spec, std::shared_ptr<const bson::Collator> collator) {
  SortSpec s;
  s.collator_ = std::move(collator);
  if (spec.empty()) return s;
  auto pattern = pipeline::SortPattern::Parse(bson::Decode(spec));
  if (!pattern.ok()) return pattern.status();
  s.keys_ = pipeline::SortKeyGenerator(*std::move(pattern));
  s.empty_ = false;
  return s;
}

absl::StatusOr<std::string> SortSpec::KeyOf(bson::DocView doc) const {
  std::string key;
  if (auto s = keys_.AppendKey(doc, nullptr, collator_.get(), &key); !s.ok()) return s;
  return key;
}

}  // namespace micromongo::query
