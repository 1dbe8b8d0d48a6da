// RunCommand: the frame every subcommand of the micromongo tool runs in (flags, --help,
// exit codes). In the library rather than in main.cc so that every object of mm_tools
// resolves within the library.

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "commands.h"
#include "micromongo/error.h"

namespace micromongo::tools {

int RunCommand(const std::string& name, const std::string& synopsis,
               const std::vector<std::string>& args, const std::vector<FlagSpec>& specs,
               const std::function<int(const Flags&)>& body) {
  auto usage = [&](std::FILE* out) {
    std::fprintf(out, "usage: %s\n\n%s", synopsis.c_str(), FlagUsage(specs).c_str());
  };
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
  }
  try {
    return body(Flags::Parse(args, specs));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "micromongo %s: %s\n\n", name.c_str(), e.what());
    usage(stderr);
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "micromongo %s: %s (%d %s)\n", name.c_str(), e.what(), e.code(),
                 e.code_name().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "micromongo %s: %s\n", name.c_str(), e.what());
    return 1;
  }
}

}  // namespace micromongo::tools
