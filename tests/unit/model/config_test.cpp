// config.json parsing and validation; derived constants against MODEL_SPEC §3.4–3.5 and §8.
#include "model/config.h"

#include <gtest/gtest.h>

#include "model/inspect.h"
#include "model/presets.h"

namespace fathom {
namespace {

nlohmann::json preset(const char* name) { return *preset_config_json(name); }

TEST(Config, ParsesV3) {
  auto c = parse_model_config(preset("v3-671b"));
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->topk_method, TopkMethod::NOAUX_TC);
  EXPECT_EQ(c->scoring_func, ScoringFunc::SIGMOID);
  EXPECT_TRUE(c->quant.fp8);
  EXPECT_EQ(c->latent_dim(), 576);
  EXPECT_NEAR(c->softmax_scale(), 0.135233779, 1e-8);
  EXPECT_DOUBLE_EQ(c->rope_amplitude(), 1.0);
  EXPECT_TRUE(c->is_moe_layer(3));
  EXPECT_FALSE(c->is_moe_layer(2));
}

TEST(Config, ParsesV2LiteWithNullQLora) {
  auto c = parse_model_config(preset("v2-lite"));
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->has_q_lora());
  EXPECT_EQ(c->topk_method, TopkMethod::GREEDY);
  EXPECT_EQ(c->scoring_func, ScoringFunc::SOFTMAX);
  EXPECT_FALSE(c->quant.fp8);
  EXPECT_NEAR(c->softmax_scale(), 0.114721387, 1e-8);
  EXPECT_NEAR(c->rope_amplitude(), 1.0, 1e-12);
}

TEST(Config, YarnFrequenciesMatchSpec) {
  auto c = parse_model_config(preset("v3-671b"));
  const auto w = c->rope_inv_freq();
  ASSERT_EQ(w.size(), 32u);
  // MODEL_SPEC §3.4 test values (fp64); ours are computed in f32 as the references do.
  const std::pair<int, double> want[] = {{0, 1.0}, {10, 0.0562341325}, {11, 0.0390069266}, {12, 0.0268793601},
                                         {16, 0.0055}, {22, 1.77827941e-4}, {23, 3.33380358e-5}, {24, 2.5e-5},
                                         {31, 3.33380358e-6}};
  for (auto [i, v] : want) EXPECT_NEAR(w[i], v, v * 2e-6) << "omega_" << i;
}

TEST(Config, AccountingMatchesSpec) {
  const ModelAccounting v3 = account(*parse_model_config(preset("v3-671b")));
  EXPECT_NEAR(v3.params_total / 1e9, 671.03, 0.01);
  EXPECT_NEAR(v3.params_active / 1e9, 37.55, 0.01);
  EXPECT_NEAR(v3.params_mtp / 1e9, 11.61, 0.01);
  EXPECT_EQ(v3.cache_values_per_token_per_layer, 576);
  EXPECT_EQ(v3.cache_bytes_per_token, 70272);
  const ModelAccounting v2 = account(*parse_model_config(preset("v2-lite")));
  EXPECT_NEAR(v2.params_total / 1e9, 15.71, 0.01);
  EXPECT_NEAR(v2.params_active / 1e9, 2.66, 0.01);
  EXPECT_EQ(v2.cache_bytes_per_token, 31104);
}

std::string error_for(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = preset("v3-671b");
  edit(j);
  auto c = parse_model_config(j, "cfg.json");
  EXPECT_FALSE(c);
  return c ? "" : c.error();
}

TEST(Config, ErrorsNameTheField) {
  EXPECT_EQ(error_for([](auto& j) { j.erase("hidden_size"); }), "cfg.json: field 'hidden_size' is missing");
  EXPECT_EQ(error_for([](auto& j) { j["hidden_size"] = "big"; }), "cfg.json: field 'hidden_size' must be an integer");
  EXPECT_EQ(error_for([](auto& j) { j.erase("q_lora_rank"); }),
            "cfg.json: field 'q_lora_rank' is missing (use null for no query compression)");
  EXPECT_NE(error_for([](auto& j) { j["model_type"] = "llama"; }).find("'model_type' is 'llama'"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["topk_method"] = "best"; }).find("'topk_method'"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["scoring_func"] = "relu"; }).find("'scoring_func'"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["n_group"] = 7; }).find("'n_group' must divide n_routed_experts"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["topk_group"] = 9; }).find("'topk_group'"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["num_experts_per_tok"] = 300; }).find("'num_experts_per_tok'"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["qk_rope_head_dim"] = 63; }).find("'qk_rope_head_dim' must be even"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["rope_scaling"].erase("factor"); }).find("rope_scaling: field 'factor' is missing"),
            std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["quantization_config"]["weight_block_size"] = {64, 64}; })
                .find("quantization_config: field 'weight_block_size' must be [128, 128]"),
            std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["quantization_config"]["quant_method"] = "gptq"; }).find("'quant_method'"),
            std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["hidden_act"] = "gelu"; }).find("'hidden_act'"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["eos_token_id"] = 999999; }).find("'eos_token_id'"), std::string::npos);
  EXPECT_NE(error_for([](auto& j) { j["first_k_dense_replace"] = 100; }).find("'first_k_dense_replace'"), std::string::npos);
}

TEST(Config, RoundTripsThroughJson) {
  auto a = parse_model_config(preset("v2-lite"));
  auto b = parse_model_config(model_config_to_json(*a));
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->q_lora_rank, 0);
  EXPECT_EQ(b->rope_scaling.mscale_all_dim, 0.707);
  EXPECT_EQ(b->eos_token_ids, a->eos_token_ids);
}

}  // namespace
}  // namespace fathom
