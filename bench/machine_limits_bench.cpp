// This machine's ceilings, measured the way the kernels use it: read bandwidth of a 512 MiB buffer (far beyond
// the L3) with 1 and 2 threads, and the f32 FMA (and bf16 dot-product) peak with 1 and 2 threads.
//   build/machine_limits_bench [--benchmark_repetitions=5]
// matmul_bench's GB/s and GFLOP/s are read against these (docs/performance.md, "CPU performance").
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "core/thread_pool.h"

namespace fathom {
namespace {

__attribute__((target("avx512f"))) float sum_avx512(const float* p, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

__attribute__((target("avx2"))) float sum_avx2(const float* p, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
  }
  float t[8];
  _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

void BM_ReadBandwidth(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int64_t n = (512ll << 20) / 4;
  std::vector<float> buf(n, 1.0f);
  const bool has512 = __builtin_cpu_supports("avx512f");
  ThreadPool pool(threads);
  std::vector<float> out(threads);
  for (auto _ : state) {
    pool.parallel_for(threads, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const float* p = buf.data() + t * (n / threads);
        out[t] = has512 ? sum_avx512(p, n / threads) : sum_avx2(p, n / threads);
      }
    });
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(n * 4e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// 12 independent FMA chains per thread (enough to cover latency × throughput), 32 FLOPs per zmm FMA.
__attribute__((target("avx512f"))) float fma_chains(int64_t iters) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);
  for (int64_t k = 0; k < iters; ++k)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], x, y);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

// vdpbf16ps: 16 lanes × 2 products × 2 FLOPs = 64 FLOPs per instruction (the bf16 peak the issue quotes; Fathom
// does not use it on f32 activations, see docs/performance.md).
__attribute__((target("avx512f,avx512bf16"))) float dpbf16_chains(int64_t iters) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512bh x = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80));
  for (int64_t k = 0; k < iters; ++k)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm512_dpbf16_ps(a[i], x, x);
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  return _mm512_reduce_add_ps(s);
}

template <bool kBf16>
void BM_Peak(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512f") || (kBf16 && !__builtin_cpu_supports("avx512bf16"))) {
    state.SkipWithError("ISA not available");
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  const int64_t iters = 1 << 22;
  ThreadPool pool(threads);
  std::vector<float> out(threads);
  for (auto _ : state) {
    pool.parallel_for(threads, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) out[t] = kBf16 ? dpbf16_chains(iters) : fma_chains(iters);
    });
    benchmark::DoNotOptimize(out.data());
  }
  const double flops = static_cast<double>(iters) * 12 * (kBf16 ? 64 : 32) * threads;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_ReadBandwidth)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Peak, false)->Name("BM_FmaF32Peak")->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
BENCHMARK_TEMPLATE(BM_Peak, true)->Name("BM_DpBf16Peak")->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();

}  // namespace
}  // namespace fathom

BENCHMARK_MAIN();
