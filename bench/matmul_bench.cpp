// matmul() on the model's real shapes (bf16 weights; fp8 for a few), M = 1 (decode), 32 (batched decode) and
// 512 (prefill), with the ThreadPool over all cores as the model uses it.
//   build/matmul_bench [--benchmark_filter=...] [--benchmark_repetitions=5]
// Counters: GB/s = weight bytes read per second (the GEMV roofline), GFLOP/s = 2·M·N·K per second (GEMM).
// Compare with machine_limits_bench (read bandwidth, f32 FMA peak) on the same machine.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/numeric.h"
#include "ops/ops.h"

namespace fathom {
namespace {

struct Weight {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  WeightView view;
  std::vector<uint64_t> coded;  // coded pair panels (64-bit words: aligned enough for the writer's 64 bytes)
  int64_t stored_bytes = 0;     // what the view streams
};

Weight make(DType t, int64_t N, int64_t K) {
  Weight w;
  w.bytes.resize(N * K * dtype_size(t));
  std::mt19937 rng(1);
  if (t == DType::BF16) {
    auto* p = reinterpret_cast<uint16_t*>(w.bytes.data());
    std::normal_distribution<float> nd(0.f, 0.02f);  // as the presets' weights (what the coded layout sees)
    for (int64_t i = 0; i < N * K; ++i) p[i] = f32_to_bf16(nd(rng));
  } else {
    for (auto& b : w.bytes) b = static_cast<uint8_t>(rng() % 0x70);
    w.scales.assign(((N + 127) / 128) * ((K + 127) / 128), 0.01f);
  }
  w.view = {t, w.bytes.data(), N, K, w.scales.empty() ? nullptr : w.scales.data()};
  return w;
}

// How the weights lie: row-major (mapped), packed pair panels, or (bf16) coded pair panels as the model places
// them where the kernels read panels.
enum Layout : int64_t { kRowMajor = 0, kPanels = 1, kCoded = 2 };

Weight make_placed(DType t, int64_t N, int64_t K, int64_t layout) {
  Weight w = make(t, N, K);
  w.stored_bytes = static_cast<int64_t>(w.bytes.size());
  if (layout == kRowMajor) return w;
  if (layout == kCoded) {
    w.stored_bytes = coded_panels_bytes(w.view);
    w.coded.resize(w.stored_bytes / 8 + 16);
    const auto at = (reinterpret_cast<uintptr_t>(w.coded.data()) + 63) / 64 * 64;
    w.view = pack_coded_panels(w.view, reinterpret_cast<void*>(at));
    return w;
  }
  std::vector<uint8_t> p(w.bytes.size());
  w.view = pack_panels(w.view, p.data());
  w.bytes.swap(p);  // the view now points into bytes
  return w;
}

void BM_Matmul(benchmark::State& state, DType t) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2), threads = state.range(3);
  const int64_t layout = state.range(4);
  if (layout != kRowMajor && !panels_supported()) return state.SkipWithError("packed panels need AVX512-BF16");
  const Weight w = make_placed(t, N, K, layout);
  std::vector<float> x(M * K, 0.01f), y(M * N);
  ThreadPool pool(static_cast<int>(threads));
  for (auto _ : state) {
    matmul(x.data(), K, M, w.view, y.data(), N, threads > 1 ? &pool : nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  const auto bytes = static_cast<double>(w.stored_bytes);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * static_cast<double>(M) * N * K, benchmark::Counter::kIsIterationInvariantRate);
}

// {M, N, K, threads, layout}: lm_head (tiny, small), small-preset q_b / kv_a / dense gate / dense down / expert up,
// tiny o_proj; row-major, plus the small lm_head packed and coded (M = 1, 3: rows per expert at B=32, 16: a serving
// batch, 32), the dense prefill products packed and coded, and an in-cache packed weight at M = 12 / 16 / 32.
void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t th : {1, 2}) {
    for (int64_t M : {1, 32}) {
      b->Args({M, 129280, 512, th, 0});
      b->Args({M, 129280, 1024, th, 0});
    }
    for (int64_t M : {1, 32, 512}) {
      b->Args({M, 1536, 384, th, 0});
      b->Args({M, 288, 1024, th, 0});
      b->Args({M, 2816, 1024, th, 0});
      b->Args({M, 1024, 2816, th, 0});
      b->Args({M, 512, 1024, th, 0});
    }
  }
  for (int64_t M : {1, 3, 16, 32}) b->Args({M, 129280, 1024, 2, 1});
  for (int64_t M : {1, 3, 16, 32}) b->Args({M, 129280, 1024, 2, 2});  // coded, as the model places bf16 now
  for (int64_t layout : {1, 2}) b->Args({1, 129280, 1024, 1, layout});  // one core's GEMV
  // Prefill products as the model places them (packed) — the rows above are row-major (mapped weights).
  for (int64_t layout : {1, 2}) {
    b->Args({512, 2816, 1024, 2, layout});
    b->Args({512, 1024, 2816, 2, layout});
  }
  // Weights that stay in cache (1.5 MB, both threads' L2): the micro-kernel's arithmetic rate without streaming.
  for (int64_t M : {12, 16, 32})
    for (int64_t layout : {1, 2}) b->Args({M, 768, 1024, 2, layout});
  b->ArgNames({"M", "N", "K", "threads", "layout"});
}

BENCHMARK_CAPTURE(BM_Matmul, bf16, DType::BF16)->Apply(shapes)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Matmul, fp8, DType::F8_E4M3)
    ->Args({1, 129280, 1024, 2, 0})
    ->Args({1, 2816, 1024, 2, 0})
    ->Args({512, 2816, 1024, 2, 0})
    ->Args({1, 129280, 1024, 2, 1})
    ->Args({16, 129280, 1024, 2, 1})
    ->Args({1, 2816, 1024, 2, 1})
    ->Args({512, 2816, 1024, 2, 1})
    ->Args({512, 1024, 2816, 2, 1})
    ->Args({512, 2048, 7168, 2, 1})  // DeepSeek-V3's expert gate/up, a 512-token prefill's worth of rows
    ->Args({512, 7168, 2048, 2, 1})  // and its down projection
    ->ArgNames({"M", "N", "K", "threads", "layout"})
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// MoE: 64 experts' up projections ([512, 1024] bf16), M tokens each (3: 32 sequences × top-6 / 64; 1–2: a serving
// batch of 16; 12: a 128-token prefill), as 64 matmul() calls (64 fork/joins) or one matmul_batch(), the weights
// row-major, in packed panels or in coded panels (where the kernels read them). Counter: GB/s of the bytes stored.
void BM_Experts(benchmark::State& state) {
  const bool batched = state.range(0) != 0;
  const int64_t layout = state.range(2);
  const int64_t M = state.range(1);
  constexpr int64_t E = 64, N = 512, K = 1024;
  if (layout != kRowMajor && !panels_supported()) return state.SkipWithError("packed panels need AVX512-BF16");
  std::vector<Weight> w;
  for (int64_t e = 0; e < E; ++e) w.push_back(make_placed(DType::BF16, N, K, layout));
  std::vector<float> x(E * M * K, 0.01f), y(E * M * N);
  std::vector<MatmulJob> jobs;
  for (int64_t e = 0; e < E; ++e) jobs.push_back({x.data() + e * M * K, K, M, w[e].view, y.data() + e * M * N, N});
  ThreadPool pool(0);
  for (auto _ : state) {
    if (batched) {
      matmul_batch(jobs.data(), E, &pool);
    } else {
      for (const MatmulJob& j : jobs) matmul(j.x, j.ldx, j.M, j.w, j.y, j.ldy, &pool);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] =
      benchmark::Counter(E * w[0].stored_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Experts)
    ->ArgsProduct({{0, 1}, {1, 2, 3, 12}, {0, 1, 2}})
    ->ArgNames({"batched", "M", "layout"})
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// MLA decode's per-head products on one thread, cold: 16 heads of an fp8 kv_b_proj ([16 · 128, 256], `small`'s),
// each W_UK[h] absorption (matmul_kn, one query row) then, after the attention, each W_UV[h] up-projection (f32
// input), with the caches flushed before every iteration (96 MB read, not timed). touch:1 reads W_UV[h] right after
// W_UK[h] (touch_weights), as mla_forward does. Time per iteration = one layer's 16 heads on one thread.
// (300 iterations: each flush takes milliseconds.)
void BM_MlaHeadsCold(benchmark::State& state) {
  const bool touch = state.range(0) != 0;
  constexpr int64_t nh = 16, dn = 64, dv = 64, rkv = 256, dqk = 96;
  Weight w = make(DType::F8_E4M3, nh * (dn + dv), rkv);
  std::vector<float> q(nh * dqk, 0.5f), q_abs(nh * rkv), lat(nh * rkv, 0.25f), attn(nh * dv);
  std::vector<uint8_t> flush(96 << 20, 1);
  uint64_t sink = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < flush.size(); i += 64) sink += flush[i];
    state.ResumeTiming();
    for (int64_t h = 0; h < nh; ++h) {
      const WeightView w_uk = w.view.slice_rows(h * (dn + dv), h * (dn + dv) + dn);
      matmul_kn(q.data() + h * dqk, nh * dqk, 1, w_uk, q_abs.data() + h * rkv, nh * rkv, nullptr);
      if (touch) touch_weights(w.view.slice_rows(h * (dn + dv) + dn, (h + 1) * (dn + dv)));
    }
    for (int64_t h = 0; h < nh; ++h) {
      const WeightView w_uv = w.view.slice_rows(h * (dn + dv) + dn, (h + 1) * (dn + dv));
      matmul(lat.data() + h * rkv, nh * rkv, 1, w_uv, attn.data() + h * dv, nh * dv, nullptr, MatmulInput::F32);
    }
    benchmark::DoNotOptimize(attn.data());
  }
  benchmark::DoNotOptimize(sink);
}
BENCHMARK(BM_MlaHeadsCold)
    ->ArgName("touch")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(300)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fathom

BENCHMARK_MAIN();
