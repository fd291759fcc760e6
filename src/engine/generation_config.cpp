#include "engine/generation_config.h"

#include <filesystem>
#include <fstream>

namespace fathom {

Expected<GenerationDefaults> parse_generation_config(const nlohmann::json& j, std::vector<int32_t> fallback_eos,
                                                     const std::string& source) {
  GenerationDefaults d;
  d.eos_token_ids = std::move(fallback_eos);
  if (!j.is_object()) return Status::error(source + ": expected a JSON object");
  auto number = [&](const char* key, auto& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::ok();
    if (!it->is_number()) return Status::error(source + ": field '" + key + "' must be a number");
    out = it->get<std::remove_reference_t<decltype(out)>>();
    return Status::ok();
  };
  FATHOM_TRY(number("temperature", d.temperature));
  FATHOM_TRY(number("top_p", d.top_p));
  FATHOM_TRY(number("top_k", d.top_k));
  FATHOM_TRY(number("repetition_penalty", d.repetition_penalty));
  if (auto it = j.find("do_sample"); it != j.end() && it->is_boolean() && !it->get<bool>()) d.temperature = 0.0f;
  if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null()) {
    d.eos_token_ids.clear();
    if (it->is_number_integer()) {
      d.eos_token_ids.push_back(it->get<int32_t>());
    } else if (it->is_array()) {
      for (const auto& v : *it) {
        if (!v.is_number_integer()) return Status::error(source + ": 'eos_token_id' must hold integers");
        d.eos_token_ids.push_back(v.get<int32_t>());
      }
    } else {
      return Status::error(source + ": 'eos_token_id' must be an integer or a list of integers");
    }
  }
  if (d.temperature < 0) return Status::error(source + ": 'temperature' must be >= 0");
  if (!(d.top_p > 0 && d.top_p <= 1)) return Status::error(source + ": 'top_p' must be in (0, 1]");
  if (d.repetition_penalty <= 0) return Status::error(source + ": 'repetition_penalty' must be > 0");
  return d;
}

Expected<GenerationDefaults> load_generation_defaults(const std::string& model_dir,
                                                      std::vector<int32_t> fallback_eos) {
  const std::string path = (std::filesystem::path(model_dir) / "generation_config.json").string();
  std::ifstream in(path);
  if (!in) {
    GenerationDefaults d;
    d.eos_token_ids = std::move(fallback_eos);
    return d;
  }
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error(path + ": not valid JSON");
  return parse_generation_config(j, std::move(fallback_eos), path);
}

Expected<ResolvedSampling> resolve_sampling(const SamplingParams& p, const GenerationDefaults& d,
                                            int64_t vocab_size, int32_t max_tokens_cap) {
  ResolvedSampling r;
  r.temperature = p.temperature.value_or(d.temperature);
  r.top_p = p.top_p.value_or(d.top_p);
  r.top_k = p.top_k.value_or(d.top_k);
  r.repetition_penalty = p.repetition_penalty.value_or(d.repetition_penalty);
  r.min_p = p.min_p;
  r.presence_penalty = p.presence_penalty;
  r.frequency_penalty = p.frequency_penalty;
  r.logit_bias = p.logit_bias;
  r.seed = p.seed.value_or(0);
  r.n_logprobs = p.n_logprobs;
  r.stop_token_ids = p.stop_token_ids;
  r.ignore_eos = p.ignore_eos;
  r.max_tokens = p.max_tokens.value_or(max_tokens_cap);
  r.min_tokens = p.min_tokens;
  if (!(r.temperature >= 0)) return Status::error("temperature must be >= 0");
  if (!(r.top_p > 0 && r.top_p <= 1)) return Status::error("top_p must be in (0, 1]");
  if (!(r.min_p >= 0 && r.min_p <= 1)) return Status::error("min_p must be in [0, 1]");
  if (!(r.repetition_penalty > 0)) return Status::error("repetition_penalty must be > 0");
  if (!(r.presence_penalty >= -2 && r.presence_penalty <= 2)) return Status::error("presence_penalty must be in [-2, 2]");
  if (!(r.frequency_penalty >= -2 && r.frequency_penalty <= 2))
    return Status::error("frequency_penalty must be in [-2, 2]");
  if (r.n_logprobs > 20) return Status::error("logprobs must be at most 20");
  if (r.max_tokens < 1) return Status::error("max_tokens must be >= 1");
  if (r.min_tokens < 0 || r.min_tokens > r.max_tokens) return Status::error("min_tokens must be in [0, max_tokens]");
  for (const auto& [id, bias] : r.logit_bias)
    if (id < 0 || id >= vocab_size) return Status::error("logit_bias: token id " + std::to_string(id) + " out of range");
  for (int32_t id : r.stop_token_ids)
    if (id < 0 || id >= vocab_size) return Status::error("stop_token_ids: token id " + std::to_string(id) + " out of range");
  return r;
}

}  // namespace fathom
