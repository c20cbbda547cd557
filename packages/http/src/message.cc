#include "ficus/http/message.h"

#include <algorithm>
#include <cstring>

namespace ficus::http {

namespace {

inline char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

namespace {

// Eight bytes at a time (SWAR): header names and framing fields are compared
// and scanned on every forwarded request and response, where byte loops are
// the proxy's top user-space cost (profile in bench/RESULTS.md).
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

std::uint64_t Load8(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Every ASCII 'A'..'Z' byte of x lowered; other bytes (including >= 0x80) unchanged.
std::uint64_t LowerAscii8(std::uint64_t x) {
  const std::uint64_t low7 = x & ~kHighs;
  const std::uint64_t ge_a = low7 + kOnes * (0x80 - 'A');      // high bit: low7 >= 'A'
  const std::uint64_t gt_z = low7 + kOnes * (0x80 - 'Z' - 1);  // high bit: low7 > 'Z'
  const std::uint64_t upper = ge_a & ~gt_z & ~x & kHighs;      // and the byte is ASCII
  return x | (upper >> 2);                                     // 0x80 >> 2 == 0x20
}

// Non-zero when some byte of x equals b (exact as a boolean).
std::uint64_t HasByte(std::uint64_t x, unsigned char b) {
  const std::uint64_t y = x ^ (kOnes * b);
  return (y - kOnes) & ~y & kHighs;
}

}  // namespace

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  std::size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    if (LowerAscii8(Load8(a.data() + i)) != LowerAscii8(Load8(b.data() + i))) return false;
  }
  for (; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsFieldValueText(std::string_view s) {
  auto ok = [](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t x = Load8(s.data() + i);
    // Some byte < 0x20 (exact as a boolean for every byte value) or 0x7f:
    // look at these eight one by one (HTAB is allowed).
    if ((((x - kOnes * 0x20) & ~x & kHighs) | HasByte(x, 0x7f)) != 0) {
      for (std::size_t j = i; j < i + 8; ++j) {
        if (!ok(static_cast<unsigned char>(s[j]))) return false;
      }
    }
  }
  for (; i < s.size(); ++i) {
    if (!ok(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool ContainsCrLf(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    const std::uint64_t x = Load8(s.data() + i);
    if ((HasByte(x, '\r') | HasByte(x, '\n')) != 0) return true;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '\r' || s[i] == '\n') return true;
  }
  return false;
}

void Headers::Add(std::string_view name, std::string_view value) {
  if (!crlf_ && (ContainsCrLf(name) || ContainsCrLf(value))) crlf_ = true;
  AddParsed(name, value);
}

void Headers::AddParsed(std::string_view name, std::string_view value) {
  Entry e{static_cast<std::uint32_t>(buf_.size()), static_cast<std::uint32_t>(name.size()),
          static_cast<std::uint32_t>(value.size())};
  buf_.append(name);
  buf_.append(value);
  entries_.push_back(e);
}

bool Headers::Aliases(std::string_view s) const {
  return !s.empty() && s.data() >= buf_.data() && s.data() < buf_.data() + buf_.size();
}

void Headers::Set(std::string_view name, std::string_view value) {
  if (Aliases(name) || Aliases(value)) {  // Add may reallocate buf_: copy first
    const std::string n(name), v(value);
    Remove(n);
    Add(n, v);
    return;
  }
  Remove(name);
  Add(name, value);
}

std::size_t Headers::Remove(std::string_view name) {
  // Removing entries never moves bytes of buf_, so `name` may alias it.
  auto it = std::remove_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
    return IEquals(std::string_view(buf_.data() + e.offset, e.name_len), name);
  });
  std::size_t removed = static_cast<std::size_t>(entries_.end() - it);
  entries_.erase(it, entries_.end());
  return removed;
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (IEquals(std::string_view(buf_.data() + e.offset, e.name_len), name)) {
      return std::string_view(buf_.data() + e.offset + e.name_len, e.value_len);
    }
  }
  return std::nullopt;
}

std::size_t Headers::Count(std::string_view name) const {
  std::size_t n = 0;
  for (const Entry& e : entries_) {
    if (IEquals(std::string_view(buf_.data() + e.offset, e.name_len), name)) ++n;
  }
  return n;
}

Headers::Field Headers::operator[](std::size_t i) const {
  const Entry& e = entries_[i];
  return {std::string_view(buf_.data() + e.offset, e.name_len),
          std::string_view(buf_.data() + e.offset + e.name_len, e.value_len)};
}

void Headers::clear() {
  buf_.clear();
  entries_.clear();
  crlf_ = false;
}

void Headers::reserve(std::size_t fields, std::size_t bytes) {
  entries_.reserve(fields);
  buf_.reserve(bytes);
}

std::string_view Request::Path() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::Query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view q = Query();
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (k == name || PercentDecode(k) == name) return PercentDecode(v);
  }
  return std::nullopt;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && HexVal(s[i + 1]) >= 0 && HexVal(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexVal(s[i + 1]) * 16 + HexVal(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Response Response::Json(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", "application/json; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response Response::Error(unsigned status, std::string_view msg) {
  std::string body;
  body.reserve(40 + msg.size());
  body += "{\"ret\":";
  body += std::to_string(status);
  body += ",\"data\":null,\"msg\":\"";
  AppendJsonEscaped(body, msg);
  body += "\"}";
  return Json(status, std::move(body));
}

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPreconditionFailed:
      return 422;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kUnsupported:
      return 415;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

Response Response::Text(unsigned status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.headers.Add("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

FieldRole FramingRole(std::string_view name) {
  // By length first: one comparison at most for the usual end-to-end field.
  switch (name.size()) {
    case 2:
      return IEquals(name, "te") ? FieldRole::kHopByHop : FieldRole::kEndToEnd;
    case 7:
      return IEquals(name, "trailer") || IEquals(name, "upgrade") ? FieldRole::kHopByHop
                                                                  : FieldRole::kEndToEnd;
    case 10:
      if (IEquals(name, "connection")) return FieldRole::kConnection;
      return IEquals(name, "keep-alive") ? FieldRole::kHopByHop : FieldRole::kEndToEnd;
    case 14:
      return IEquals(name, "content-length") ? FieldRole::kContentLength : FieldRole::kEndToEnd;
    case 16:
      return IEquals(name, "proxy-connection") ? FieldRole::kHopByHop : FieldRole::kEndToEnd;
    case 17:
      return IEquals(name, "transfer-encoding") ? FieldRole::kTransferEncoding
                                                : FieldRole::kEndToEnd;
    case 18:
      return IEquals(name, "proxy-authenticate") ? FieldRole::kHopByHop : FieldRole::kEndToEnd;
    case 19:
      return IEquals(name, "proxy-authorization") ? FieldRole::kHopByHop : FieldRole::kEndToEnd;
    default:
      return FieldRole::kEndToEnd;
  }
}

void StripHopByHop(Headers& headers) {
  // Collect the names listed in Connection first (they may be many values).
  std::vector<std::string> listed;
  for (auto f : headers) {
    if (!IEquals(f.name, "connection")) continue;
    std::string_view v = f.value;
    while (!v.empty()) {
      auto comma = v.find(',');
      std::string_view tok = TrimOws(v.substr(0, comma));
      // Never let a Connection token strip the framing header we recompute
      // anyway, nor Host (a hostile client could otherwise drop it).
      if (!tok.empty() && !IEquals(tok, "host")) listed.emplace_back(tok);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  headers.RemoveIf([&](Headers::Field f) {
    const FieldRole role = FramingRole(f.name);
    if (role != FieldRole::kEndToEnd && role != FieldRole::kContentLength) return true;
    for (const auto& name : listed) {
      if (IEquals(f.name, name)) return true;
    }
    return false;
  });
}

}  // namespace ficus::http
