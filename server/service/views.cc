#include "service/views.h"

#include "document/builder.h"
#include "document/status.h"
#include "storage/namespace.h"

namespace micromongo::service {

using bson::ValueView;

absl::Status CheckViewCycle(storage::Engine* engine, std::string_view db_name,
                            std::string_view view, std::string_view view_on) {
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  std::string name(view_on);
  for (int depth = 0; *db != nullptr && depth <= 20; ++depth) {
    if (name == view) {
      return MongoError(kGraphContainsCycle,
                        StrCat("View cycle detected: ", db_name, ".", view, " reads itself through ",
                               db_name, ".", view_on));
    }
    std::shared_ptr<storage::Collection> c = (*db)->FindCollection(name);
    if (c == nullptr || !c->is_view()) break;
    ValueView on;
    c->options().Find("viewOn", &on);
    name = std::string(on.String());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ResolvedView>> ResolveView(storage::Engine* engine,
                                                        std::string_view db_name,
                                                        std::string_view coll_name) {
  if (auto s = storage::ValidateCollectionName(db_name, coll_name); !s.ok()) return s;
  auto db = engine->GetDatabase(db_name, /*create=*/false);
  if (!db.ok()) return db.status();
  if (*db == nullptr) return std::optional<ResolvedView>();
  std::optional<ResolvedView> view;
  std::string name(coll_name);
  // Views may be defined on views: prepend each definition's pipeline, down to a collection.
  for (int depth = 0;; ++depth) {
    std::shared_ptr<storage::Collection> c = (*db)->FindCollection(name);
    if (c == nullptr || !c->is_view()) break;
    if (depth >= 20) {
      return MongoError(kInvalidOptions, StrCat("view ", db_name, ".", coll_name,
                                                " is defined through more than 20 views"));
    }
    if (!view) view.emplace();
    ValueView on, pipeline;
    c->options().Find("viewOn", &on);
    std::vector<Document> stages;
    if (c->options().Find("pipeline", &pipeline) && pipeline.type == BsonType::kArray) {
      for (const bson::ElementView& e : pipeline.Doc()) stages.push_back(bson::Decode(e.value.Doc()));
    }
    view->stages.insert(view->stages.begin(), stages.begin(), stages.end());
    name = std::string(on.String());
    view->collection = name;
  }
  return view;
}

}  // namespace micromongo::service
