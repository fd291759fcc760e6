// One sampled token from a [vocab = 129280] row of logits (DeepSeek-V3's vocabulary), as the engine does for every
// sampled row of a step: temperature 0.6 + top_p 0.95 (the presets' generation_config), top_p only, top_k 40, and
// greedy. Logits are Gaussian with standard deviation `spread`: 1 is nearly flat (a random-weight model), 4 is
// peaked (a trained model's typical row), so top_p keeps most or few of the tokens.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "engine/sampler.h"

namespace fathom {
namespace {

constexpr int64_t kVocab = 129280;

void BM_Sample(benchmark::State& state, float temperature, float top_p, int32_t top_k) {
  const float spread = static_cast<float>(state.range(0));
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, spread);
  std::vector<float> base(kVocab), row(kVocab);
  for (float& v : base) v = nd(rng);
  Sampler sampler(kVocab);
  ResolvedSampling s;
  s.temperature = temperature;
  s.top_p = top_p;
  s.top_k = top_k;
  std::vector<int32_t> tokens = {1, 2, 3};
  int64_t i = 0;
  for (auto _ : state) {
    row = base;
    s.seed = static_cast<uint64_t>(i++);
    benchmark::DoNotOptimize(sampler.sample(row.data(), s, tokens, 3, {}, nullptr));
  }
}
BENCHMARK_CAPTURE(BM_Sample, t0.6_p0.95, 0.6f, 0.95f, 0)->Arg(1)->Arg(4)->ArgName("spread")->Unit(
    benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Sample, t1_p0.9, 1.0f, 0.9f, 0)->Arg(1)->Arg(4)->ArgName("spread")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Sample, t0.8_k40, 0.8f, 1.0f, 40)->Arg(1)->Arg(4)->ArgName("spread")->Unit(
    benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Sample, greedy, 0.0f, 1.0f, 0)->Arg(1)->ArgName("spread")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fathom

BENCHMARK_MAIN();
