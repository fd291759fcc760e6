// What the OpenAI / LMDeploy request parsers produce: plain C++ values, validated, with no JSON left except the
// chat messages and tool schemas that the chat template renders. Errors carry the HTTP status and the field.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sampling_params.h"
#include "http/json_error.h"

namespace fathom::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::optional<std::string> param;  // the offending field, e.g. "messages[0].content"
  http::ErrorType type = http::ErrorType::kInvalidRequest;
};

http::Response error_response(const ApiError& e);
std::string error_json(const ApiError& e);

enum class Endpoint { kChat, kCompletion, kGenerate };

// One prompt before tokenization: chat messages (template applied), raw text, or token ids.
struct PromptInput {
  enum class Kind { kMessages, kText, kIds } kind = Kind::kText;
  nlohmann::json messages;  // Kind::kMessages: [{"role", "content": str, ...}] with content parts joined
  std::string text;         // Kind::kText
  std::vector<int32_t> ids; // Kind::kIds
  bool add_bos = true;      // Kind::kText: add BOS as tokenizer_config.json says
};

struct ApiRequest {
  Endpoint endpoint = Endpoint::kChat;
  std::string model;                 // "" when not given (only /generate allows that)
  std::vector<PromptInput> prompts;  // one per prompt (completions accepts a list)
  nlohmann::json tools;              // null or the request's tools array
  std::string tool_choice = "auto";  // auto | none | required | <function name>
  bool parallel_tool_calls = true;   // false: only the first call is returned
  nlohmann::json template_kwargs = nlohmann::json::object();  // chat_template_kwargs
  SamplingParams sampling;
  std::vector<std::string> stop;     // stop strings (held back, never sent)
  int32_t n = 1;                     // choices per prompt
  bool stream = false;
  bool include_usage = false;        // stream_options.include_usage
  bool logprobs = false;             // chat: logprobs; completions: logprobs is not null; generate: return_logprob
  int32_t top_logprobs = 0;
  bool echo = false;                 // completions: prepend the prompt text
  bool skip_special_tokens = true;
  bool include_stop_str_in_output = false;
  bool return_token_ids = false;
  std::string response_format = "text";  // text | json_object (validated, not enforced)
};

}  // namespace fathom::server
