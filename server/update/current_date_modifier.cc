// $currentDate: the current time as a date (default) or a timestamp.

#include <atomic>
#include <chrono>

#include "document/builder.h"
#include "document/status.h"
#include "update/modifier.h"
#include "update/tree_path.h"

namespace micromongo::update {
namespace {

class CurrentDateModifier : public Modifier {
 public:
  explicit CurrentDateModifier(bool timestamp) : timestamp_(timestamp) {}
  absl::Status Apply(Document* doc, const query::FieldPath& path,
                     const ApplyContext&) const override {
    auto slot = Resolve(doc, path, /*create=*/true);
    if (!slot.ok()) return slot.status();
    if (timestamp_) {
      static std::atomic<uint32_t> increment{0};
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch());
      slot->Assign(Timestamp{static_cast<uint32_t>(secs.count()), ++increment});
    } else {
      slot->Assign(DateTime::Now());
    }
    return absl::OkStatus();
  }

 private:
  bool timestamp_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Modifier>> MakeCurrentDate(std::string_view field,
                                                          const bson::ValueView& v) {
  if (v.type == BsonType::kBool) return std::make_unique<CurrentDateModifier>(false);
  if (v.type == BsonType::kDocument) {
    bson::ValueView type;
    bson::DocView spec = v.Doc();
    if (spec.CountElements() == 1 && spec.Find("$type", &type) && type.type == BsonType::kString &&
        (type.String() == "date" || type.String() == "timestamp")) {
      return std::make_unique<CurrentDateModifier>(type.String() == "timestamp");
    }
    return MongoError(kBadValue, StrCat("The '$type' string field is required to be 'date' or "
                                        "'timestamp': {$currentDate: {", field, ": {$type: 'date'}}}"));
  }
  return MongoError(kBadValue, StrCat(field, " is not valid type for $currentDate. Please use a "
                                             "boolean ('true') or a $type expression ({$type: "
                                             "'timestamp/date'})."));
}

}  // namespace micromongo::update
