#pragma once

// The crash torture's transaction writer: through the wire protocol (the C++ client has no
// transactions), one session runs transactions 1, 2, 3, ... that each set the same
// document of two databases to the transaction's number and commit. A commit across
// databases takes two phases (storage/cross_commit.h), so a kill can land between them;
// after the restart both databases must hold the same number: the last acknowledged one,
// or the one cut by the kill.

#include <atomic>
#include <cstdint>
#include <string>

namespace micromongo::torture {

// The two databases it writes to, and their collection.
inline constexpr const char* kCrossDbA = "torture_a";
inline constexpr const char* kCrossDbB = "torture_b";
inline constexpr const char* kCrossColl = "x";

struct CrossDatabaseModel {
  int64_t acknowledged = 0;  // the last transaction whose commit was acknowledged
  int64_t in_flight = 0;     // the transaction cut by the kill (0: none)
  int64_t committed = 0;     // transactions committed, over all rounds
  int64_t cut = 0;           // transactions cut by kills, over all rounds
  int64_t cut_applied = 0;   // of those, the ones a restart found committed
};

// Runs transactions acknowledged + 1, + 2, ... over the worker's unix socket until the
// connection fails after `killed` is set. "" when all went as it should; else the failure.
std::string RunCrossDatabaseWriter(const std::string& socket_path, CrossDatabaseModel* model,
                                   const std::atomic<bool>* killed);

// Checks both databases against the model after a restart and resolves the cut
// transaction; "" if all is well.
std::string CheckCrossDatabase(const std::string& socket_path, CrossDatabaseModel* model);

}  // namespace micromongo::torture
