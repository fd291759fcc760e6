// What a request asks of the sampler and of the stop logic. Unset optionals take the model's defaults
// (generation_config.json) when the engine accepts the request; see GenerationDefaults.
#pragma once
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace fathom {

struct SamplingParams {
  std::optional<float> temperature;         // 0: greedy
  std::optional<float> top_p;               // (0, 1]
  std::optional<int32_t> top_k;             // <= 0: off
  std::optional<float> repetition_penalty;  // HF semantics over prompt + output; 1: off
  float min_p = 0.0f;                       // keep tokens with p >= min_p * p_max
  float presence_penalty = 0.0f;            // OpenAI semantics over output tokens
  float frequency_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token id, added to its logit)
  std::optional<uint64_t> seed;             // unset: drawn by the engine at submission
  int32_t n_logprobs = -1;                  // -1: none; 0: the chosen token's logprob; N: plus the top N
  std::vector<int32_t> stop_token_ids;      // finish (reason STOP) when sampled; the token is reported
  bool ignore_eos = false;
  std::optional<int32_t> max_tokens;        // unset: up to the session length
  int32_t min_tokens = 0;                   // EOS and stop ids are masked until this many tokens exist
};

// The model's defaults (generation_config.json) plus its EOS ids.
struct GenerationDefaults {
  float temperature = 1.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  float repetition_penalty = 1.0f;
  std::vector<int32_t> eos_token_ids;
};

// SamplingParams with every field decided; what the sampler reads on the engine thread.
struct ResolvedSampling {
  float temperature = 1.0f;
  float top_p = 1.0f;
  int32_t top_k = 0;
  float repetition_penalty = 1.0f;
  float min_p = 0.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::vector<std::pair<int32_t, float>> logit_bias;
  uint64_t seed = 0;
  int32_t n_logprobs = -1;
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  int32_t max_tokens = 0;
  int32_t min_tokens = 0;
  bool greedy() const { return temperature <= 0.0f || top_k == 1; }
};

}  // namespace fathom
