// Router selection on hand-made scores (MODEL_SPEC §4 and §9.4).
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "model/layers.h"
#include "model/workspace.h"
#include "model/presets.h"

namespace fathom {
namespace {

float logit(float p) { return std::log(p / (1 - p)); }  // inverse sigmoid

ModelConfig v3_like(int E, int K, int G, int topk_group) {
  nlohmann::json j = *preset_config_json("tiny");
  j["n_routed_experts"] = E;
  j["num_experts_per_tok"] = K;
  j["n_group"] = G;
  j["topk_group"] = topk_group;
  return *parse_model_config(j);
}

TEST(Router, NoauxTcGroupsByTopTwoSumAndWeightsSumToScaling) {
  // 8 experts in 4 groups of 2; choose 2 groups, 2 experts.
  ModelConfig c = v3_like(8, 2, 4, 2);
  // sigmoid scores: group 0 has the single best expert (0.95) but a weak partner (0.05): sum 1.0.
  // group 1: 0.6 + 0.6 = 1.2; group 2: 0.55 + 0.55 = 1.1; group 3: 0.1 + 0.1.
  const float p[8] = {0.95f, 0.05f, 0.6f, 0.6f, 0.55f, 0.55f, 0.1f, 0.1f};
  float u[8];
  for (int e = 0; e < 8; ++e) u[e] = logit(p[e]);
  const float bias[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t idx[2];
  float w[2];
  { RouteScratch rs(c); route_tokens(c, bias, u, 1, idx, w, rs); }
  // Group 0 loses on its top-2 sum although it holds the top-1 expert.
  EXPECT_EQ(idx[0], 2);
  EXPECT_EQ(idx[1], 3);
  EXPECT_NEAR(w[0] + w[1], 2.5f, 1e-5f);
}

TEST(Router, BiasSelectsButDoesNotWeigh) {
  ModelConfig c = v3_like(8, 2, 1, 1);
  const float p[8] = {0.9f, 0.8f, 0.3f, 0.2f, 0.7f, 0.1f, 0.1f, 0.1f};
  float u[8];
  for (int e = 0; e < 8; ++e) u[e] = logit(p[e]);
  const float bias[8] = {-1.0f, 0, 0.6f, 0, 0, 0, 0, 0};  // negative bias removes expert 0; 2 rises to 0.9
  int32_t idx[2];
  float w[2];
  { RouteScratch rs(c); route_tokens(c, bias, u, 1, idx, w, rs); }
  EXPECT_EQ(idx[0], 1);
  EXPECT_EQ(idx[1], 2);
  // Weights from the unbiased sigmoid: 0.8 and 0.3, normalised, times 2.5.
  EXPECT_NEAR(w[0], 2.5f * 0.8f / 1.1f, 1e-5f);
  EXPECT_NEAR(w[1], 2.5f * 0.3f / 1.1f, 1e-5f);
}

TEST(Router, SoftmaxGreedyAndGroupLimited) {
  nlohmann::json j = *preset_config_json("v2-lite");
  j["n_routed_experts"] = 8;
  j["num_experts_per_tok"] = 2;
  j["routed_scaling_factor"] = 16.0;
  const float u[8] = {3.0f, 0.0f, 2.9f, 0.0f, 2.0f, 2.5f, 0.0f, 0.0f};
  float total = 0;
  for (float x : u) total += std::exp(x);
  int32_t idx[2];
  float w[2];
  auto greedy = *parse_model_config(j);
  { RouteScratch rs(greedy); route_tokens(greedy, nullptr, u, 1, idx, w, rs); }
  EXPECT_EQ(idx[0], 0);
  EXPECT_EQ(idx[1], 2);
  EXPECT_NEAR(w[0], 16.0f * std::exp(3.0f) / total, 1e-4f);  // no renormalisation for V2
  // Groups of 2: {0,1} best 3.0, {2,3} best 2.9, {4,5} best 2.5, {6,7}; keep 2 groups → {0,1},{2,3}.
  j["topk_method"] = "group_limited_greedy";
  j["n_group"] = 4;
  j["topk_group"] = 1;
  auto grouped = *parse_model_config(j);
  { RouteScratch rs(grouped); route_tokens(grouped, nullptr, u, 1, idx, w, rs); }
  EXPECT_EQ(idx[0], 0);  // only group {0, 1} is kept
  EXPECT_EQ(idx[1], 1);
}

TEST(Router, GreedySelectionMatchesAFullSortWithTiesToTheLowerIndex) {
  // Softmax greedy over 64 experts, 6 per token: the chosen set must be the first 6 of all experts sorted by
  // (logit descending, index ascending). Logits drawn from a few levels so that ties are common.
  nlohmann::json j = *preset_config_json("v2-lite");
  j["n_routed_experts"] = 64;
  j["num_experts_per_tok"] = 6;
  ModelConfig c = *parse_model_config(j);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> level(0, 5);
  RouteScratch rs(c);
  for (int trial = 0; trial < 500; ++trial) {
    float u[64];
    for (float& x : u) x = 0.5f * static_cast<float>(level(rng));
    int32_t idx[6];
    float w[6];
    route_tokens(c, nullptr, u, 1, idx, w, rs);
    std::vector<int32_t> order(64);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return u[a] > u[b]; });
    std::vector<int32_t> want(order.begin(), order.begin() + 6);
    std::sort(want.begin(), want.end());
    ASSERT_EQ(std::vector<int32_t>(idx, idx + 6), want) << "trial " << trial;
  }
}

}  // namespace
}  // namespace fathom
