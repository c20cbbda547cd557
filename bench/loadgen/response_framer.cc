#include "response_framer.h"

#include <charconv>

#include "ficus/http/message.h"

namespace ficus::bench {
namespace {
constexpr std::size_t kMaxHead = std::size_t{64} * 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (http::IEquals(Trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}
}  // namespace

void ResponseFramer::Reset() {
  phase_ = Phase::kHead;
  pos_ = 0;
  remaining_ = 0;
  status_ = 0;
  keep_alive_ = true;
  error_.clear();
}

ResponseFramer::State ResponseFramer::Fail(std::string msg) {
  error_ = std::move(msg);
  return State::kError;
}

ResponseFramer::State ResponseFramer::Feed(std::string_view data) {
  if (phase_ == Phase::kHead) {
    const State s = ParseHead(data);
    if (s != State::kComplete) return s;
  }
  if (phase_ == Phase::kFixedBody) {
    const std::uint64_t have = data.size() - pos_;
    if (have < remaining_) return State::kNeedMore;
    pos_ += remaining_;
    remaining_ = 0;
    return State::kComplete;
  }
  return ParseChunked(data);
}

ResponseFramer::State ResponseFramer::ParseHead(std::string_view data) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return data.size() > kMaxHead ? Fail("response head over 64 KiB") : State::kNeedMore;
  }
  std::string_view head = data.substr(0, end + 2);
  const std::size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  // "HTTP/1.x SSS reason"
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    return Fail("bad status line: '" + std::string(line.substr(0, 64)) + "'");
  }
  unsigned status = 0;
  const auto [p, ec] = std::from_chars(line.data() + 9, line.data() + 12, status);
  if (ec != std::errc() || p != line.data() + 12 || status < 100 || status > 599) {
    return Fail("bad status code: '" + std::string(line.substr(0, 64)) + "'");
  }
  const bool http10 = line[7] == '0';
  bool keep = !http10, chunked = false, has_length = false;
  std::uint64_t length = 0;
  head.remove_prefix(eol + 2);
  while (!head.empty()) {
    const std::size_t e = head.find("\r\n");
    const std::string_view field = head.substr(0, e);
    head.remove_prefix(e + 2);
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) return Fail("header line without ':'");
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = Trim(field.substr(colon + 1));
    if (http::IEquals(name, "content-length")) {
      std::uint64_t v = 0;
      const auto [q, ec2] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec2 != std::errc() || q != value.data() + value.size() || (has_length && v != length)) {
        return Fail("bad Content-Length: '" + std::string(value) + "'");
      }
      has_length = true;
      length = v;
    } else if (http::IEquals(name, "transfer-encoding")) {
      if (!HasToken(value, "chunked")) return Fail("unsupported Transfer-Encoding");
      chunked = true;
    } else if (http::IEquals(name, "connection")) {
      if (HasToken(value, "close")) keep = false;
      if (HasToken(value, "keep-alive")) keep = true;
    }
  }
  status_ = status;
  keep_alive_ = keep;
  pos_ = end + 4;
  if (status < 200 || status == 204 || status == 304) {
    if (status < 200) {  // interim answer: skip it and frame the final one
      data.remove_prefix(pos_);
      const std::size_t skipped = pos_;
      Reset();
      const State s = ParseHead(data);
      pos_ += skipped;
      return s;
    }
    phase_ = Phase::kFixedBody;
    remaining_ = 0;
    return State::kComplete;
  }
  if (chunked) {
    phase_ = Phase::kChunkSize;
    return State::kComplete;
  }
  if (!has_length) return Fail("close-delimited body (no Content-Length, not chunked)");
  phase_ = Phase::kFixedBody;
  remaining_ = length;
  return State::kComplete;
}

ResponseFramer::State ResponseFramer::ParseChunked(std::string_view data) {
  for (;;) {
    switch (phase_) {
      case Phase::kChunkSize: {
        const std::size_t e = data.find("\r\n", pos_);
        if (e == std::string_view::npos) return State::kNeedMore;
        std::string_view line = data.substr(pos_, e - pos_);
        line = line.substr(0, line.find(';'));
        line = Trim(line);
        std::uint64_t size = 0;
        const auto [q, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (ec != std::errc() || q != line.data() + line.size()) return Fail("bad chunk size");
        pos_ = e + 2;
        if (size == 0) {
          phase_ = Phase::kTrailers;
        } else {
          remaining_ = size;
          phase_ = Phase::kChunkData;
        }
        break;
      }
      case Phase::kChunkData: {
        const std::uint64_t have = data.size() - pos_;
        if (have < remaining_) {
          pos_ += have;
          remaining_ -= have;
          return State::kNeedMore;
        }
        pos_ += remaining_;
        remaining_ = 0;
        phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd:
        if (data.size() - pos_ < 2) return State::kNeedMore;
        if (data.substr(pos_, 2) != "\r\n") return Fail("chunk data not followed by CRLF");
        pos_ += 2;
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kTrailers: {
        const std::size_t e = data.find("\r\n", pos_);
        if (e == std::string_view::npos) return State::kNeedMore;
        const bool last = e == pos_;
        pos_ = e + 2;
        if (last) {
          phase_ = Phase::kFixedBody;
          remaining_ = 0;
          return State::kComplete;
        }
        break;
      }
      default:
        return Fail("framer in a bad state");
    }
  }
}

}  // namespace ficus::bench
