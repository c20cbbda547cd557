#include "ficus/http/request_parser.h"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstring>
#include <limits>

namespace ficus::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

bool IsTchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Beast does the actual parse (and the chunked decoding); we only collect.
class BeastRequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit BeastRequestParser(Request* r) : r_(r), body_(&r->body) {}
  void SetBodyOutput(std::string* out) { body_ = out ? out : &r_->body; }

 private:
  // Method, target, version and fields were recorded by ValidateHead() from
  // the same bytes; Beast runs only for body framing.
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int, beast::string_view, int, beast::error_code& ec) override {
    ec = bhttp::error::bad_method;  // never a response here
  }
  // Same OWS trimming as ValidateHead's, obs-fold refused there; trailers
  // are dropped.
  void on_field_impl(bhttp::field, beast::string_view, beast::string_view,
                     beast::error_code&) override {}
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length && *length <= (1u << 26) && body_ == &r_->body) {
      r_->body.reserve(static_cast<std::size_t>(*length));
    }
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    body_->append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    body_->append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  Request* r_;
  std::string* body_;
};

}  // namespace

class RequestParser::Impl {
 public:
  std::optional<BeastRequestParser> beast;
  bool beast_used = true;   // fed since its construction: rebuild on Reset()
  std::size_t scanned = 0;  // bytes of the head already checked for bare LF
  bool body_limit_set = false;
};

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kBadRequest:
      return "bad_request";
    case RejectReason::kUriTooLong:
      return "uri_too_long";
    case RejectReason::kHeaderTooLarge:
      return "header_too_large";
    case RejectReason::kBodyTooLarge:
      return "body_too_large";
    case RejectReason::kHeaderTimeout:
      return "header_timeout";
    case RejectReason::kBodyTimeout:
      return "body_timeout";
    case RejectReason::kMaxConnections:
      return "max_connections";
  }
  return "unknown";
}

std::string BodyTooLargeMessage(std::uint64_t limit) {
  return "body: larger than " + std::to_string(limit) + " bytes";
}
std::string HeaderTooLargeMessage(std::size_t limit) {
  return "header: larger than " + std::to_string(limit) + " bytes";
}
std::string UriTooLongMessage(std::size_t limit) {
  return "uri: longer than " + std::to_string(limit) + " bytes";
}

RequestParser::RequestParser(const ParserLimits& limits)
    : limits_(limits), impl_(std::make_unique<Impl>()) {
  Reset();
}

RequestParser::~RequestParser() = default;

void RequestParser::Reset() {
  request_.method.clear();
  request_.target.clear();
  request_.headers.clear();
  request_.body.clear();
  request_.body_stream = nullptr;
  request_.version = 11;
  request_.keep_alive = true;
  rejection_ = Rejection{};
  content_length_.reset();
  chunked_ = false;
  expect_continue_ = false;
  bodyless_ = false;
  connection_close_ = false;
  connection_keep_alive_ = false;
  connection_plain_ = true;
  impl_->scanned = 0;
  impl_->body_limit_set = false;
  if (impl_->beast_used) {  // a bodyless request leaves Beast untouched: no rebuild
    impl_->beast.reset();
    impl_->beast.emplace(&request_);
    impl_->beast->eager(true);
    impl_->beast->header_limit(std::numeric_limits<std::uint32_t>::max());
    impl_->beast->body_limit(boost::none);  // the declared length is checked by us, later
    impl_->beast_used = false;
  }
}

RequestParser::Status RequestParser::Reject(unsigned status, RejectReason reason,
                                            std::string message) {
  rejection_.status = status;
  rejection_.reason = reason;
  rejection_.message = std::move(message);
  return Status::kRejected;
}

RequestParser::Status RequestParser::ParseHead(std::string_view data, std::size_t* consumed) {
  *consumed = 0;
  // RFC 9112 2.2: ignore empty lines before the request line.
  std::size_t start = 0;
  while (start + 1 < data.size() && data[start] == '\r' && data[start + 1] == '\n') start += 2;
  if (start > 64) return Reject(400, RejectReason::kBadRequest, "request line: malformed");

  // Bare LF anywhere in the head is a framing ambiguity: refuse at once.
  std::size_t from = std::max(start, impl_->scanned);
  std::size_t end = std::string_view::npos;
  for (std::size_t i = from; i < data.size(); ++i) {
    const void* lf = std::memchr(data.data() + i, '\n', data.size() - i);
    if (lf == nullptr) break;
    std::size_t pos = static_cast<const char*>(lf) - data.data();
    if (pos == start || data[pos - 1] != '\r') {
      return Reject(400, RejectReason::kBadRequest, "request: line not ended by CRLF");
    }
    if (pos >= start + 3 && data[pos - 2] == '\n' && data[pos - 3] == '\r') {
      end = pos + 1;
      break;
    }
    i = pos;
  }
  if (end == std::string_view::npos) {
    impl_->scanned = data.size();
    std::string_view rest = data.substr(start);
    std::size_t first_lf = rest.find('\n');
    std::size_t line_len = first_lf == std::string_view::npos ? rest.size() : first_lf;
    // "METHOD " + target + " HTTP/1.1\r": some slack over the URI limit.
    if (line_len > limits_.max_uri_bytes + 32 && first_lf == std::string_view::npos) {
      return Reject(414, RejectReason::kUriTooLong, UriTooLongMessage(limits_.max_uri_bytes));
    }
    if (rest.size() >= limits_.max_header_bytes) {
      if (first_lf == std::string_view::npos) {
        return Reject(414, RejectReason::kUriTooLong, UriTooLongMessage(limits_.max_uri_bytes));
      }
      return Reject(431, RejectReason::kHeaderTooLarge,
                    HeaderTooLargeMessage(limits_.max_header_bytes));
    }
    return Status::kNeedMore;
  }

  std::string_view head = data.substr(start, end - start);
  Status st = ValidateHead(head);
  if (st == Status::kRejected) return st;
  if (head.size() > limits_.max_header_bytes) {
    return Reject(431, RejectReason::kHeaderTooLarge,
                  HeaderTooLargeMessage(limits_.max_header_bytes));
  }

  if (!content_length_ && !chunked_ && connection_plain_) {
    // No body (RFC 9112 6.3): ValidateHead() already took everything Beast
    // would; keep-alive as Beast decides it.
    bodyless_ = true;
    request_.keep_alive = request_.version == 11 ? !connection_close_ : connection_keep_alive_;
    *consumed = end;
    return Status::kDone;
  }
  beast::error_code ec;
  impl_->beast_used = true;
  std::size_t used = impl_->beast->put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec || !impl_->beast->is_header_done() || used != head.size()) {
    return Reject(400, RejectReason::kBadRequest,
                  "request: malformed (" + (ec ? ec.message() : std::string("incomplete")) + ")");
  }
  request_.keep_alive = impl_->beast->keep_alive();
  *consumed = end;
  return Status::kDone;
}

RequestParser::Status RequestParser::ValidateHead(std::string_view head) {
  // Request line.
  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) {
    return Reject(400, RejectReason::kBadRequest, "request line: malformed");
  }
  for (std::size_t i = 0; i < sp1; ++i) {
    if (!IsTchar(static_cast<unsigned char>(line[i]))) {
      return Reject(400, RejectReason::kBadRequest, "request line: invalid method");
    }
  }
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    return Reject(400, RejectReason::kBadRequest, "request line: malformed");
  }
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.size() > limits_.max_uri_bytes) {
    return Reject(414, RejectReason::kUriTooLong, UriTooLongMessage(limits_.max_uri_bytes));
  }
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return Reject(400, RejectReason::kBadRequest, "request line: invalid target");
    }
  }
  std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return Reject(400, RejectReason::kBadRequest, "request line: unsupported HTTP version");
  }
  bool http11 = version == "HTTP/1.1";
  request_.method.assign(line.data(), sp1);
  request_.verb = bhttp::string_to_verb(request_.method);
  request_.target.assign(target.data(), target.size());
  request_.version = http11 ? 11 : 10;
  request_.headers.clear();

  // Field lines.
  int content_length_count = 0, transfer_encoding_count = 0, host_count = 0;
  std::size_t pos = eol + 2;
  while (pos < head.size()) {
    std::size_t next = head.find("\r\n", pos);
    std::string_view fl = head.substr(pos, next - pos);
    pos = next + 2;
    if (fl.empty()) break;  // end of head
    if (fl.front() == ' ' || fl.front() == '\t') {
      return Reject(400, RejectReason::kBadRequest, "header: obs-fold not allowed");
    }
    std::size_t colon = fl.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Reject(400, RejectReason::kBadRequest, "header: invalid name");
    }
    std::string_view name = fl.substr(0, colon);
    for (char c : name) {
      if (!IsTchar(static_cast<unsigned char>(c))) {
        return Reject(400, RejectReason::kBadRequest, "header: invalid name");
      }
    }
    std::string_view value = fl.substr(colon + 1);
    if (!IsFieldValueText(value)) {
      return Reject(400, RejectReason::kBadRequest, "header: invalid value");
    }
    value = TrimOws(value);
    request_.headers.AddParsed(name, value);  // CR/LF refused just above
    if (IEquals(name, "connection")) {
      std::string_view v = value;
      for (;;) {
        const std::size_t comma = v.find(',');
        const std::string_view tok = TrimOws(v.substr(0, comma));
        bool token = !tok.empty();
        for (char c : tok) token = token && IsTchar(static_cast<unsigned char>(c));
        if (!token) connection_plain_ = false;  // Beast judges the odd shapes
        if (IEquals(tok, "close")) connection_close_ = true;
        if (IEquals(tok, "keep-alive")) connection_keep_alive_ = true;
        if (comma == std::string_view::npos) break;
        v = v.substr(comma + 1);
      }
    } else if (IEquals(name, "content-length")) {
      ++content_length_count;
      if (value.empty() || value.size() > 19) {
        return Reject(400, RejectReason::kBadRequest, "Content-Length: invalid");
      }
      std::uint64_t v = 0;
      for (char c : value) {
        if (c < '0' || c > '9') {
          return Reject(400, RejectReason::kBadRequest, "Content-Length: invalid");
        }
        v = v * 10 + static_cast<unsigned>(c - '0');
      }
      content_length_ = v;
    } else if (IEquals(name, "transfer-encoding")) {
      ++transfer_encoding_count;
      if (!IEquals(value, "chunked")) {
        return Reject(400, RejectReason::kBadRequest,
                      "Transfer-Encoding: only chunked is supported");
      }
      chunked_ = true;
    } else if (IEquals(name, "host")) {
      ++host_count;
    } else if (IEquals(name, "expect")) {
      if (IEquals(value, "100-continue")) expect_continue_ = true;
    }
  }
  if (content_length_count > 1) {
    return Reject(400, RejectReason::kBadRequest, "Content-Length: duplicate");
  }
  if (transfer_encoding_count > 1) {
    return Reject(400, RejectReason::kBadRequest, "Transfer-Encoding: duplicate");
  }
  if (content_length_count && transfer_encoding_count) {
    return Reject(400, RejectReason::kBadRequest,
                  "Transfer-Encoding: not allowed with Content-Length");
  }
  if (http11 && host_count == 0) return Reject(400, RejectReason::kBadRequest, "Host: required");
  if (host_count > 1) return Reject(400, RejectReason::kBadRequest, "Host: duplicate");
  return Status::kDone;
}

void RequestParser::SetBodyOutput(std::string* out) {
  impl_->beast->SetBodyOutput(out);
}

bool RequestParser::body_done() const {
  return bodyless_ || impl_->beast->is_done();
}

std::optional<Rejection> RequestParser::CheckDeclaredLength() const {
  if (content_length_ && *content_length_ > limits_.max_body_bytes) {
    return Rejection{413, RejectReason::kBodyTooLarge, BodyTooLargeMessage(limits_.max_body_bytes)};
  }
  return std::nullopt;
}

RequestParser::Status RequestParser::ParseBody(std::string_view data, std::size_t* consumed) {
  *consumed = 0;
  if (bodyless_) return Status::kDone;
  auto& p = *impl_->beast;
  if (!impl_->body_limit_set) {
    p.body_limit(limits_.max_body_bytes);
    impl_->body_limit_set = true;
  }
  if (content_length_ && *content_length_ > limits_.max_body_bytes) {
    auto r = *CheckDeclaredLength();
    return Reject(r.status, r.reason, std::move(r.message));
  }
  while (!p.is_done()) {
    if (*consumed == data.size()) return Status::kNeedMore;
    beast::error_code ec;
    std::size_t n =
        p.put(boost::asio::buffer(data.data() + *consumed, data.size() - *consumed), ec);
    *consumed += n;
    if (ec == bhttp::error::need_more) return Status::kNeedMore;
    if (ec == bhttp::error::body_limit) {
      return Reject(413, RejectReason::kBodyTooLarge, BodyTooLargeMessage(limits_.max_body_bytes));
    }
    if (ec) return Reject(400, RejectReason::kBadRequest, "body: " + ec.message());
    if (n == 0 && !p.is_done()) return Status::kNeedMore;
  }
  return Status::kDone;
}

RequestParser::Status ParseRequest(std::string_view bytes, const ParserLimits& limits, Request* out,
                                   Rejection* rejection, std::size_t* consumed) {
  RequestParser parser(limits);
  std::size_t head = 0;
  auto st = parser.ParseHead(bytes, &head);
  *consumed = head;
  if (st == RequestParser::Status::kDone) {
    if (auto r = parser.CheckDeclaredLength()) {
      *rejection = *r;
      return RequestParser::Status::kRejected;
    }
    std::size_t body = 0;
    st = parser.ParseBody(bytes.substr(head), &body);
    *consumed += body;
  }
  if (st == RequestParser::Status::kRejected) *rejection = parser.rejection();
  if (st == RequestParser::Status::kDone) *out = std::move(parser.request());
  return st;
}

}  // namespace ficus::http
