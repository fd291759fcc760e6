#include "http/json_error.h"

#include <nlohmann/json.hpp>

namespace fathom::http {

std::string_view error_type_name(ErrorType type) {
  switch (type) {
    case ErrorType::kInvalidRequest: return "invalid_request_error";
    case ErrorType::kAuthentication: return "authentication_error";
    case ErrorType::kNotFound: return "not_found_error";
    case ErrorType::kRateLimit: return "rate_limit_error";
    case ErrorType::kServer: return "server_error";
    case ErrorType::kUnavailable: return "unavailable_error";
    case ErrorType::kTimeout: return "timeout_error";
  }
  return "server_error";
}

ErrorType default_error_type(int status) {
  switch (status) {
    case 401:
    case 403: return ErrorType::kAuthentication;
    case 404: return ErrorType::kNotFound;
    case 408: return ErrorType::kTimeout;
    case 429: return ErrorType::kRateLimit;
    case 503: return ErrorType::kUnavailable;
    case 504: return ErrorType::kTimeout;
    default: return status >= 500 ? ErrorType::kServer : ErrorType::kInvalidRequest;
  }
}

std::string error_json(int status, const ErrorBody& body) {
  nlohmann::json e;
  e["message"] = body.message;
  e["type"] = error_type_name(body.type);
  e["param"] = body.param ? nlohmann::json(*body.param) : nlohmann::json(nullptr);
  e["code"] = body.code ? nlohmann::json(*body.code) : nlohmann::json(status);
  nlohmann::json out;
  out["error"] = std::move(e);
  // Replace invalid UTF-8 (messages may quote user input) instead of throwing.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response error_response(int status, std::string message, ErrorType type) {
  return json_response(status, error_json(status, ErrorBody{std::move(message), type, std::nullopt, std::nullopt}));
}

Response error_response(int status, std::string message) {
  return error_response(status, std::move(message), default_error_type(status));
}

}  // namespace fathom::http
