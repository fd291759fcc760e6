#include "engine/generation_config.h"

#include <gtest/gtest.h>

namespace fathom {

TEST(GenerationConfig, ReadsDeepseekStyleFile) {
  const auto j = nlohmann::json::parse(R"({"bos_token_id":0,"eos_token_id":1,"do_sample":true,
                                           "temperature":0.6,"top_p":0.95})");
  auto d = parse_generation_config(j, {5});
  ASSERT_TRUE(d.has_value()) << d.error();
  EXPECT_FLOAT_EQ(d->temperature, 0.6f);
  EXPECT_FLOAT_EQ(d->top_p, 0.95f);
  EXPECT_EQ(d->top_k, 0);
  EXPECT_EQ(d->eos_token_ids, std::vector<int32_t>{1});
}

TEST(GenerationConfig, DoSampleFalseMeansGreedyAndEosListsWork) {
  auto d = parse_generation_config(nlohmann::json::parse(R"({"do_sample":false,"eos_token_id":[3,4]})"), {});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->temperature, 0.0f);
  EXPECT_EQ(d->eos_token_ids, (std::vector<int32_t>{3, 4}));
  auto bad = parse_generation_config(nlohmann::json::parse(R"({"top_p":"high"})"), {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("top_p"), std::string::npos);
}

TEST(GenerationConfig, MissingFileGivesHfDefaults) {
  auto d = load_generation_defaults("/nonexistent-dir", {9});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->temperature, 1.0f);
  EXPECT_EQ(d->eos_token_ids, std::vector<int32_t>{9});
}

TEST(GenerationConfig, RequestOverridesDefaultsAndIsValidated) {
  GenerationDefaults d;
  d.temperature = 0.6f;
  d.top_p = 0.9f;
  SamplingParams p;
  p.top_p = 0.5f;
  auto r = resolve_sampling(p, d, 100, 50);
  ASSERT_TRUE(r.has_value());
  EXPECT_FLOAT_EQ(r->temperature, 0.6f);
  EXPECT_FLOAT_EQ(r->top_p, 0.5f);
  EXPECT_EQ(r->max_tokens, 50);
  p.logit_bias = {{100, 1.0f}};
  EXPECT_NE(resolve_sampling(p, d, 100, 50).error().find("logit_bias"), std::string::npos);
  p.logit_bias.clear();
  p.min_tokens = 60;
  EXPECT_NE(resolve_sampling(p, d, 100, 50).error().find("min_tokens"), std::string::npos);
}

}  // namespace fathom
