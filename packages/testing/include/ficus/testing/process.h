// Process: a child program a test starts (a server under test, etcd, nginx,
// openssl), with its stdout and stderr appended to files, stopped by pid.
//
//   Process p({"/usr/sbin/nginx", "-c", conf}, dir + "/nginx");  // nginx.out, nginx.err
//   p.Signal(SIGTERM);
//   auto code = p.Wait(5s);   // exit code, 128+signal if killed, nullopt on timeout
//
// The child is started with posix_spawn: argv[0] is a path (or looked up in
// PATH with `search_path`), the environment is the test's plus `env`
// (overriding). Nothing runs in the child before exec, so it is safe from a
// test with threads.
//
// Errors: the constructor throws std::runtime_error naming the program when
// it cannot be started (missing, not executable).
// Ownership: the destructor SIGKILLs the child if it is still running and
// reaps it, so a failing test leaves no process behind.
// Threads: one thread uses an object at a time; Signal and pid are const and
// may be called from any thread while another waits.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ficus::testing {

struct ProcessOptions {
  std::string stdout_path;  // appended to ("" = /dev/null)
  std::string stderr_path;  // appended to ("" = /dev/null); may equal stdout_path
  std::vector<std::pair<std::string, std::string>> env;  // set in the child
  bool search_path = false;                              // argv[0] looked up in PATH
};

class Process {
 public:
  Process(const std::vector<std::string>& argv, const ProcessOptions& options);
  // stdout to <log_prefix>.out, stderr to <log_prefix>.err.
  Process(const std::vector<std::string>& argv, const std::string& log_prefix);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Sends `sig` (no-op once the child has been reaped).
  void Signal(int sig) const;
  // SIGKILL, then waits for the exit (kill -9 as a test's crash).
  void Kill();
  // Waits for exit: the exit code (128+signal if killed by one), or nullopt
  // when it is still running after `timeout`. Once reaped, returns the same
  // code again at once.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // True until the child has exited (reaps it when it has).
  bool running();
  // What it wrote to stdout and then stderr so far ("" if not in files).
  [[nodiscard]] std::string Logs() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  ProcessOptions options_;
};

// Runs argv to its end (PATH searched), stdout and stderr appended to `log`;
// the exit code, or nullopt when it ran longer than `timeout` (then killed)
// or could not start.
std::optional<int> RunToEnd(const std::vector<std::string>& argv, const std::string& log,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace ficus::testing
