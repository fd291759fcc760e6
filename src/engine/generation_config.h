// generation_config.json → GenerationDefaults (temperature, top_p, top_k, repetition_penalty, do_sample,
// eos_token_id), and resolving a request's SamplingParams against them.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "engine/sampling_params.h"

namespace fathom {

// `fallback_eos` is used when the file does not name eos_token_id (config.json's ids).
Expected<GenerationDefaults> parse_generation_config(const nlohmann::json& j, std::vector<int32_t> fallback_eos,
                                                     const std::string& source = "generation_config.json");
// A missing file gives the HF defaults (temperature 1, top_p 1, no top_k) with `fallback_eos`.
Expected<GenerationDefaults> load_generation_defaults(const std::string& model_dir,
                                                      std::vector<int32_t> fallback_eos);

// Checks ranges (errors name the field) and fills unset fields. `max_tokens_cap` bounds an unset max_tokens.
Expected<ResolvedSampling> resolve_sampling(const SamplingParams& p, const GenerationDefaults& d,
                                            int64_t vocab_size, int32_t max_tokens_cap);

}  // namespace fathom
