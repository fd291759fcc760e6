// Native results → the JSON bodies and SSE chunks of /v1/chat/completions, /v1/completions and /generate
// (OpenAI shapes; LMDeploy's for /generate). No I/O: strings in, strings out.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/request.h"
#include "server/api_request.h"
#include "server/tool_call_parser.h"
#include "tokenizer/tokenizer.h"

namespace fathom::server {

struct ResponseMeta {
  std::string id;       // chatcmpl-… / cmpl-…
  int64_t created = 0;  // unix seconds
  std::string model;
};

struct UsageTotals {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
};

// What one choice produced (a whole reply, or one streamed piece of it).
struct ChoicePiece {
  int32_t index = 0;
  std::string content;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
  int32_t tool_call_base = 0;  // index of the first call in tool_calls among the choice's calls
  std::vector<int32_t> token_ids;
  std::vector<TokenLogprob> logprobs;
  std::string finish_reason;  // "" while streaming
  bool first = false;         // streaming: the choice's first chunk (carries the role)
};

struct FormatOptions {
  bool logprobs = false;
  bool include_usage = false;   // streaming chunks carry "usage": null
  bool return_token_ids = false;
  bool has_reasoning = false;   // the reasoning parser is on (message.reasoning_content appears)
  std::string call_id_prefix;   // tool call ids: prefix + choice + "_" + call index
};

std::string dump_json(const nlohmann::json& j);  // compact; invalid UTF-8 replaced, never throws

std::string chat_response(const ResponseMeta& m, const std::vector<ChoicePiece>& choices, const UsageTotals& u,
                          const FormatOptions& o, const Tokenizer& tok);
std::string chat_chunk(const ResponseMeta& m, const std::vector<ChoicePiece>& pieces, const FormatOptions& o,
                       const Tokenizer& tok);
std::string completion_response(const ResponseMeta& m, const std::vector<ChoicePiece>& choices,
                                const UsageTotals& u, const FormatOptions& o, const Tokenizer& tok);
std::string completion_chunk(const ResponseMeta& m, const std::vector<ChoicePiece>& pieces, const FormatOptions& o,
                             const Tokenizer& tok);
// The final usage-only chunk (choices: []) of a stream with include_usage.
std::string usage_chunk(const ResponseMeta& m, Endpoint endpoint, const UsageTotals& u);
// LMDeploy /generate: {"text", "output_ids", "meta_info": {...}} (a delta per chunk when streaming).
std::string generate_body(const ChoicePiece& piece, const UsageTotals& u, bool logprobs);

nlohmann::json usage_json(const UsageTotals& u);

}  // namespace fathom::server
