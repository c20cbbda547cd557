#include "ficus/testing/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

#include "ficus/testing/files.h"

extern char** environ;

namespace ficus::testing {

namespace {

constexpr int kFileFlags = O_WRONLY | O_CREAT | O_APPEND;

// The test's environment with `overrides` set (all built before the spawn).
std::vector<std::string> ChildEnv(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::map<std::string, std::string> env;
  std::vector<std::string> order;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    const auto eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    if (env.emplace(key, eq == std::string::npos ? "" : kv.substr(eq + 1)).second) {
      order.push_back(key);
    }
  }
  for (const auto& [k, v] : overrides) {
    if (env.find(k) == env.end()) order.push_back(k);
    env[k] = v;
  }
  std::vector<std::string> out;
  out.reserve(order.size());
  for (const auto& k : order) out.push_back(k + "=" + env[k]);
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Process::Process(const std::vector<std::string>& argv, const std::string& log_prefix)
    : Process(argv, ProcessOptions{log_prefix + ".out", log_prefix + ".err", {}, false}) {}

Process::Process(const std::vector<std::string>& argv, const ProcessOptions& options)
    : options_(options) {
  if (argv.empty()) throw std::runtime_error("Process: empty argv");
  std::vector<std::string> args = argv;
  std::vector<std::string> env = ChildEnv(options.env);
  std::vector<char*> arg_ptrs = Pointers(args);
  std::vector<char*> env_ptrs = Pointers(env);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = options.stdout_path.empty() ? "/dev/null" : options.stdout_path;
  const std::string err = options.stderr_path.empty() ? "/dev/null" : options.stderr_path;
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), kFileFlags, 0644);
  if (err == out) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), kFileFlags, 0644);
  }
  // The child gets default signal dispositions and an empty mask (a test
  // runner may block or ignore signals the server relies on).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const int rc = options.search_path ? ::posix_spawnp(&pid_, args[0].c_str(), &actions, &attr,
                                                      arg_ptrs.data(), env_ptrs.data())
                                     : ::posix_spawn(&pid_, args[0].c_str(), &actions, &attr,
                                                     arg_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("Process: cannot start " + args[0] + ": " + std::strerror(rc));
  }
}

Process::~Process() {
  if (running()) Kill();
}

void Process::Signal(int sig) const {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

void Process::Kill() {
  if (!running()) return;
  Signal(SIGKILL);
  Wait(std::chrono::seconds(10));
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!status_) {
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return status_;
}

bool Process::running() {
  if (pid_ <= 0 || status_) return false;
  return !Wait(std::chrono::milliseconds(0)).has_value();
}

std::string Process::Logs() const {
  std::string logs;
  if (!options_.stdout_path.empty()) logs += ReadFile(options_.stdout_path);
  if (!options_.stderr_path.empty() && options_.stderr_path != options_.stdout_path) {
    logs += ReadFile(options_.stderr_path);
  }
  return logs;
}

std::optional<int> RunToEnd(const std::vector<std::string>& argv, const std::string& log,
                            std::chrono::milliseconds timeout) {
  try {
    Process p(argv, ProcessOptions{log, log, {}, true});
    auto code = p.Wait(timeout);
    if (!code) p.Kill();
    return code;
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

}  // namespace ficus::testing
