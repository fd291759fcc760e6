// JSON bodies of /v1/chat/completions, /v1/completions and /generate → ApiRequest. Every rule names the field it
// checks; the first failing rule wins (status 400). Unknown fields are ignored, as OpenAI and LMDeploy do.
#pragma once
#include <optional>
#include <string_view>

#include "server/api_request.h"

namespace fathom::server {

struct ParseLimits {
  int64_t vocab_size = 129280;  // token ids and logit_bias keys must be below it
  int32_t max_n = 128;
  int32_t max_top_logprobs = 20;
  int32_t max_stop = 16;
  int32_t max_json_depth = 64;  // deeper bodies are refused before parsing
};

// The body as a JSON object (bad JSON, a non-object, or excessive nesting → 400).
std::optional<ApiError> parse_json_object(std::string_view body, const ParseLimits& limits, nlohmann::json& out);

std::optional<ApiError> parse_chat_request(const nlohmann::json& body, const ParseLimits& limits, ApiRequest& out);
std::optional<ApiError> parse_completion_request(const nlohmann::json& body, const ParseLimits& limits,
                                                 ApiRequest& out);
std::optional<ApiError> parse_generate_request(const nlohmann::json& body, const ParseLimits& limits,
                                               ApiRequest& out);

// Dispatches on the endpoint (the fuzz target's entry point): body text → request.
std::optional<ApiError> parse_request(Endpoint endpoint, std::string_view body, const ParseLimits& limits,
                                      ApiRequest& out);

}  // namespace fathom::server
