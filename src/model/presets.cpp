#include "model/presets.h"

#include <filesystem>

#include "core/file_io.h"
#include "model/model_dir.h"

namespace fathom {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The YaRN block every DeepSeek-V2/V3 config carries (factor 40 over 4096 positions); mscale differs.
json yarn_scaling(double mscale) {
  return {{"type", "yarn"},         {"factor", 40},       {"original_max_position_embeddings", 4096},
          {"beta_fast", 32},        {"beta_slow", 1},     {"mscale", mscale},
          {"mscale_all_dim", mscale}};
}

// Non-size fields shared by the presets (DeepSeek-V3's).
json v3_common() {
  return {{"architectures", {"DeepseekV3ForCausalLM"}},
          {"model_type", "deepseek_v3"},
          {"vocab_size", 129280},
          {"num_nextn_predict_layers", 1},
          {"routed_scaling_factor", 2.5},
          {"topk_method", "noaux_tc"},
          {"scoring_func", "sigmoid"},
          {"norm_topk_prob", true},
          {"moe_layer_freq", 1},
          {"n_shared_experts", 1},
          {"hidden_act", "silu"},
          {"rms_norm_eps", 1e-6},
          {"rope_theta", 10000},
          {"max_position_embeddings", 163840},
          {"rope_scaling", yarn_scaling(1.0)},
          {"tie_word_embeddings", false},
          {"attention_bias", false},
          {"attention_dropout", 0.0},
          {"bos_token_id", 0},
          {"eos_token_id", 1},
          {"torch_dtype", "bfloat16"},
          {"use_cache", true},
          {"initializer_range", 0.02}};
}

// Recursive merge in which null sets a field to null (a JSON merge patch would delete it; `q_lora_rank: null`
// must survive).
void merge_into(json& base, const json& patch) {
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_object() && base.contains(it.key()) && base[it.key()].is_object()) merge_into(base[it.key()], it.value());
    else base[it.key()] = it.value();
  }
}

json with(json base, const json& sizes) {
  for (auto it = sizes.begin(); it != sizes.end(); ++it) base[it.key()] = it.value();
  return base;
}

}  // namespace

std::vector<std::string> preset_names() { return {"tiny", "small", "v2-lite", "v3-671b"}; }

Expected<json> preset_config_json(const std::string& preset) {
  if (preset == "tiny")
    return with(v3_common(), {{"hidden_size", 512}, {"num_hidden_layers", 4}, {"first_k_dense_replace", 1},
                              {"num_attention_heads", 16}, {"num_key_value_heads", 16}, {"q_lora_rank", 192},
                              {"kv_lora_rank", 128}, {"qk_nope_head_dim", 64}, {"qk_rope_head_dim", 32},
                              {"v_head_dim", 64}, {"n_routed_experts", 32}, {"num_experts_per_tok", 4},
                              {"n_group", 4}, {"topk_group", 2}, {"moe_intermediate_size", 256},
                              {"intermediate_size", 1024}});
  if (preset == "small")
    return with(v3_common(), {{"hidden_size", 1024}, {"num_hidden_layers", 8}, {"first_k_dense_replace", 1},
                              {"num_attention_heads", 16}, {"num_key_value_heads", 16}, {"q_lora_rank", 384},
                              {"kv_lora_rank", 256}, {"qk_nope_head_dim", 64}, {"qk_rope_head_dim", 32},
                              {"v_head_dim", 64}, {"n_routed_experts", 64}, {"num_experts_per_tok", 6},
                              {"n_group", 8}, {"topk_group", 4}, {"moe_intermediate_size", 512},
                              {"intermediate_size", 2816}});
  if (preset == "v3-671b") {
    json j = with(v3_common(), {{"hidden_size", 7168}, {"num_hidden_layers", 61}, {"first_k_dense_replace", 3},
                                {"num_attention_heads", 128}, {"num_key_value_heads", 128}, {"q_lora_rank", 1536},
                                {"kv_lora_rank", 512}, {"qk_nope_head_dim", 128}, {"qk_rope_head_dim", 64},
                                {"v_head_dim", 128}, {"n_routed_experts", 256}, {"num_experts_per_tok", 8},
                                {"n_group", 8}, {"topk_group", 4}, {"moe_intermediate_size", 2048},
                                {"intermediate_size", 18432}, {"ep_size", 1}});
    j["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"}, {"quant_method", "fp8"},
                                {"weight_block_size", {128, 128}}};
    return j;
  }
  if (preset == "v2-lite")
    return json{{"architectures", {"DeepseekV2ForCausalLM"}},
                {"model_type", "deepseek_v2"},
                {"vocab_size", 102400},
                {"hidden_size", 2048},
                {"intermediate_size", 10944},
                {"moe_intermediate_size", 1408},
                {"num_hidden_layers", 27},
                {"num_attention_heads", 16},
                {"num_key_value_heads", 16},
                {"n_shared_experts", 2},
                {"n_routed_experts", 64},
                {"num_experts_per_tok", 6},
                {"routed_scaling_factor", 1.0},
                {"topk_method", "greedy"},
                {"n_group", 1},
                {"topk_group", 1},
                {"scoring_func", "softmax"},
                {"norm_topk_prob", false},
                {"moe_layer_freq", 1},
                {"first_k_dense_replace", 1},
                {"q_lora_rank", nullptr},
                {"kv_lora_rank", 512},
                {"qk_nope_head_dim", 128},
                {"qk_rope_head_dim", 64},
                {"v_head_dim", 128},
                {"hidden_act", "silu"},
                {"rms_norm_eps", 1e-6},
                {"rope_theta", 10000},
                {"max_position_embeddings", 163840},
                {"rope_scaling", yarn_scaling(0.707)},
                {"tie_word_embeddings", false},
                {"attention_bias", false},
                {"attention_dropout", 0.0},
                {"aux_loss_alpha", 0.001},
                {"seq_aux", true},
                {"bos_token_id", 100000},
                {"eos_token_id", 100001},
                {"torch_dtype", "bfloat16"},
                {"use_cache", true},
                {"initializer_range", 0.02}};
  return Status::error("unknown preset '" + preset + "' (tiny, small, v2-lite, v3-671b)");
}

Status create_model(const CreateOptions& opt) {
  auto base = preset_config_json(opt.preset);
  if (!base) return base.status();
  json j = *base;
  if (!opt.override_json.empty()) {
    json ov = json::parse(opt.override_json, nullptr, false);
    if (ov.is_discarded() || !ov.is_object()) return Status::error("--override: not a JSON object");
    merge_into(j, ov);
  }
  if (opt.fp8)
    j["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"}, {"quant_method", "fp8"},
                                {"weight_block_size", {128, 128}}};
  auto config = parse_model_config(j, "preset " + opt.preset);
  if (!config) return config.status();
  const bool big = opt.preset == "v3-671b" || opt.preset == "v2-lite";
  if (big && !opt.config_only)
    return Status::error("preset " + opt.preset + " is too large for random weights here; use --config-only");
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec) return Status::error(opt.out_dir + ": cannot create folder: " + ec.message());
  FATHOM_TRY(write_text_file(opt.out_dir + "/config.json", j.dump(2) + "\n"));
  json gen = {{"_from_model_config", true}, {"do_sample", true}, {"temperature", 0.6}, {"top_p", 0.95}};
  if (config->bos_token_id >= 0) gen["bos_token_id"] = config->bos_token_id;
  if (!config->eos_token_ids.empty()) gen["eos_token_id"] = config->eos_token_ids[0];
  FATHOM_TRY(write_text_file(opt.out_dir + "/generation_config.json", gen.dump(2) + "\n"));
  auto assets = assets_dir();
  if (!assets) return assets.status();
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    fs::copy_file(fs::path(*assets) / f, fs::path(opt.out_dir) / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::error(std::string(f) + ": cannot copy into " + opt.out_dir + ": " + ec.message());
  }
  if (opt.config_only) return Status::ok();
  return random_checkpoint(*config, opt.seed, opt.fp8, opt.n_threads, opt.out_dir, opt.max_shard_bytes);
}

}  // namespace fathom
