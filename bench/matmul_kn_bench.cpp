// The W_UK absorption of MLA (q_abs[t, h] = W_UK[h]ᵀ q_nope[t, h]) two ways, on the small preset's shapes
// (16 heads, d_nope 64, r_kv 256; kv_b_proj bf16 [16·128, 256]):
//   loop:      one decoded W_UK row at a time, axpy into q_abs (the form src/model/mla.cpp uses today);
//   matmul_kn: ops.h's y = x·W kernel per head (AVX-512/AVX2, one FMA chain per element over d).
//   build/matmul_kn_bench [--benchmark_repetitions=5]      Counter: GFLOP/s = 2·T·n_h·d_nope·r_kv per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "core/numeric.h"
#include "ops/ops.h"

namespace fathom {
namespace {

constexpr int64_t kHeads = 16, kNope = 64, kV = 64, kRank = 256, kQk = 96;

struct Inputs {
  std::vector<uint16_t> kv_b;  // [n_h · (d_nope + d_v), r_kv]
  std::vector<float> q;        // [T, n_h · d_qk]
  std::vector<float> q_abs;    // [T, n_h, r_kv]
  WeightView w;
  explicit Inputs(int64_t T) : kv_b(kHeads * (kNope + kV) * kRank), q(T * kHeads * kQk), q_abs(T * kHeads * kRank) {
    std::mt19937 rng(1);
    std::normal_distribution<float> nd;
    for (auto& v : kv_b) v = f32_to_bf16(nd(rng) * 0.02f);
    for (auto& v : q) v = nd(rng);
    w = {DType::BF16, kv_b.data(), kHeads * (kNope + kV), kRank};
  }
};

void BM_AbsorbLoop(benchmark::State& state) {
  const int64_t T = state.range(0);
  Inputs in(T);
  std::vector<float> wrow(kRank);
  for (auto _ : state) {
    for (int64_t h = 0; h < kHeads; ++h) {
      for (int64_t t = 0; t < T; ++t) std::fill_n(in.q_abs.data() + (t * kHeads + h) * kRank, kRank, 0.f);
      for (int64_t d = 0; d < kNope; ++d) {
        decode_rows(in.w, h * (kNope + kV) + d, h * (kNope + kV) + d + 1, wrow.data());
        for (int64_t t = 0; t < T; ++t) {
          const float qd = in.q[t * kHeads * kQk + h * kQk + d];
          float* qa = in.q_abs.data() + (t * kHeads + h) * kRank;
          for (int64_t i = 0; i < kRank; ++i) qa[i] += qd * wrow[i];
        }
      }
    }
    benchmark::DoNotOptimize(in.q_abs.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2e-9 * T * kHeads * kNope * kRank,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_AbsorbMatmulKn(benchmark::State& state) {
  const int64_t T = state.range(0);
  Inputs in(T);
  for (auto _ : state) {
    for (int64_t h = 0; h < kHeads; ++h) {
      const WeightView w_uk = in.w.slice_rows(h * (kNope + kV), h * (kNope + kV) + kNope);  // [d_nope, r_kv]
      matmul_kn(in.q.data() + h * kQk, kHeads * kQk, T, w_uk, in.q_abs.data() + h * kRank, kHeads * kRank, nullptr);
    }
    benchmark::DoNotOptimize(in.q_abs.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2e-9 * T * kHeads * kNope * kRank,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_AbsorbLoop)->Arg(1)->Arg(32)->Arg(512)->ArgName("T")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AbsorbMatmulKn)->Arg(1)->Arg(32)->Arg(512)->ArgName("T")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fathom

BENCHMARK_MAIN();
