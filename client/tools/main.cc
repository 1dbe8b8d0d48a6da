// micromongo: the command-line tool of micro-mongo (import, export, dump, restore, backup).

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"

namespace {

constexpr char kUsage[] =
    "usage: micromongo COMMAND [flags]   (micromongo COMMAND --help for its flags)\n"
    "\n"
    "  import    JSON, JSON array, CSV or TSV into a collection\n"
    "  export    a collection or query as JSON lines, a JSON array, CSV or TSV\n"
    "  dump      databases and collections in mongodump's layout (BSON + metadata)\n"
    "  restore   a dump (micro-mongo's or MongoDB's) into a worker\n"
    "  backup    an online backup of a running worker (a data directory to start on)\n"
    "\n"
    "Every command reaches its worker by --uri mongodb://host:port/db, --address\n"
    "host:port|unix:/path, or --data-dir DIR (a worker of its own on that directory).\n";

}  // namespace

int main(int argc, char** argv) {
  namespace t = micromongo::tools;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "import") return t::RunImport(args);
  if (command == "export") return t::RunExport(args);
  if (command == "dump") return t::RunDump(args);
  if (command == "restore") return t::RunRestore(args);
  if (command == "backup") return t::RunBackup(args);
  std::fprintf(stderr, "micromongo: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
