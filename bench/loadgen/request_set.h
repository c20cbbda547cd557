// RequestSet: the requests of a load run, built whole before the clock
// starts, so generating them costs the measured run nothing.
//
// A RequestSpec gives the method, the path, extra header fields and either
// a body template or a file of bodies (one per line; each line is a
// template too). Templates may contain:
//   {user}      the id of a user of the pool: random in 1..users, or 1, 2,
//               3, ... when `sequential` (fills a store in order); the same
//               UUIDs as bench/lua/profile_update.lua
//               (%08x-0000-4000-8000-%012x of i and i * 2654435761 mod 2^48)
//   {rand}      a random integer 0..999999
//   {attrs:N}   N distinct random keys of the 16 of profile_update.lua as
//               "key":"vNNN" pairs, comma-separated (N in 1..16)
// Each request is complete HTTP/1.1 bytes: request line, Host, the extra
// fields, Content-Length when there is a body, keep-alive.
//
// Errors (kInvalidArgument, naming the option): unknown placeholder, bad
// method, path not starting with '/', a header without ':' or with CR/LF,
// an empty body file, count 0.
//
// Threads: none.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ficus/result.h"

namespace ficus::bench {

struct RequestSpec {
  std::string method = "GET";
  std::string path = "/";
  std::string host = "127.0.0.1";
  std::vector<std::string> headers;     // "Name: value"
  std::string body_template;            // empty: none; exclusive with body_lines
  std::vector<std::string> body_lines;  // from --body-file
  std::uint64_t users = 100'000;
  bool sequential = false;
  std::size_t count = 100'000;  // requests to pre-generate
  std::uint64_t seed = 1;
};

// The UUID of user i of the pool, as the Lua generators make it.
std::string UserId(std::uint64_t i);

Result<std::vector<std::string>> BuildRequests(const RequestSpec& spec);

}  // namespace ficus::bench
