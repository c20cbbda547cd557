// Result<T>: the one error-return type of every Ficus C++ layer.
//
// Contract: functions that can fail return Result<T> (tl::expected<T, Error>)
// and never throw across a layer boundary. Only the std::expected subset of
// tl::expected is used, so switching to std::expected is one line here.
// Error codes are a small closed set; the mapping to HTTP statuses lives in
// each service's api layer, in one function.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace ficus {

enum class ErrorCode {
  kInvalidArgument,     // caller's input is wrong; message names the field
  kNotFound,            // the thing asked for does not exist
  kConflict,            // state conflict (e.g. request with the same key in flight)
  kPreconditionFailed,  // request contradicts earlier state (e.g. key reused with another body)
  kTooLarge,            // input over a size limit
  kUnsupported,         // unsupported media type / method / protocol feature
  kUnavailable,         // overloaded or dependency down; retry later
  kTimeout,             // deadline passed
  kInternal,            // bug or storage failure
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}
  // "code: message", for logs.
  [[nodiscard]] std::string ToString() const {
    return std::string(ErrorCodeName(code)) + ": " + message;
  }
};

template <typename T>
using Result = tl::expected<T, Error>;

using Status = Result<void>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}

inline std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPreconditionFailed:
      return "precondition_failed";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

}  // namespace ficus
