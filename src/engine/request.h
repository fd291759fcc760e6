// What crosses the front-end ↔ engine boundary: native types only (no JSON, no text).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/sampling_params.h"

namespace fathom {

enum class FinishReason { NONE, STOP, LENGTH, ABORT, ERROR };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "abort", "error", ""

struct GenerateRequest {
  std::vector<int32_t> prompt_ids;  // [n_prompt] already tokenized (chat template applied)
  SamplingParams sampling;
};

struct TokenLogprob {
  int32_t token_id = 0;
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // [n_logprobs] (id, logprob), best first
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens served from the prefix cache
};

// One delivery on a request's channel: new tokens since the last one and, at the end, the finish reason.
struct GenerationEvent {
  std::vector<int32_t> token_ids;        // new tokens, in order
  std::vector<TokenLogprob> logprobs;    // [token_ids.size()] when logprobs were asked for, else empty
  FinishReason finish = FinishReason::NONE;
  std::string error;                     // with FinishReason::ERROR: why the request was refused
  Usage usage;                           // running totals
  bool finished() const { return finish != FinishReason::NONE; }
};

}  // namespace fathom
