#pragma once

// MongoDB's failCommand fail point (a test command, on only with --setParameter
// enableTestCommands=1, as in mongod): configureFailPoint makes the next commands of the
// names it lists fail with a code, close their connection, carry a write concern error or
// wait first, so that drivers' retry and error-label behaviour can be tested against the
// worker (the unified test suites' failPoint operation). Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "document/bson_view.h"

namespace micromongo::wire {

class FailCommandPoint {
 public:
  // `name`: "failCommand" (the commands its data lists), or
  // "failGetMoreAfterCursorCheckout" (every getMore, failing after its cursor is found).
  explicit FailCommandPoint(std::string name = "failCommand") : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // What a command hit by the fail point does instead of (or besides) running.
  struct Action {
    int error_code = 0;                    // 0: run the command
    std::vector<std::string> error_labels;  // given: replace the server's own labels
    bool labels_given = false;
    bool close_connection = false;
    std::string write_concern_error;  // BSON document to attach to the reply, if any
    int64_t block_ms = 0;
  };

  // configureFailPoint: {configureFailPoint: "failCommand", mode: "alwaysOn" | "off" |
  // {times: n} | {skip: n}, data: {failCommands: [...], errorCode, errorLabels,
  // closeConnection, writeConcernError, blockConnection, blockTimeMS, appName}}.
  absl::Status Configure(bson::DocView command);
  // The action for `command` from a client named `app_name`, consuming one of the
  // fail point's times; nullopt when it does not apply.
  std::optional<Action> Hit(std::string_view command, std::string_view app_name);

 private:
  const std::string name_;
  std::mutex mu_;
  bool on_ = false;
  int64_t times_ = -1;  // -1: always
  int64_t skip_ = 0;
  std::set<std::string, std::less<>> commands_;
  std::string app_name_;
  Action action_;
};

}  // namespace micromongo::wire
