#pragma once

// The micromongo tool's commands. Each takes the words after its name and returns the
// process exit code: 0 success, 1 failure (reported on stderr), 2 usage error.

#include <string>
#include <vector>

namespace micromongo::tools {

int RunImport(const std::vector<std::string>& args);
int RunExport(const std::vector<std::string>& args);
int RunDump(const std::vector<std::string>& args);
int RunRestore(const std::vector<std::string>& args);
int RunBackup(const std::vector<std::string>& args);

}  // namespace micromongo::tools

#include <functional>

#include "flags.h"

namespace micromongo::tools {

// Parses `args` against `specs` (plus --help), runs `body`, and turns exceptions into
// messages and exit codes: UsageError 2 (with the usage text), micromongo::Error and
// everything else 1.
int RunCommand(const std::string& name, const std::string& synopsis,
               const std::vector<std::string>& args, const std::vector<FlagSpec>& specs,
               const std::function<int(const Flags&)>& body);

}  // namespace micromongo::tools
