#include "wire/fail_points.h"

#include "document/status.h"

namespace micromongo::wire {

absl::Status FailCommandPoint::Configure(bson::DocView command) {
  bson::ValueView name, mode, data;
  if (!command.Find("configureFailPoint", &name) || name.type != BsonType::kString) {
    return MongoError(kTypeMismatch, "configureFailPoint takes the fail point's name");
  }
  if (name.String() != name_) return MongoError(kBadValue, StrCat("Cannot find failpoint: ", name.String()));
  if (!command.Find("mode", &mode)) return MongoError(kBadValue, "configureFailPoint needs a mode");
  bool on = false;
  int64_t times = -1, skip = 0;
  if (mode.type == BsonType::kString) {
    if (mode.String() == "alwaysOn") {
      on = true;
    } else if (mode.String() != "off") {
      return MongoError(kBadValue, StrCat("unknown fail point mode: ", mode.String()));
    }
  } else if (mode.type == BsonType::kDocument) {
    bson::ValueView n;
    if (mode.Doc().Find("times", &n) && n.IsNumber()) {
      times = static_cast<int64_t>(n.AsDouble());
      on = times > 0;
    } else if (mode.Doc().Find("skip", &n) && n.IsNumber()) {
      skip = static_cast<int64_t>(n.AsDouble());
      on = true;
    } else {
      return MongoError(kBadValue, "a fail point mode document takes times or skip");
    }
  } else {
    return MongoError(kTypeMismatch, "mode must be a string or a document");
  }
  Action action;
  std::set<std::string, std::less<>> commands;
  std::string app;
  if (command.Find("data", &data) && data.type == BsonType::kDocument) {
    for (const bson::ElementView& e : data.Doc()) {
      if (e.key == "failCommands" && e.value.type == BsonType::kArray) {
        for (const bson::ElementView& c : e.value.Doc()) {
          if (c.value.type == BsonType::kString) commands.emplace(c.value.String());
        }
      } else if (e.key == "errorCode" && e.value.IsNumber()) {
        action.error_code = static_cast<int>(e.value.AsDouble());
      } else if (e.key == "errorLabels" && e.value.type == BsonType::kArray) {
        action.labels_given = true;
        for (const bson::ElementView& l : e.value.Doc()) {
          if (l.value.type == BsonType::kString) action.error_labels.emplace_back(l.value.String());
        }
      } else if (e.key == "closeConnection" && e.value.type == BsonType::kBool) {
        action.close_connection = e.value.Bool();
      } else if (e.key == "writeConcernError" && e.value.type == BsonType::kDocument) {
        action.write_concern_error = std::string(e.value.Doc().bytes());
      } else if (e.key == "blockTimeMS" && e.value.IsNumber()) {
        action.block_ms = static_cast<int64_t>(e.value.AsDouble());
      } else if (e.key == "appName" && e.value.type == BsonType::kString) {
        app = std::string(e.value.String());
      }
    }
    // blockTimeMS counts only with blockConnection: true.
    bson::ValueView block;
    if (!data.Doc().Find("blockConnection", &block) || block.type != BsonType::kBool || !block.Bool()) {
      action.block_ms = 0;
    }
  }
  if (name_ == "failGetMoreAfterCursorCheckout") commands = {"getMore"};
  std::lock_guard<std::mutex> l(mu_);
  on_ = on;
  times_ = times;
  skip_ = skip;
  commands_ = std::move(commands);
  app_name_ = std::move(app);
  action_ = std::move(action);
  return absl::OkStatus();
}

std::optional<FailCommandPoint::Action> FailCommandPoint::Hit(std::string_view command, std::string_view app_name) {
  std::lock_guard<std::mutex> l(mu_);
  if (!on_ || !commands_.contains(command)) return std::nullopt;
  if (!app_name_.empty() && app_name_ != app_name) return std::nullopt;
  if (skip_ > 0) {
    --skip_;
    return std::nullopt;
  }
  if (times_ > 0 && --times_ == 0) on_ = false;
  return action_;
}

}  // namespace micromongo::wire
