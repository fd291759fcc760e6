#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace fathom {
namespace {

constexpr int64_t kV = 8;

ResolvedSampling greedy() {
  ResolvedSampling s;
  s.temperature = 0.0f;
  s.max_tokens = 100;
  return s;
}

int32_t draw(Sampler& sm, std::vector<float> logits, const ResolvedSampling& s, std::vector<int32_t> hist = {1},
             int32_t n_prompt = 1, std::vector<int32_t> eos = {}, TokenLogprob* lp = nullptr) {
  return sm.sample(logits.data(), s, hist, n_prompt, eos, lp);
}

// Empirical distribution of the first output token over many seeds.
std::map<int32_t, double> histogram(const std::vector<float>& logits, ResolvedSampling s, int n = 20000) {
  Sampler sm(kV);
  std::map<int32_t, double> h;
  for (int i = 0; i < n; ++i) {
    s.seed = 1000 + i;
    h[draw(sm, logits, s)] += 1.0 / n;
  }
  return h;
}

const std::vector<float> kLogits = {1.0f, 3.0f, 2.0f, 0.0f, 2.5f, -1.0f, 0.5f, 1.5f};

TEST(Sampler, GreedyTakesArgmaxAndBreaksTiesTowardsLowerId) {
  Sampler sm(kV);
  EXPECT_EQ(draw(sm, kLogits, greedy()), 1);
  EXPECT_EQ(draw(sm, {0, 5, 0, 5, 0, 0, 0, 0}, greedy()), 1);
}

TEST(Sampler, TemperatureOneMatchesSoftmax) {
  ResolvedSampling s = greedy();
  s.temperature = 1.0f;
  const auto h = histogram(kLogits, s);
  double z = 0;
  for (float l : kLogits) z += std::exp(l);
  for (int i = 0; i < kV; ++i) EXPECT_NEAR(h.count(i) ? h.at(i) : 0.0, std::exp(kLogits[i]) / z, 0.012) << i;
}

TEST(Sampler, TopKTopPMinPRestrictTheCandidates) {
  ResolvedSampling s = greedy();
  s.temperature = 1.0f;
  s.top_k = 2;
  auto h = histogram(kLogits, s, 4000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_TRUE(h.count(1) && h.count(4));
  EXPECT_NEAR(h[1], 1.0 / (1.0 + std::exp(-0.5)), 0.03);

  s.top_k = 0;
  s.top_p = 0.5f;  // p(1) = 0.39, p(4) = 0.24: the smallest prefix reaching 0.5 is {1, 4}
  h = histogram(kLogits, s, 4000);
  EXPECT_EQ(h.size(), 2u);

  s.top_p = 1.0f;
  s.min_p = 0.3f;  // keep p >= 0.3 p_max: logits >= 3 - ln(1/0.3) = 1.8 → ids 1, 4, 2
  h = histogram(kLogits, s, 4000);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_TRUE(h.count(2));
}

TEST(Sampler, SameSeedSameTokenDifferentSeedsDiffer) {
  ResolvedSampling s = greedy();
  s.temperature = 1.0f;
  Sampler a(kV), b(kV);
  std::map<int32_t, int> seen;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    s.seed = seed;
    const int32_t x = draw(a, kLogits, s);
    EXPECT_EQ(x, draw(b, kLogits, s));
    seen[x]++;
  }
  EXPECT_GT(seen.size(), 2u);
}

TEST(Sampler, UniformDependsOnSeedAndIndexOnly) {
  EXPECT_EQ(Sampler::uniform(5, 3), Sampler::uniform(5, 3));
  EXPECT_NE(Sampler::uniform(5, 3), Sampler::uniform(5, 4));
  EXPECT_NE(Sampler::uniform(5, 3), Sampler::uniform(6, 3));
  double mean = 0;
  for (int i = 0; i < 10000; ++i) mean += Sampler::uniform(42, i) / 10000;
  EXPECT_NEAR(mean, 0.5, 0.02);
}

TEST(Sampler, LogitBiasAndMinTokensMaskEosAndStopIds) {
  Sampler sm(kV);
  ResolvedSampling s = greedy();
  s.logit_bias = {{5, 10.0f}};
  EXPECT_EQ(draw(sm, kLogits, s), 5);
  s.logit_bias.clear();
  s.min_tokens = 2;
  s.stop_token_ids = {4};
  // EOS = 1 (the argmax) and stop id 4 are masked while fewer than 2 outputs exist: 2 wins.
  EXPECT_EQ(draw(sm, kLogits, s, {3}, 1, {1}), 2);
  EXPECT_EQ(draw(sm, kLogits, s, {3, 0, 0}, 1, {1}), 1);
  s.ignore_eos = true;  // with ignore_eos EOS is an ordinary token
  EXPECT_EQ(draw(sm, kLogits, s, {3}, 1, {1}), 1);
}

TEST(Sampler, RepetitionPenaltyFollowsHfAndPresenceFrequencyCountOutputOnly) {
  Sampler sm(kV);
  ResolvedSampling s = greedy();
  s.repetition_penalty = 2.0f;  // logit 3 → 1.5 < 2.5: id 4 wins; applies to prompt tokens too
  EXPECT_EQ(draw(sm, kLogits, s, {1}, 1), 4);
  s.repetition_penalty = 1.0f;
  s.presence_penalty = 0.4f;
  s.frequency_penalty = 0.1f;  // id 1 in the prompt only: untouched
  EXPECT_EQ(draw(sm, kLogits, s, {1}, 1), 1);
  // id 1 twice in the output: 3 - 0.4 - 0.2 = 2.4 < 2.5
  EXPECT_EQ(draw(sm, kLogits, s, {0, 1, 1}, 1), 4);
  // the scratch is clean afterwards: the same call again gives the same answer, a fresh context the original
  EXPECT_EQ(draw(sm, kLogits, s, {0, 1, 1}, 1), 4);
  EXPECT_EQ(draw(sm, kLogits, s, {0}, 1), 1);
}

TEST(Sampler, LogprobsAreLogSoftmaxWithTopN) {
  Sampler sm(kV);
  ResolvedSampling s = greedy();
  s.n_logprobs = 3;
  TokenLogprob lp;
  EXPECT_EQ(draw(sm, kLogits, s, {1}, 1, {}, &lp), 1);
  double z = 0;
  for (float l : kLogits) z += std::exp(l);
  EXPECT_EQ(lp.token_id, 1);
  EXPECT_NEAR(lp.logprob, 3.0 - std::log(z), 1e-5);
  ASSERT_EQ(lp.top.size(), 3u);
  EXPECT_EQ(lp.top[0].first, 1);
  EXPECT_EQ(lp.top[1].first, 4);
  EXPECT_EQ(lp.top[2].first, 2);
  EXPECT_NEAR(lp.top[2].second, 2.0 - std::log(z), 1e-5);
}

TEST(Sampler, LargeVocabTopPOnAFlatDistributionKeepsTheBestSet) {
  const int64_t v = 5000;
  std::vector<float> flat(v, 0.0f);  // uniform: the kept set is most of the vocabulary
  ResolvedSampling s = greedy();
  s.temperature = 1.0f;
  s.top_p = 0.9f;
  Sampler sm(v);
  int32_t max_id = 0;
  for (int i = 0; i < 2000; ++i) {
    s.seed = i;
    std::vector<float> l = flat;
    max_id = std::max(max_id, sm.sample(l.data(), s, std::vector<int32_t>{0}, 1, {}, nullptr));
  }
  EXPECT_GT(max_id, 1024);     // candidates beyond the first 1024 are reachable
  EXPECT_LT(max_id, 0.9 * v);  // ties are ordered by id, so the top 90% are the lower ids
}

// Truncation goes through a histogram of p rather than a sort; every draw must still come from exactly the set a
// full sort gives (the k best; the smallest best-first prefix with top_p of the mass), on a vocabulary the size of
// DeepSeek-V3's with many near-equal logits around the cut.
TEST(Sampler, LargeVocabTruncationDrawsOnlyFromTheSortedReferenceSet) {
  const int64_t v = 129280;
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.5f);
  std::vector<float> logits(v);
  for (auto& x : logits) x = std::round(nd(rng) * 64.0f) / 64.0f;  // coarse values: ties across the cut
  // Reference order: by p (equivalently by logit, since e^x is monotone), ties to the lower id.
  std::vector<int32_t> order(v);
  for (int32_t i = 0; i < v; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  const float mx = logits[order[0]];
  for (float temperature : {0.6f, 1.0f}) {
    std::vector<double> p(v);
    double total = 0;
    for (int64_t i = 0; i < v; ++i) total += (p[i] = std::exp((logits[i] - mx) / temperature));
    std::vector<int32_t> rank(v);
    for (int32_t r = 0; r < v; ++r) rank[order[r]] = r;
    // top_p = 0.95: the prefix holding 95% of the mass (up to one token of slack for f32 vs double rounding).
    int64_t n_p = 0;
    for (double acc = 0; acc < 0.95 * total;) acc += p[order[n_p++]];
    ResolvedSampling s = greedy();
    s.temperature = temperature;
    s.top_p = 0.95f;
    Sampler sm(v);
    int32_t worst_p = 0;
    for (int i = 0; i < 300; ++i) {
      s.seed = 77 + i;
      std::vector<float> l = logits;
      worst_p = std::max(worst_p, rank[sm.sample(l.data(), s, std::vector<int32_t>{0}, 1, {}, nullptr)]);
    }
    EXPECT_LE(worst_p, n_p) << "T=" << temperature;
    EXPECT_GT(worst_p, n_p / 2) << "T=" << temperature;  // the draw reaches deep into the kept set
    // top_k = 50: exactly the 50 best, and each of them can be drawn.
    s.top_p = 1.0f;
    s.top_k = 50;
    std::set<int32_t> seen;
    for (int i = 0; i < 3000; ++i) {
      s.seed = 5000 + i;
      std::vector<float> l = logits;
      const int32_t t = sm.sample(l.data(), s, std::vector<int32_t>{0}, 1, {}, nullptr);
      ASSERT_LT(rank[t], 50) << "T=" << temperature;
      seen.insert(t);
    }
    EXPECT_GT(seen.size(), 40u) << "T=" << temperature;
  }
}

}  // namespace
}  // namespace fathom
