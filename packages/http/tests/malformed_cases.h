// Malformed / ambiguous request shapes and the status each must get, shared
// by the in-memory codec test and the raw-socket server test. Comments say
// whether Beast's parser alone rejects the shape (verified by
// BeastAlone.* in request_parser_test.cc) or only our pre-validation does.
#pragma once

#include <string>
#include <vector>

namespace ficus::http::testing {

struct MalformedCase {
  const char* name;
  std::string bytes;
  unsigned status;
  const char* msg;  // exact envelope msg
};

inline std::vector<MalformedCase> MalformedCases() {
  const std::string h = "POST /x HTTP/1.1\r\nHost: a\r\n";
  return {
      {"ContentLengthWithTransferEncoding",
       h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "Transfer-Encoding: not allowed with Content-Length"},
      {"TransferEncodingThenContentLength",
       h + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400,
       "Transfer-Encoding: not allowed with Content-Length"},
      {"DuplicateContentLengthSameValue", h + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
       400, "Content-Length: duplicate"},
      {"DuplicateContentLengthDifferent", h + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       400, "Content-Length: duplicate"},
      {"ContentLengthList", h + "Content-Length: 3, 3\r\n\r\nabc", 400, "Content-Length: invalid"},
      {"ContentLengthSigned", h + "Content-Length: +3\r\n\r\nabc", 400, "Content-Length: invalid"},
      {"ContentLengthNegative", h + "Content-Length: -1\r\n\r\n", 400, "Content-Length: invalid"},
      {"ContentLengthHex", h + "Content-Length: 0x3\r\n\r\nabc", 400, "Content-Length: invalid"},
      {"ContentLengthOverflow", h + "Content-Length: 99999999999999999999\r\n\r\n", 400,
       "Content-Length: invalid"},
      {"ContentLengthEmpty", h + "Content-Length: \r\n\r\n", 400, "Content-Length: invalid"},
      {"TransferEncodingNotChunked", h + "Transfer-Encoding: gzip\r\n\r\n", 400,
       "Transfer-Encoding: only chunked is supported"},
      {"TransferEncodingChunkedTwiceInList",
       h + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400,
       "Transfer-Encoding: only chunked is supported"},
      {"TransferEncodingDuplicateField",
       h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "Transfer-Encoding: duplicate"},
      {"TransferEncodingObfuscated", h + "Transfer-Encoding: xchunked\r\n\r\n", 400,
       "Transfer-Encoding: only chunked is supported"},
      {"SpaceBeforeColon", h + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400,
       "header: invalid name"},
      {"BadChunkSizeNotHex", h + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400,
       "body: bad chunk"},
      {"BadChunkSizeNegative", h + "Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", 400,
       "body: bad chunk"},
      {"BadChunkSizeOverflow",
       h + "Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nabc\r\n0\r\n\r\n", 400,
       "body: bad chunk"},
      {"BadChunkSizeLeadingSpace", h + "Transfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n",
       400, "body: bad chunk"},
      {"ChunkDataLongerThanSize", h + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
       400, "body: bad chunk"},
      {"ObsFold", h + "X-A: one\r\n two\r\n\r\n", 400, "header: obs-fold not allowed"},
      {"ObsFoldTab", h + "X-A: one\r\n\ttwo\r\n\r\n", 400, "header: obs-fold not allowed"},
      {"InvalidHeaderName", h + "X(A): 1\r\n\r\n", 400, "header: invalid name"},
      {"EmptyHeaderName", h + ": 1\r\n\r\n", 400, "header: invalid name"},
      {"HeaderWithoutColon", h + "NoColonHere\r\n\r\n", 400, "header: invalid name"},
      {"ControlCharInValue",
       h + "X-A: a\x01"
           "b\r\n\r\n",
       400, "header: invalid value"},
      {"BareCrInValue", h + "X-A: a\rb\r\n\r\n", 400, "header: invalid value"},
      {"BareLfLineEnding", "GET / HTTP/1.1\nHost: a\n\n", 400, "request: line not ended by CRLF"},
      {"BareLfInHeaders", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400,
       "request: line not ended by CRLF"},
      {"Http2Preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400,
       "request line: unsupported HTTP version"},
      {"Http09", "GET /\r\n\r\n", 400, "request line: malformed"},
      {"Http12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 400,
       "request line: unsupported HTTP version"},
      {"LowercaseVersion", "GET / http/1.1\r\nHost: a\r\n\r\n", 400,
       "request line: unsupported HTTP version"},
      {"DoubleSpaceInRequestLine", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "request line: malformed"},
      {"InvalidMethodChar", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "request line: invalid method"},
      {"NonAsciiTarget", "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "request line: invalid target"},
      {"MissingHost", "GET / HTTP/1.1\r\n\r\n", 400, "Host: required"},
      {"DuplicateHost", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host: duplicate"},
      {"Garbage",  // a TLS ClientHello start: embedded NULs, so built with an explicit length
       std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15), 400,
       "request line: malformed"},
  };
}

}  // namespace ficus::http::testing
