#include "writer_process.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "ficus/testing/files.h"
#include "ficus/testing/http_text.h"
#include "ficus/testing/raw_client.h"
#include "ficus/testing/wait_for.h"

namespace ficus::writer::testing {

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& body, bool send_content_length) {
  HttpResult result;
  ficus::testing::RawClient c(static_cast<std::uint16_t>(port), std::chrono::seconds(30));
  if (!c.connected()) return result;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) {
    req += k;
    req += ": ";
    req += v;
    req += "\r\n";
  }
  if (send_content_length && (!body.empty() || method == "POST")) {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  c.Send(req);  // the server may answer (413) before reading everything
  const std::string in = c.ReadAll();
  if (in.find("\r\n\r\n") == std::string::npos || in.compare(0, 9, "HTTP/1.1 ") != 0) {
    return result;
  }
  result.status = ficus::testing::StatusOf(in);
  for (auto& [name, value] : ficus::testing::HeadersOf(in)) {
    result.headers[Lower(name)] = std::move(value);
  }
  result.body = ficus::testing::BodyOf(in);
  if (auto it = result.headers.find("content-length"); it != result.headers.end()) {
    std::size_t len = std::stoul(it->second);
    if (result.body.size() < len) {
      result.status = 0;  // truncated
    } else {
      result.body.resize(len);
    }
  }
  return result;
}

WriterProcess::WriterProcess(const std::string& data_dir, std::vector<std::string> extra_args,
                             std::vector<std::string> prefix) {
  log_path_ = data_dir + "/writer.log";
  stdout_path_ = data_dir + "/writer.out";
  std::vector<std::string> args = std::move(prefix);
  for (const char* a : {FICUS_WRITER_BINARY, "--listen", "127.0.0.1:0", "--data-dir"}) {
    args.emplace_back(a);
  }
  args.push_back(data_dir + "/db");
  for (auto& a : extra_args) args.push_back(std::move(a));
  std::remove(stdout_path_.c_str());  // a restart in the same dir prints a new port
  process_ = std::make_unique<ficus::testing::Process>(
      args, ficus::testing::ProcessOptions{stdout_path_, log_path_, {}, false});
  // The "listening on http://127.0.0.1:PORT" line (10 s at most).
  std::string line;
  ficus::testing::WaitFor(
      [&] {
        line = ficus::testing::ReadFile(stdout_path_);
        return line.find('\n') != std::string::npos || !process_->running();
      },
      std::chrono::seconds(10), std::chrono::milliseconds(5));
  line = line.substr(0, line.find('\n'));
  const std::size_t colon = line.rfind(':');
  if (line.find("listening on") == std::string::npos || colon == std::string::npos) return;
  const int port = std::atoi(line.c_str() + colon + 1);
  if (ficus::testing::WaitFor([&] { return Http(port, "GET", "/readyz").status == 200; },
                              std::chrono::seconds(5), std::chrono::milliseconds(25))) {
    port_ = port;
  }
}

WriterProcess::~WriterProcess() = default;  // Process SIGKILLs and reaps

void WriterProcess::Signal(int sig) {
  process_->Signal(sig);
}

int WriterProcess::Wait() {
  return process_->Wait(std::chrono::seconds(60)).value_or(-1);
}

}  // namespace ficus::writer::testing
