// HTTP/1.1 message types shared by the server and the client.
//
// Headers: an ordered list of (name, value) pairs exactly as received (or as
// they will be sent), with case-insensitive lookup. Storage is one string
// plus one small vector, so a request with 10 headers costs two allocations,
// and copying a Headers copies two buffers.
//
// Request / Response: plain value types (movable, copyable). They own all
// their bytes; views returned by accessors live as long as the object and
// are invalidated by mutation of the same field.
//
// Threads: none of these types is synchronized; one owner at a time.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/json_text.h"
#include "ficus/result.h"

namespace ficus::http {

class BodyStream;    // body_stream.h
class ResponseBody;  // response_body.h

// ASCII case-insensitive equality (header names, tokens).
bool IEquals(std::string_view a, std::string_view b);
// True when s contains a CR or an LF byte (a field that must not be sent).
bool ContainsCrLf(std::string_view s);
// True when every byte may appear in a field value (RFC 9110 5.5): HTAB,
// SP, VCHAR and obs-text; no other control byte (CR, LF, NUL, DEL...).
bool IsFieldValueText(std::string_view s);

class Headers {
 public:
  struct Field {
    std::string_view name;
    std::string_view value;
  };

  // Appends a field (duplicates allowed; order kept). Name and value are
  // copied. A field with CR or LF is kept but never sent: the server and
  // client skip such fields (see MayContainCrLf).
  void Add(std::string_view name, std::string_view value);
  // Add() for text known to hold no CR or LF: fields from a parser that
  // rejects them (the request parser, Beast's response parser) or built only
  // from such fields. Skips the scan; the hot path of a proxy.
  void AddParsed(std::string_view name, std::string_view value);
  // False when no field holds CR or LF (AddParsed() trusted): serializers
  // then copy every field without scanning each one.
  bool MayContainCrLf() const { return crlf_; }
  // Removes every field with this name, then adds one.
  void Set(std::string_view name, std::string_view value);
  // Removes every field with this name; returns how many were removed.
  std::size_t Remove(std::string_view name);
  // Removes every field for which pred(Field) is true, keeping the order of
  // the rest; returns how many were removed. No allocation: the bytes stay
  // in the buffer (views of kept fields stay valid until the next Add).
  template <class Pred>
  std::size_t RemoveIf(Pred pred) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (!pred((*this)[i])) entries_[kept++] = entries_[i];
    }
    const std::size_t removed = entries_.size() - kept;
    entries_.resize(kept);
    return removed;
  }
  // First value with this name, if any.
  std::optional<std::string_view> Get(std::string_view name) const;
  std::size_t Count(std::string_view name) const;
  bool Contains(std::string_view name) const { return Get(name).has_value(); }

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  Field operator[](std::size_t i) const;
  void clear();
  void reserve(std::size_t fields, std::size_t bytes);

  class const_iterator {  // NOLINT(readability-identifier-naming): STL iterator name
   public:
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    const_iterator() = default;
    const_iterator(const Headers* h, std::size_t i) : h_(h), i_(i) {}
    Field operator*() const { return (*h_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      auto c = *this;
      ++i_;
      return c;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const Headers* h_ = nullptr;
    std::size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, entries_.size()}; }

 private:
  bool Aliases(std::string_view s) const;  // s points into buf_
  struct Entry {
    std::uint32_t offset;
    std::uint32_t name_len;
    std::uint32_t value_len;
  };
  std::string buf_;
  std::vector<Entry> entries_;
  bool crlf_ = false;  // some field added with Add() holds CR or LF
};

struct Request {
  std::string method = "GET";                                     // as sent (case-sensitive token)
  boost::beast::http::verb verb = boost::beast::http::verb::get;  // verb::unknown if not standard
  std::string target = "/";                                       // raw request-target
  unsigned version = 11;                                          // 10 or 11
  Headers headers;
  std::string body;
  // Server side, streaming mode only (ServerOptions::stream_body): the body
  // is not in `body` but read from here; owned by the connection, valid
  // while the handler runs. nullptr: `body` holds the whole body.
  BodyStream* body_stream = nullptr;
  boost::asio::ip::tcp::endpoint remote;  // peer address (server side only)
  bool keep_alive = true;                 // what the client asked for (server side)

  // Path part of the target (before '?'), not decoded.
  std::string_view Path() const;
  // Query string (after '?', without it), raw; empty if none.
  std::string_view Query() const;
  // First value of query parameter `name`, percent-decoded ('+' is a space).
  // nullopt if absent; an invalid %-escape is kept literally.
  std::optional<std::string> QueryParam(std::string_view name) const;
  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }
};

struct Response {
  unsigned status = 200;
  // Reason phrase sent on the status line; empty: the standard phrase of
  // `status`, or none for a code without one ("HTTP/1.1 599 ").
  std::string reason;
  Headers headers;
  std::string body;
  // The body's length when it is not body.size(): the length a GET would
  // have had, for the Content-Length of an answer to HEAD (the server sends
  // no body for HEAD either way).
  std::optional<std::uint64_t> content_length;
  // Streamed body (optional): after `body` (what the handler already has,
  // may be empty), the server writes what `stream` yields, piece by piece
  // (response_body.h). `content_length` then declares the whole length
  // (body + stream) when known; without it the server frames the body
  // chunked for HTTP/1.1 clients and by closing the connection for
  // HTTP/1.0 ones.
  std::shared_ptr<ResponseBody> stream;

  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }

  // A response with Content-Type application/json; charset=utf-8.
  static Response Json(unsigned status, std::string body);
  // The Ficus envelope {"ret":status,"data":null,"msg":"<msg escaped>"}
  // (packages/api-contract/CONTRACT.md), Content-Type JSON.
  static Response Error(unsigned status, std::string_view msg);
  static Response Text(unsigned status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
};

// THE mapping from error codes to HTTP statuses (STYLE.md: one function):
// InvalidArgument 400, NotFound 404, Conflict 409, PreconditionFailed 422,
// TooLarge 413, Unsupported 415, Unavailable 503, Timeout 504, Internal 500.
int HttpStatusFor(ErrorCode code);

// JSON-escapes `s` onto `out` (ficus/json_text.h: as PHP's json_encode does
// for the contract's envelope).
using ficus::AppendJsonEscaped;

// Percent-decodes `s` ('+' becomes a space). Invalid escapes are kept as-is.
std::string PercentDecode(std::string_view s);

// What a proxy does with a field (RFC 9110 7.6.1, RFC 9112 6): framing it
// recomputes, Connection (which may name more hop-by-hop fields), another
// hop-by-hop field (Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade,
// Proxy-Authenticate, Proxy-Authorization), or an end-to-end field.
enum class FieldRole { kEndToEnd, kContentLength, kTransferEncoding, kConnection, kHopByHop };
FieldRole FramingRole(std::string_view name);

// Hop-by-hop handling for proxies (RFC 9110 section 7.6.1): removes
// Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
// Upgrade, Proxy-Authenticate, Proxy-Authorization, and every field named in
// a Connection header. Content-Length is left alone (the sender recomputes it
// anyway).
void StripHopByHop(Headers& headers);

}  // namespace ficus::http
