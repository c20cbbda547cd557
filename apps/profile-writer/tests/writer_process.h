// Black-box test harness: runs the real profile-writer binary on 127.0.0.1
// port 0 with a temp data dir, and a tiny blocking HTTP/1.1 client; both on
// packages/testing (child process, temp dir, raw client, wait-for).
// Not thread-safe per object; Http is free and thread-safe.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ficus/testing/process.h"
#include "ficus/testing/temp_dir.h"

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

// A temp directory (ficus-writer-bb-*) removed at destruction unless
// FICUS_KEEP_TMP is set.
class TempDir : public ficus::testing::TempDir {
 public:
  TempDir() : ficus::testing::TempDir("ficus-writer-bb") {}
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
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  bool started() const { return port_ > 0; }
  // Sends `sig`; Wait() returns the exit status (or 128+signal), -1 when it
  // has not exited within 60 s.
  void Signal(int sig);
  int Wait();
  // stderr (the writer's log); stdout (its port line) is in stdout_path().
  const std::string& log_path() const { return log_path_; }
  const std::string& stdout_path() const { return stdout_path_; }

 private:
  std::unique_ptr<ficus::testing::Process> process_;
  int port_ = 0;
  std::string log_path_;
  std::string stdout_path_;
};

}  // namespace ficus::writer::testing
