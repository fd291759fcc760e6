#include "model/config.h"

#include <cmath>

#include "core/file_io.h"

namespace fathom {

namespace {

using json = nlohmann::json;

// Reads fields from one JSON object; the first problem is kept and named.
class FieldReader {
 public:
  FieldReader(const json& j, std::string source) : j_(j), source_(std::move(source)) {}

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

  int64_t integer(const char* key, bool required, int64_t def = 0) {
    if (!has(key)) {
      if (required) fail(key, "is missing");
      return def;
    }
    const json& v = j_[key];
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) return static_cast<int64_t>(v.get<double>());
    fail(key, "must be an integer");
    return def;
  }
  double number(const char* key, bool required, double def = 0) {
    if (!has(key)) {
      if (required) fail(key, "is missing");
      return def;
    }
    if (!j_[key].is_number()) {
      fail(key, "must be a number");
      return def;
    }
    return j_[key].get<double>();
  }
  std::string string(const char* key, bool required, const std::string& def = "") {
    if (!has(key)) {
      if (required) fail(key, "is missing");
      return def;
    }
    if (!j_[key].is_string()) {
      fail(key, "must be a string");
      return def;
    }
    return j_[key].get<std::string>();
  }
  bool boolean(const char* key, bool def) {
    if (!has(key)) return def;
    if (!j_[key].is_boolean()) {
      fail(key, "must be true or false");
      return def;
    }
    return j_[key].get<bool>();
  }
  void fail(const std::string& key, const std::string& what) {
    if (err_.empty()) err_ = source_ + ": field '" + key + "' " + what;
  }
  const std::string& error() const { return err_; }

 private:
  const json& j_;
  std::string source_;
  std::string err_;
};

double yarn_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

}  // namespace

const char* topk_method_name(TopkMethod m) {
  switch (m) {
    case TopkMethod::GREEDY: return "greedy";
    case TopkMethod::GROUP_LIMITED_GREEDY: return "group_limited_greedy";
    case TopkMethod::NOAUX_TC: return "noaux_tc";
  }
  return "?";
}

const char* scoring_func_name(ScoringFunc s) { return s == ScoringFunc::SIGMOID ? "sigmoid" : "softmax"; }

double ModelConfig::softmax_scale() const {
  double s = 1.0 / std::sqrt(static_cast<double>(qk_head_dim()));
  if (rope_scaling.yarn && rope_scaling.mscale_all_dim != 0.0) {
    const double m = yarn_mscale(rope_scaling.factor, rope_scaling.mscale_all_dim);
    s *= m * m;
  }
  return s;
}

double ModelConfig::rope_amplitude() const {
  if (!rope_scaling.yarn) return 1.0;
  return yarn_mscale(rope_scaling.factor, rope_scaling.mscale) /
         yarn_mscale(rope_scaling.factor, rope_scaling.mscale_all_dim);
}

std::vector<float> ModelConfig::rope_inv_freq() const {
  const int64_t dim = qk_rope_head_dim, half = dim / 2;
  const float base = static_cast<float>(rope_theta);
  std::vector<float> inv(half);
  for (int64_t i = 0; i < half; ++i)
    inv[i] = 1.0f / std::pow(base, static_cast<float>(2 * i) / static_cast<float>(dim));
  if (!rope_scaling.yarn) return inv;
  const RopeScaling& y = rope_scaling;
  auto corr = [&](double r) {
    return dim * std::log(static_cast<double>(y.original_max_position) / (r * 2 * M_PI)) / (2 * std::log(rope_theta));
  };
  double low = std::max(std::floor(corr(y.beta_fast)), 0.0);
  double high = std::min(std::ceil(corr(y.beta_slow)), static_cast<double>(dim - 1));
  if (low == high) high += 0.001;
  for (int64_t i = 0; i < half; ++i) {
    float ramp = (static_cast<float>(i) - static_cast<float>(low)) / static_cast<float>(high - low);
    ramp = std::min(1.0f, std::max(0.0f, ramp));
    const float extrap = inv[i], interp = inv[i] / static_cast<float>(y.factor);
    inv[i] = interp * ramp + extrap * (1.0f - ramp);
  }
  return inv;
}

Expected<ModelConfig> parse_model_config(const json& j, const std::string& source) {
  if (!j.is_object()) return Status::error(source + ": expected a JSON object");
  FieldReader r(j, source);
  ModelConfig c;
  c.model_type = r.string("model_type", true);
  if (r.error().empty() && c.model_type != "deepseek_v3" && c.model_type != "deepseek_v2")
    r.fail("model_type", "is '" + c.model_type + "'; supported: deepseek_v3, deepseek_v2");
  c.vocab_size = r.integer("vocab_size", true);
  c.hidden_size = r.integer("hidden_size", true);
  c.intermediate_size = r.integer("intermediate_size", true);
  c.num_hidden_layers = r.integer("num_hidden_layers", true);
  c.num_nextn_predict_layers = r.integer("num_nextn_predict_layers", false, 0);
  c.num_attention_heads = r.integer("num_attention_heads", true);
  c.num_key_value_heads = r.integer("num_key_value_heads", false, c.num_attention_heads);
  c.n_routed_experts = r.integer("n_routed_experts", false, 0);
  const bool moe = c.n_routed_experts > 0;
  c.moe_intermediate_size = r.integer("moe_intermediate_size", moe, 0);
  c.num_experts_per_tok = r.integer("num_experts_per_tok", moe, 0);
  c.n_shared_experts = r.integer("n_shared_experts", false, 0);
  c.routed_scaling_factor = r.number("routed_scaling_factor", false, 1.0);
  const std::string topk = r.string("topk_method", false, "greedy");
  if (topk == "greedy") c.topk_method = TopkMethod::GREEDY;
  else if (topk == "group_limited_greedy") c.topk_method = TopkMethod::GROUP_LIMITED_GREEDY;
  else if (topk == "noaux_tc") c.topk_method = TopkMethod::NOAUX_TC;
  else r.fail("topk_method", "is '" + topk + "'; supported: greedy, group_limited_greedy, noaux_tc");
  c.n_group = r.integer("n_group", false, 1);
  c.topk_group = r.integer("topk_group", false, 1);
  const std::string scoring = r.string("scoring_func", false, "softmax");
  if (scoring == "softmax") c.scoring_func = ScoringFunc::SOFTMAX;
  else if (scoring == "sigmoid") c.scoring_func = ScoringFunc::SIGMOID;
  else r.fail("scoring_func", "is '" + scoring + "'; supported: softmax, sigmoid");
  c.norm_topk_prob = r.boolean("norm_topk_prob", false);
  c.moe_layer_freq = r.integer("moe_layer_freq", false, 1);
  c.first_k_dense_replace = r.integer("first_k_dense_replace", false, 0);
  if (!j.contains("q_lora_rank")) r.fail("q_lora_rank", "is missing (use null for no query compression)");
  c.q_lora_rank = r.integer("q_lora_rank", false, 0);
  c.kv_lora_rank = r.integer("kv_lora_rank", true);
  c.qk_nope_head_dim = r.integer("qk_nope_head_dim", true);
  c.qk_rope_head_dim = r.integer("qk_rope_head_dim", true);
  c.v_head_dim = r.integer("v_head_dim", true);
  c.hidden_act = r.string("hidden_act", false, "silu");
  if (r.error().empty() && c.hidden_act != "silu") r.fail("hidden_act", "is '" + c.hidden_act + "'; only silu is supported");
  c.rms_norm_eps = r.number("rms_norm_eps", false, 1e-6);
  c.rope_theta = r.number("rope_theta", false, 10000.0);
  c.max_position_embeddings = r.integer("max_position_embeddings", true);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.bos_token_id = r.integer("bos_token_id", false, -1);
  if (j.contains("eos_token_id") && j["eos_token_id"].is_array()) {
    for (const auto& e : j["eos_token_id"]) {
      if (!e.is_number_integer()) r.fail("eos_token_id", "must be an integer or a list of integers");
      else c.eos_token_ids.push_back(e.get<int64_t>());
    }
  } else if (r.has("eos_token_id")) {
    c.eos_token_ids.push_back(r.integer("eos_token_id", false));
  }
  c.torch_dtype = r.string("torch_dtype", false, "bfloat16");
  if (r.has("rope_interleave") && !r.boolean("rope_interleave", true))
    r.fail("rope_interleave", "is false; only the checkpoint's interleaved rope layout is supported");

  if (r.has("rope_scaling")) {
    const json& rs = j["rope_scaling"];
    if (!rs.is_object()) {
      r.fail("rope_scaling", "must be an object or null");
    } else {
      FieldReader rr(rs, source + ": rope_scaling");
      std::string type = rr.string("type", false, rr.string("rope_type", false, ""));
      if (type == "yarn") {
        c.rope_scaling.yarn = true;
        c.rope_scaling.factor = rr.number("factor", true);
        c.rope_scaling.original_max_position = rr.integer("original_max_position_embeddings", true);
        c.rope_scaling.beta_fast = rr.number("beta_fast", false, 32.0);
        c.rope_scaling.beta_slow = rr.number("beta_slow", false, 1.0);
        c.rope_scaling.mscale = rr.number("mscale", false, 1.0);
        c.rope_scaling.mscale_all_dim = rr.number("mscale_all_dim", false, 0.0);
        if (rr.error().empty() && c.rope_scaling.factor <= 0) rr.fail("factor", "must be > 0");
        if (rr.error().empty() && c.rope_scaling.original_max_position <= 0)
          rr.fail("original_max_position_embeddings", "must be > 0");
      } else if (type != "default" && type != "") {
        rr.fail("type", "is '" + type + "'; supported: yarn");
      }
      if (!rr.error().empty()) return Status::error(rr.error());
    }
  }

  if (r.has("quantization_config")) {
    const json& q = j["quantization_config"];
    if (!q.is_object()) return Status::error(source + ": field 'quantization_config' must be an object");
    FieldReader qr(q, source + ": quantization_config");
    const std::string method = qr.string("quant_method", true);
    if (qr.error().empty() && method != "fp8") qr.fail("quant_method", "is '" + method + "'; supported: fp8");
    const std::string fmt = qr.string("fmt", false, "e4m3");
    if (qr.error().empty() && fmt != "e4m3") qr.fail("fmt", "is '" + fmt + "'; supported: e4m3");
    if (qr.has("weight_block_size")) {
      const json& b = q["weight_block_size"];
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer())
        qr.fail("weight_block_size", "must be [rows, cols]");
      else if (b[0].get<int>() != 128 || b[1].get<int>() != 128)
        qr.fail("weight_block_size", "must be [128, 128]");
    }
    c.quant.scale_fmt = qr.string("scale_fmt", false, "");
    c.quant.fp8 = true;
    if (!qr.error().empty()) return Status::error(qr.error());
  }
  if (!r.error().empty()) return Status::error(r.error());

  // Consistency.
  auto positive = [&](const char* name, int64_t v) {
    if (v <= 0) r.fail(name, "must be > 0 (got " + std::to_string(v) + ")");
  };
  positive("vocab_size", c.vocab_size);
  positive("hidden_size", c.hidden_size);
  positive("num_hidden_layers", c.num_hidden_layers);
  positive("num_attention_heads", c.num_attention_heads);
  positive("kv_lora_rank", c.kv_lora_rank);
  positive("qk_nope_head_dim", c.qk_nope_head_dim);
  positive("qk_rope_head_dim", c.qk_rope_head_dim);
  positive("v_head_dim", c.v_head_dim);
  positive("max_position_embeddings", c.max_position_embeddings);
  if (c.q_lora_rank < 0) r.fail("q_lora_rank", "must be null or >= 0");
  if (c.qk_rope_head_dim % 2) r.fail("qk_rope_head_dim", "must be even (rope rotates pairs)");
  if (c.num_nextn_predict_layers < 0) r.fail("num_nextn_predict_layers", "must be >= 0");
  if (c.first_k_dense_replace < 0 || c.first_k_dense_replace > c.num_hidden_layers)
    r.fail("first_k_dense_replace", "must be between 0 and num_hidden_layers");
  if (c.moe_layer_freq <= 0) r.fail("moe_layer_freq", "must be > 0");
  if (c.rms_norm_eps <= 0) r.fail("rms_norm_eps", "must be > 0");
  if (c.rope_theta <= 1) r.fail("rope_theta", "must be > 1");
  if (c.first_k_dense_replace > 0 || !moe) positive("intermediate_size", c.intermediate_size);
  if (moe) {
    positive("moe_intermediate_size", c.moe_intermediate_size);
    positive("num_experts_per_tok", c.num_experts_per_tok);
    if (c.num_experts_per_tok > c.n_routed_experts) r.fail("num_experts_per_tok", "exceeds n_routed_experts");
    if (c.n_shared_experts < 0) r.fail("n_shared_experts", "must be >= 0");
    positive("n_group", c.n_group);
    if (c.n_group > 0 && c.n_routed_experts % c.n_group) r.fail("n_group", "must divide n_routed_experts");
    if (c.topk_group <= 0 || c.topk_group > c.n_group) r.fail("topk_group", "must be between 1 and n_group");
    if (c.topk_method != TopkMethod::GREEDY && c.n_group > 0 && c.topk_group > 0) {
      const int64_t per_group = c.n_routed_experts / c.n_group;
      if (c.num_experts_per_tok > c.topk_group * per_group)
        r.fail("num_experts_per_tok", "exceeds the experts in topk_group groups");
      if (c.topk_method == TopkMethod::NOAUX_TC && per_group < 2)
        r.fail("n_group", "leaves fewer than 2 experts per group (noaux_tc scores groups by their top-2)");
    }
    if (c.routed_scaling_factor <= 0) r.fail("routed_scaling_factor", "must be > 0");
  }
  if (c.bos_token_id >= c.vocab_size) r.fail("bos_token_id", "is outside the vocabulary");
  for (int64_t e : c.eos_token_ids)
    if (e < 0 || e >= c.vocab_size) r.fail("eos_token_id", "is outside the vocabulary");
  if (!r.error().empty()) return Status::error(r.error());
  return c;
}

Expected<ModelConfig> load_model_config(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.status();
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Status::error(path + ": invalid JSON");
  return parse_model_config(j, path);
}

json model_config_to_json(const ModelConfig& c) {
  json j;
  j["architectures"] = {c.model_type == "deepseek_v3" ? "DeepseekV3ForCausalLM" : "DeepseekV2ForCausalLM"};
  j["model_type"] = c.model_type;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["moe_intermediate_size"] = c.moe_intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  if (c.num_nextn_predict_layers > 0) j["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["n_shared_experts"] = c.n_shared_experts;
  j["n_routed_experts"] = c.n_routed_experts;
  j["num_experts_per_tok"] = c.num_experts_per_tok;
  j["routed_scaling_factor"] = c.routed_scaling_factor;
  j["topk_method"] = topk_method_name(c.topk_method);
  j["n_group"] = c.n_group;
  j["topk_group"] = c.topk_group;
  j["scoring_func"] = scoring_func_name(c.scoring_func);
  j["norm_topk_prob"] = c.norm_topk_prob;
  j["moe_layer_freq"] = c.moe_layer_freq;
  j["first_k_dense_replace"] = c.first_k_dense_replace;
  j["q_lora_rank"] = c.q_lora_rank > 0 ? json(c.q_lora_rank) : json(nullptr);
  j["kv_lora_rank"] = c.kv_lora_rank;
  j["qk_nope_head_dim"] = c.qk_nope_head_dim;
  j["qk_rope_head_dim"] = c.qk_rope_head_dim;
  j["v_head_dim"] = c.v_head_dim;
  j["hidden_act"] = c.hidden_act;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["max_position_embeddings"] = c.max_position_embeddings;
  if (c.rope_scaling.yarn) {
    j["rope_scaling"] = {{"type", "yarn"},
                         {"factor", c.rope_scaling.factor},
                         {"original_max_position_embeddings", c.rope_scaling.original_max_position},
                         {"beta_fast", c.rope_scaling.beta_fast},
                         {"beta_slow", c.rope_scaling.beta_slow},
                         {"mscale", c.rope_scaling.mscale},
                         {"mscale_all_dim", c.rope_scaling.mscale_all_dim}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty()) j["eos_token_id"] = c.eos_token_ids;
  j["torch_dtype"] = c.torch_dtype;
  j["use_cache"] = true;
  if (c.quant.fp8) {
    j["quantization_config"] = {{"quant_method", "fp8"},
                                {"fmt", "e4m3"},
                                {"activation_scheme", "dynamic"},
                                {"weight_block_size", {128, 128}}};
    if (!c.quant.scale_fmt.empty()) j["quantization_config"]["scale_fmt"] = c.quant.scale_fmt;
  }
  return j;
}

}  // namespace fathom
