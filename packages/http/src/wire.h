// Serialization of message heads onto the wire (internal).
#pragma once

#include <string>

#include "ficus/http/message.h"

namespace ficus::http::wire {

// "HTTP/1.1 <status> <reason>\r\n": r.reason, else the standard phrase, else
// none (the SP stays).
void AppendStatusLine(std::string& out, const Response& r);

// Appends a full response (head and, unless head_only, body) to `out`.
// Content-Length, Transfer-Encoding and Connection from r.headers are
// replaced by what the server decides; fields containing CR or LF are
// dropped.
void AppendResponse(std::string& out, const Response& r, bool head_only, bool keep_alive,
                    unsigned request_version);

// How a streamed body is delimited on the wire.
enum class BodyFraming { kLength, kChunked, kClose };

// Appends the head of a streamed response (Response::stream): status line,
// fields, then Content-Length (kLength: r.content_length), Transfer-Encoding:
// chunked (kChunked) or neither (kClose: the body ends with the connection),
// and Connection as AppendResponse does.
void AppendStreamedHead(std::string& out, const Response& r, BodyFraming framing, bool keep_alive,
                        unsigned request_version);

// Appends the head of a 101 answer: status line, fields, "Connection: upgrade".
void AppendUpgradeHead(std::string& out, const Response& r);

// Appends a request head for the client: request line, r.headers (except
// Content-Length/Transfer-Encoding/Connection), Host if absent, and
// Content-Length when there is a body or the method usually has one.
void AppendRequestHead(std::string& out, const Request& r, std::string_view host_header);

// True when `data` holds at least one complete request head.
bool HasCompleteHead(std::string_view data);

}  // namespace ficus::http::wire
