#include "worker_process.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "document/status.h"
#include "micromongo/error.h"

extern char** environ;

namespace micromongo::internal {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void Fail(const std::string& message) {
  throw WorkerError(kHostUnreachable, ErrorCodeName(kHostUnreachable), message);
}

bool IsExecutable(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0 && !fs::is_directory(path);
}

std::string RuntimeRoot() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && *xdg != '\0' && ::access(xdg, W_OK) == 0) return xdg;
  const char* tmp = std::getenv("TMPDIR");
  if (tmp != nullptr && *tmp != '\0' && ::access(tmp, W_OK) == 0 && std::strlen(tmp) < 60) {
    return tmp;
  }
  return "/tmp";
}

}  // namespace

std::string FindServerBinary(const WorkerOptions& options) {
  if (!options.server_path.empty()) {
    if (!IsExecutable(options.server_path)) {
      Fail(StrCat("micromongo-server not found or not executable at '", options.server_path,
                  "' (WorkerOptions::server_path)"));
    }
    return options.server_path;
  }
  if (const char* env = std::getenv("MICROMONGO_SERVER"); env != nullptr && *env != '\0') {
    if (!IsExecutable(env)) {
      Fail(StrCat("micromongo-server not found or not executable at '", env,
                  "' ($MICROMONGO_SERVER)"));
    }
    return env;
  }
  std::vector<std::string> tried;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) tried.push_back((self.parent_path() / "micromongo-server").string());
  // An installed library finds the server of its own prefix: <prefix>/lib/.. /bin.
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&FindServerBinary), &info) != 0 && info.dli_fname) {
    fs::path lib = fs::weakly_canonical(fs::path(info.dli_fname), ec);
    // <prefix>/lib/libmicromongo.so or <prefix>/lib/<multiarch>/libmicromongo.so
    for (fs::path prefix : {lib.parent_path().parent_path(),
                            lib.parent_path().parent_path().parent_path()}) {
      if (!ec && IsExecutable((prefix / "bin" / "micromongo-server").string())) {
        tried.push_back((prefix / "bin" / "micromongo-server").string());
        break;
      }
    }
  }
#ifdef MICROMONGO_BUILD_SERVER
  tried.push_back(MICROMONGO_BUILD_SERVER);
#endif
#ifdef MICROMONGO_INSTALL_SERVER
  tried.push_back(MICROMONGO_INSTALL_SERVER);
#endif
  for (const std::string& path : tried) {
    if (IsExecutable(path)) return path;
  }
  std::string list;
  for (const std::string& p : tried) list += "\n  " + p;
  Fail(StrCat("cannot find micromongo-server; set WorkerOptions::server_path or "
              "MICROMONGO_SERVER. Tried:", list));
}

std::unique_ptr<WorkerProcess> WorkerProcess::Spawn(const WorkerOptions& options) {
  std::unique_ptr<WorkerProcess> w(new WorkerProcess());
  w->server_path_ = FindServerBinary(options);

  std::string tmpl = RuntimeRoot() + "/micromongo-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    Fail(StrCat("cannot create a runtime directory in ", RuntimeRoot(), ": ", std::strerror(errno)));
  }
  w->runtime_dir_ = tmpl;  // mkdtemp makes it 0700
  w->socket_path_ = w->runtime_dir_ + "/worker.sock";
  w->address_ = "unix:" + w->socket_path_;
  w->log_path_ = w->runtime_dir_ + "/worker.log";

  // The worker reads the pipe's other end; it sees EOF when every copy of the write end is
  // closed, i.e. when this process exits or dies. O_CLOEXEC keeps other children from
  // inheriting the write end.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) Fail(StrCat("pipe: ", std::strerror(errno)));
  int read_fd = fds[0];
  w->watch_fd_ = fds[1];
  constexpr int kChildWatchFd = 3;
  if (read_fd == kChildWatchFd) {  // dup2 onto itself would keep O_CLOEXEC set
    int moved = ::fcntl(read_fd, F_DUPFD_CLOEXEC, 10);
    ::close(read_fd);
    read_fd = moved;
  }

  std::vector<std::string> args = {w->server_path_, "--listen", w->address_, "--watch-fd",
                                   std::to_string(kChildWatchFd), "--runtime-dir", w->runtime_dir_};
  if (!options.data_dir.empty()) {
    args.push_back("--data-dir");
    args.push_back(options.data_dir);
  }
  if (options.sync_writes) args.push_back("--sync");
  if (options.record_cache_mb >= 0) {
    args.push_back("--record-cache-mb");
    args.push_back(std::to_string(options.record_cache_mb));
  }
  if (options.mongodb_listener) {
    w->mongodb_socket_path_ = w->runtime_dir_ + "/mongodb.sock";
    args.push_back("--mongodb-listen");
    args.push_back("unix:" + w->mongodb_socket_path_);
  }
  for (const auto& [name, value] : options.server_parameters) {
    args.push_back("--setParameter");
    args.push_back(name + "=" + value);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, w->log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  posix_spawn_file_actions_adddup2(&actions, read_fd, kChildWatchFd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A fresh signal mask and default dispositions: the application's blocked signals must
  // not leak into the worker.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, w->server_path_.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(read_fd);
  if (rc != 0) {
    std::string error = std::strerror(rc);
    w->Stop(std::chrono::milliseconds(0));
    Fail(StrCat("cannot start micromongo-server '", args[0], "': ", error));
  }
  w->pid_ = pid;
  return w;
}

WorkerProcess::~WorkerProcess() { Stop(std::chrono::milliseconds(5000)); }

bool WorkerProcess::Running() {
  std::lock_guard<std::mutex> l(mu_);
  if (pid_ <= 0 || exited_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    exit_status_ = status;
    return false;
  }
  return r == 0;
}

std::string WorkerProcess::ExitDescription() {
  Running();
  std::lock_guard<std::mutex> l(mu_);
  if (!exited_) return "is running";
  if (WIFSIGNALED(exit_status_)) return StrCat("was killed by signal ", WTERMSIG(exit_status_));
  return StrCat("exited with status ", WEXITSTATUS(exit_status_));
}

std::string WorkerProcess::LogTail() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  if (log.size() > 4000) log = "..." + log.substr(log.size() - 4000);
  while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) log.pop_back();
  return log;
}

void WorkerProcess::Stop(std::chrono::milliseconds grace) {
  std::lock_guard<std::mutex> l(mu_);
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (true) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || r < 0) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    exited_ = true;
    exit_status_ = status;
  }
  if (watch_fd_ >= 0) {
    ::close(watch_fd_);
    watch_fd_ = -1;
  }
  if (!runtime_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(runtime_dir_, ec);
    runtime_dir_.clear();
  }
}

}  // namespace micromongo::internal
