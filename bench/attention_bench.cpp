// MLA attention for one query token (1 head, or a group of kMlaHeadGroup heads, as the model calls it) over a
// paged bf16 latent cache: the scalar reference against the active SIMD kernel, at the presets' widths (tiny
// 128+32, small 256+32, V3 512+64) and several context lengths.
//   build/attention_bench [--benchmark_repetitions=5]
// Counter: GB/s = latent-cache bytes per head per second (each key counted twice per head: scores, then the
// weighted sum), so a kernel that shares key reads across heads can exceed the read bandwidth.
#include <benchmark/benchmark.h>

#include <numeric>
#include <random>
#include <vector>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom {
namespace {

void BM_Attention(benchmark::State& state, bool simd) {
  const int kv = static_cast<int>(state.range(0)), rope = static_cast<int>(state.range(1));
  const int64_t n_ctx = state.range(2), bs = 64, nb = (n_ctx + bs - 1) / bs;
  const int heads = static_cast<int>(state.range(3));
  const int width = kv + rope;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  std::vector<uint16_t> cache(nb * bs * width);
  for (auto& v : cache) v = f32_to_bf16(nd(rng));
  std::vector<int32_t> blocks(nb);
  std::iota(blocks.begin(), blocks.end(), 0);
  std::vector<float> q(heads * width), out(heads * kv), scratch(kMlaHeadGroup * n_ctx);
  for (auto& v : q) v = nd(rng) * 0.1f;
  const MlaAttentionFn fn = simd ? mla_attention_kernel() : ref::mla_attention;
  for (auto _ : state) {
    fn(q.data(), heads, kv, rope, cache.data(), blocks.data(), static_cast<int>(bs), n_ctx, 0.1f, out.data(),
       scratch.data(), nullptr);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] =
      benchmark::Counter(2e-9 * n_ctx * width * 2 * heads, benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t heads : {1, kMlaHeadGroup}) {
    for (int64_t n : {128, 1024, 4096}) {
      b->Args({128, 32, n, heads});
      b->Args({256, 32, n, heads});
      b->Args({512, 64, n, heads});
    }
  }
  b->ArgNames({"kv", "rope", "n_ctx", "heads"});
}

BENCHMARK_CAPTURE(BM_Attention, ref, false)->Apply(shapes)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Attention, simd, true)->Apply(shapes)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fathom

BENCHMARK_MAIN();
