// OpenAI-shaped error bodies: {"error": {"message", "type", "param", "code"}} with the HTTP status mirrored in
// "code" unless a string code is given (ANCHORS.md §4.5).
#pragma once
#include <optional>
#include <string>

#include "http/types.h"

namespace fathom::http {

enum class ErrorType {
  kInvalidRequest,   // invalid_request_error
  kAuthentication,   // authentication_error
  kNotFound,         // not_found_error
  kRateLimit,        // rate_limit_error
  kServer,           // server_error
  kUnavailable,      // unavailable_error
  kTimeout,          // timeout_error
};

std::string_view error_type_name(ErrorType type);
ErrorType default_error_type(int status);  // 4xx → invalid_request_error etc., 5xx → server_error

struct ErrorBody {
  std::string message;
  ErrorType type = ErrorType::kInvalidRequest;
  std::optional<std::string> param;
  std::optional<std::string> code;  // absent → the HTTP status as a number
};

std::string error_json(int status, const ErrorBody& body);
Response error_response(int status, std::string message, ErrorType type);
Response error_response(int status, std::string message);  // type from default_error_type(status)

}  // namespace fathom::http
