// ERROR codes: their names and their mapping to ficus errors (ToError).
#include <fmt/format.h>

#include "ficus/cql/frame.h"

namespace ficus::cql {

std::string_view ErrorKindName(std::int32_t code) {
  switch (static_cast<ErrorKind>(code)) {
    case ErrorKind::kServerError:
      return "Server_error";
    case ErrorKind::kProtocolError:
      return "Protocol_error";
    case ErrorKind::kAuthenticationError:
      return "Authentication_error";
    case ErrorKind::kUnavailable:
      return "Unavailable";
    case ErrorKind::kOverloaded:
      return "Overloaded";
    case ErrorKind::kIsBootstrapping:
      return "Is_bootstrapping";
    case ErrorKind::kTruncateError:
      return "Truncate_error";
    case ErrorKind::kWriteTimeout:
      return "Write_timeout";
    case ErrorKind::kReadTimeout:
      return "Read_timeout";
    case ErrorKind::kReadFailure:
      return "Read_failure";
    case ErrorKind::kFunctionFailure:
      return "Function_failure";
    case ErrorKind::kWriteFailure:
      return "Write_failure";
    case ErrorKind::kSyntaxError:
      return "Syntax_error";
    case ErrorKind::kUnauthorized:
      return "Unauthorized";
    case ErrorKind::kInvalid:
      return "Invalid";
    case ErrorKind::kConfigError:
      return "Config_error";
    case ErrorKind::kAlreadyExists:
      return "Already_exists";
    case ErrorKind::kUnprepared:
      return "Unprepared";
  }
  return "Unknown_error";
}

Error ToError(const ErrorResponse& e) {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail;
  switch (static_cast<ErrorKind>(e.code)) {
    case ErrorKind::kServerError:
    case ErrorKind::kProtocolError:
    case ErrorKind::kTruncateError:
      code = ErrorCode::kInternal;
      break;
    case ErrorKind::kAuthenticationError:
    case ErrorKind::kUnauthorized:
      code = ErrorCode::kPreconditionFailed;
      break;
    case ErrorKind::kUnavailable:
      code = ErrorCode::kUnavailable;
      detail = fmt::format(" [cl={} required={} alive={}]", ConsistencyName(e.consistency),
                           e.required, e.alive_or_received);
      break;
    case ErrorKind::kOverloaded:
    case ErrorKind::kIsBootstrapping:
      code = ErrorCode::kUnavailable;
      break;
    case ErrorKind::kWriteTimeout:
      code = ErrorCode::kTimeout;
      detail =
          fmt::format(" [cl={} received={} blockfor={} type={}]", ConsistencyName(e.consistency),
                      e.alive_or_received, e.required, e.write_type);
      break;
    case ErrorKind::kReadTimeout:
      code = ErrorCode::kTimeout;
      detail = fmt::format(" [cl={} received={} blockfor={} data_present={}]",
                           ConsistencyName(e.consistency), e.alive_or_received, e.required,
                           e.data_present);
      break;
    case ErrorKind::kReadFailure:
    case ErrorKind::kWriteFailure:
      code = ErrorCode::kUnavailable;
      detail = fmt::format(" [cl={} received={} blockfor={} failures={}{}]",
                           ConsistencyName(e.consistency), e.alive_or_received, e.required,
                           e.num_failures, e.write_type.empty() ? "" : " type=" + e.write_type);
      break;
    case ErrorKind::kFunctionFailure:
      code = ErrorCode::kInvalidArgument;
      detail = fmt::format(" [function={}.{}]", e.keyspace, e.table);
      break;
    case ErrorKind::kSyntaxError:
    case ErrorKind::kInvalid:
    case ErrorKind::kConfigError:
      code = ErrorCode::kInvalidArgument;
      break;
    case ErrorKind::kAlreadyExists:
      code = ErrorCode::kConflict;
      detail = fmt::format(" [keyspace={} table={}]", e.keyspace, e.table);
      break;
    case ErrorKind::kUnprepared: {
      code = ErrorCode::kNotFound;
      std::string hex;
      for (auto b : e.unprepared_id) hex += fmt::format("{:02x}", b);
      detail = fmt::format(" [id={}]", hex);
      break;
    }
  }
  return Error(code, fmt::format("cql {} (0x{:04x}): {}{}", ErrorKindName(e.code), e.code,
                                 e.message, detail));
}

}  // namespace ficus::cql
