// The request adapters of profile_restful_api.py / vllm bench serve: which path a backend posts to, the JSON body
// it sends, and how the text and usage are read back out of one streamed (or whole) response chunk.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bench/bench_types.h"
#include "core/status.h"

namespace fathom::bench {

enum class Backend { kLmdeploy, kLmdeployChat, kOpenai, kOpenaiChat };

Expected<Backend> parse_backend(std::string_view name);
std::string_view backend_name(Backend b);
bool is_chat(Backend b);
const char* backend_path(Backend b);  // "/v1/completions" or "/v1/chat/completions"

struct PayloadOptions {
  std::string model;
  bool stream = true;
  bool ignore_eos = true;
  nlohmann::json extra = nlohmann::json::object();  // --extra-request-body, merged last (it wins)
};

// lmdeploy:      {"model","prompt","temperature":0.0,"best_of":1,"max_tokens","stream","ignore_eos"}
// lmdeploy-chat: {"model","messages":[user],"temperature":0.0,"max_completion_tokens","stream","ignore_eos"}
// openai / openai-chat: the same bodies with "stream_options":{"include_usage":true} when streaming (as vLLM's
// bench does), so that output tokens come from the server's count.
std::string build_payload(Backend b, const BenchRequest& r, const PayloadOptions& o);

// What one JSON chunk (an SSE data payload, or a whole non-streamed body) carries.
struct ChunkContent {
  std::string text;                  // choices[0].text (completions) or .delta.content / .message.content (chat)
  int64_t completion_tokens = -1;    // usage.completion_tokens when the chunk has a usage object
};
// A chunk without choices (a usage-only chunk) is not an error: its text is empty. Malformed JSON is.
Expected<ChunkContent> parse_chunk(Backend b, std::string_view json, bool streamed);

}  // namespace fathom::bench
