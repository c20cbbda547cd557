#include "wire_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cctype>
#include <cstdlib>

#include "ficus/testing/http_text.h"

namespace ficus::proxy::blackbox {

namespace {

using Clock = std::chrono::steady_clock;

using testing::IEquals;

std::string Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
    v.remove_suffix(1);
  return std::string(v);
}

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Fields of a head (lines after the first, up to the blank line).
void ParseFields(std::string_view block, std::vector<std::pair<std::string, std::string>>& out) {
  std::size_t pos = 0;
  while (pos < block.size()) {
    std::size_t eol = block.find('\n', pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol + 1;
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace_back(std::string(line.substr(0, colon)), Trim(line.substr(colon + 1)));
  }
}

}  // namespace

std::optional<std::string> WireAnswer::Field(std::string_view name) const {
  for (const auto& [n, v] : fields) {
    if (IEquals(n, name)) return v;
  }
  return std::nullopt;
}

int WireAnswer::Count(std::string_view name) const {
  int c = 0;
  for (const auto& [n, v] : fields) c += IEquals(n, name) ? 1 : 0;
  return c;
}

std::string WireAnswer::Describe() const {
  std::string s = version + " " + std::to_string(status) + " [" + reason + "]";
  for (int i : interim) s += " interim=" + std::to_string(i);
  s += complete ? " complete" : " INCOMPLETE";
  if (chunked) s += " chunked";
  if (close_delimited) s += " close-delimited";
  for (const auto& [n, v] : fields) s.append("\n  ").append(n).append(": ").append(v);
  for (const auto& [n, v] : trailers) s.append("\n  (trailer) ").append(n).append(": ").append(v);
  s += "\n  body " + std::to_string(body.size()) + " bytes";
  if (body.size() <= 200) s += ": " + body;
  return s;
}

WireClient::WireClient(uint16_t port, const char* source)
    : conn_(port, testing::RawClientOptions{"127.0.0.1", std::chrono::seconds(60),
                                            source ? source : ""}) {}

bool WireClient::Send(std::string_view bytes) {
  sent_at_ = Clock::now();
  return conn_.Send(bytes);
}

bool WireClient::Fill(Clock::time_point until) {
  if (eof_ || !conn_.connected()) return false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{conn_.fd(), POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0) return false;
    if (r == 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(conn_.fd(), buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
}

WireAnswer WireClient::Read(bool head_request, std::chrono::milliseconds timeout) {
  WireAnswer a;
  // Every exit, complete or cut, records when it happened.
  auto finish = [this](WireAnswer& w) {
    w.total_ms = MsSince(sent_at_);
    return w;
  };
  const auto until = Clock::now() + timeout;
  for (;;) {
    std::size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(until)) return finish(a);
    }
    const std::string head = pending_.substr(0, end + 2);
    pending_.erase(0, end + 4);
    const std::size_t eol = head.find("\r\n");
    const std::string line = head.substr(0, eol);
    const auto sp1 = line.find(' ');
    a.version = line.substr(0, sp1);
    a.status = std::atoi(line.c_str() + sp1 + 1);
    a.reason = sp1 + 5 <= line.size() ? line.substr(sp1 + 5) : std::string();
    a.fields.clear();
    ParseFields(std::string_view(head).substr(eol + 2), a.fields);
    if (a.status >= 100 && a.status < 200 && a.status != 101) {
      a.interim.push_back(a.status);
      continue;
    }
    break;
  }
  if (head_request || a.status == 204 || a.status == 304 || a.status == 101) {
    a.complete = true;
    return finish(a);
  }
  auto note_body = [&] {
    if (a.first_body_ms < 0 && !a.body.empty()) a.first_body_ms = MsSince(sent_at_);
  };
  const auto te = a.Field("Transfer-Encoding");
  if (te && IEquals(*te, "chunked")) {
    a.chunked = true;
    for (;;) {
      std::size_t eol;
      while ((eol = pending_.find("\r\n")) == std::string::npos) {
        if (!Fill(until)) return finish(a);
      }
      const std::size_t size = std::strtoul(pending_.c_str(), nullptr, 16);
      if (size == 0) {
        // Trailer fields up to the blank line ("0\r\n\r\n": none).
        std::size_t tend = std::string::npos;
        for (;;) {
          if (pending_.size() >= eol + 4 && pending_.compare(eol, 4, "\r\n\r\n") == 0) {
            tend = eol;
          } else {
            tend = pending_.find("\r\n\r\n", eol + 2);
          }
          if (tend != std::string::npos) break;
          if (!Fill(until)) return finish(a);
        }
        ParseFields(std::string_view(pending_).substr(eol + 2, tend + 2 - (eol + 2)), a.trailers);
        pending_.erase(0, tend + 4);
        a.complete = true;
        break;
      }
      while (pending_.size() < eol + 2 + size + 2) {
        if (!Fill(until)) {
          // What arrived of this chunk counts as received (truncated).
          if (pending_.size() > eol + 2) a.body.append(pending_.substr(eol + 2, size));
          note_body();
          return finish(a);
        }
      }
      a.body.append(pending_, eol + 2, size);
      note_body();
      pending_.erase(0, eol + 2 + size + 2);
    }
  } else if (const auto cl = a.Field("Content-Length")) {
    const std::size_t len = std::strtoull(cl->c_str(), nullptr, 10);
    for (;;) {
      const std::size_t take = std::min(len - a.body.size(), pending_.size());
      a.body.append(pending_, 0, take);
      pending_.erase(0, take);
      note_body();
      if (a.body.size() == len) {
        a.complete = true;
        break;
      }
      if (!Fill(until)) return finish(a);
    }
  } else {
    a.close_delimited = true;
    for (;;) {
      a.body += pending_;
      pending_.clear();
      note_body();
      if (!Fill(until)) break;
    }
    a.complete = eof_;
  }
  return finish(a);
}

bool WireClient::PeerClosed(std::chrono::milliseconds wait) {
  if (!pending_.empty()) return false;
  if (eof_) return true;
  Fill(Clock::now() + wait);
  return eof_ && pending_.empty();
}

std::string WireClient::ReadRaw(std::chrono::milliseconds wait) {
  Fill(Clock::now() + wait);
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace ficus::proxy::blackbox
