// micromongo backup: an online backup of a running worker (AdminService.Backup: RocksDB
// checkpoints written by the worker while writers go on). Restoring is starting a worker
// on the copy: micromongo-server --data-dir DIR.

#include <filesystem>

#include "commands.h"
#include "connect.h"
#include "progress.h"

namespace micromongo::tools {
namespace {

std::vector<FlagSpec> BackupFlags() {
  std::vector<FlagSpec> specs = ConnectionFlags();
  specs.push_back({"out", true, "the backup directory: new or empty, on the worker's machine", "o"});
  return specs;
}

int Backup(const Flags& flags) {
  if (!flags.Has("out")) throw UsageError("name the backup directory with --out");
  // The worker may run elsewhere in the file system tree: give it an absolute path.
  std::string out = std::filesystem::absolute(flags.Get("out")).lexically_normal().string();
  const bool quiet = flags.Has("quiet");
  Connection connection(flags);
  ProgressStyle style = DefaultProgressStyle(stderr, quiet);
  std::unique_ptr<Progress> progress;
  auto started = std::chrono::steady_clock::now();
  BackupProgress last = connection.client().Backup(out, [&](const BackupProgress& p) {
    if (progress == nullptr) progress = std::make_unique<Progress>("backup", p.databases_total, -1, style);
    progress->Update(p.databases_done, p.bytes);
    if (style == ProgressStyle::kLines) {
      std::fprintf(stderr, "backup: database %s copied (%d/%d)\n", p.database.c_str(),
                   p.databases_done, p.databases_total);
    }
  });
  if (progress) progress->Finish();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!quiet) {
    std::fprintf(stderr, "backup of %d database(s), %s, into %s in %s; start a worker on it with\n"
                 "  micromongo-server --data-dir %s\n",
                 last.databases_total, Progress::Bytes(last.bytes).c_str(), out.c_str(),
                 Progress::Duration(seconds).c_str(), out.c_str());
  }
  return 0;
}

}  // namespace

int RunBackup(const std::vector<std::string>& args) {
  return RunCommand("backup",
                    "micromongo backup (--uri URI | --address ADDR | --data-dir DIR) --out DIR",
                    args, BackupFlags(), Backup);
}

}  // namespace micromongo::tools
