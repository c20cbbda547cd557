// Black-box test harness: runs the real profile-writer binary on 127.0.0.1
// port 0 with a temp data dir, and a tiny blocking HTTP/1.1 client.
// Not thread-safe per object; Client functions are free and thread-safe.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ficus::writer::testing {

struct HttpResult {
  int status = 0;  // 0: transport failure (connect/reset/EOF before a response)
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

// One request on a fresh connection (Connection: close). Never throws.
HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers = {},
                const std::string& body = "", bool send_content_length = true);

// A temp directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class WriterProcess {
 public:
  // Starts the binary; waits until it prints its port and /readyz is 200.
  // `prefix` runs it under another program (absolute path first, e.g.
  // {"/usr/bin/strace", "-f", ...}); the writer's stdout must stay its own.
  explicit WriterProcess(const std::string& data_dir, std::vector<std::string> extra_args = {},
                         std::vector<std::string> prefix = {});
  ~WriterProcess();  // SIGKILL if still running
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool started() const { return port_ > 0; }
  // Sends `sig`; Wait() returns the exit status (or 128+signal).
  void Signal(int sig);
  int Wait();
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

}  // namespace ficus::writer::testing
