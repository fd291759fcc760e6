// Fathom's matmul() against the GEMM libraries Debian ships (OpenBLAS, oneDNN) on matmul_bench's shapes
// (small preset: lm_head 129280x1024, dense gate/up 2816x1024, dense down 1024x2816, expert up 512x1024, q_b
// 1536x384, tiny o_proj 288x1024), M = 1 / 32 / 512, 1 and 2 threads. Every variant computes y[M, N] = x[M, K] · Wᵀ
// with W in checkpoint layout [N, K]:
//   fathom_bf16      matmul(), W bf16 as stored; x rounded to bf16 inside (vdpbf16ps on AVX512-BF16 machines)
//   fathom_bf16_packed the same with W in pair panels as the model places it at load (pack_panels; as stored where
//                    the rows fill no whole panel or the kernel reads none); counter pack_ms
//   openblas_sgemm   cblas_sgemm(RowMajor, NoTrans, Trans) on an f32 copy of W: reads twice the weight bytes
//   openblas_sgemv   cblas_sgemv on the same f32 copy (M = 1 only: what a decode step would call)
//   openblas_sbgemm  cblas_sbgemm, bf16 x and W (only when the installed libopenblas exports it: looked up with
//                    dlsym, because the header declares it whether or not the library was built with BFLOAT16)
//   dnnl_bf16_nk     oneDNN matmul primitive, src bf16 [M, K], weights bf16 [K, N] in format "ba" (= W [N, K]
//                    row-major, no repacking), dst f32; x converted to bf16 by a oneDNN reorder inside the timing
//   dnnl_bf16_packed the same with weights in the layout the primitive prefers (format_tag::any), reordered once
//                    at set-up; counter pack_ms is that one-time cost (paid at load in an engine)
//   dnnl_sgemm       dnnl_sgemm('N', 'T') on the f32 copy of W
// Threads: Fathom's ThreadPool; openblas_set_num_threads (Debian's libopenblas0-pthread); oneDNN's Debian build uses
// the OpenMP runtime (DNNL_CPU_RUNTIME = OMP), so omp_set_num_threads before each primitive is created.
// Before the benchmarks it prints the libraries' configuration and a batch-invariance check: for each variant and
// shape (and three DeepSeek-V3 shapes), how many rows of an M = 32 product differ bitwise from M = 1 products of the
// same rows, from the first 32 rows of an M = 512 product, and from the same products on 2, 8 and 64 threads?
// (--skip_checks to leave it out.)
//   build/blas_compare_bench [--skip_checks] [--benchmark_filter=...] [--benchmark_repetitions=3]
// Counters: GFLOP/s = 2·M·N·K per second; GB/s = bytes of W in the form that variant reads (bf16: 2·N·K, f32: 4·N·K)
// per second — the figure of merit at M = 1. Results and conclusions: docs/gemm_libraries.md.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <dlfcn.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/numeric.h"
#include "ops/ops.h"

namespace fathom {
namespace {

// ---------------------------------------------------------------------------------------------------------------
// Weights: bf16 [N, K] as matmul_bench makes them, plus an exact f32 copy for the f32 libraries (made on first use).

struct Weights {
  int64_t N = 0, K = 0;
  std::vector<uint16_t> bf16;
  std::vector<float> f32;
  const float* f32_data() {
    if (f32.empty()) {
      f32.resize(bf16.size());
      for (size_t i = 0; i < bf16.size(); ++i) f32[i] = bf16_to_f32(bf16[i]);
    }
    return f32.data();
  }
};

Weights& weights(int64_t N, int64_t K) {
  static std::map<std::pair<int64_t, int64_t>, std::unique_ptr<Weights>> cache;
  auto& w = cache[{N, K}];
  if (!w) {
    w = std::make_unique<Weights>();
    w->N = N;
    w->K = K;
    w->bf16.resize(N * K);
    std::mt19937 rng(1);
    for (auto& v : w->bf16) v = f32_to_bf16(static_cast<float>(static_cast<int>(rng() % 200) - 100) * 1e-4f);
  }
  return *w;
}

std::vector<float> random_x(int64_t M, int64_t K, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> x(M * K);
  for (auto& v : x) v = u(rng);
  return x;
}

// ---------------------------------------------------------------------------------------------------------------
// The variants. Each is set up for one (N, K, M, threads) and then run() many times.

struct Impl {
  virtual ~Impl() = default;
  virtual void run(const float* x, float* y) = 0;  // x: [M, K], y: [M, N], both dense
  double pack_ms = 0;                              // one-time weight repacking, if any
};

struct Variant {
  std::string name;
  bool bf16_input;  // x rounded to bf16 (the product of bf16 values is exact in f32)
  bool f32_weights;  // reads an f32 copy of W
  bool m1_only;
  std::function<std::unique_ptr<Impl>(Weights&, int64_t M, int threads)> make;
};

struct FathomImpl : Impl {
  WeightView view;
  int64_t M;
  std::unique_ptr<ThreadPool> pool;
  std::vector<uint16_t> packed;  // pair panels, where the weight fills whole panels and the kernel reads them
  FathomImpl(Weights& w, int64_t M_, int threads, bool pack) : M(M_) {
    view = {DType::BF16, w.bf16.data(), w.N, w.K, nullptr};
    if (threads > 1) pool = std::make_unique<ThreadPool>(threads);
    if (pack && panels_supported() && can_pack_panels(view)) {
      const auto t0 = std::chrono::steady_clock::now();
      packed.resize(w.bf16.size());
      view = pack_panels(view, packed.data());
      pack_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
  }
  void run(const float* x, float* y) override { matmul(x, view.cols, M, view, y, view.rows, pool.get()); }
};

struct OpenblasSgemm : Impl {
  const float* w;
  int64_t M, N, K;
  OpenblasSgemm(Weights& wt, int64_t M_, int threads) : w(wt.f32_data()), M(M_), N(wt.N), K(wt.K) {
    openblas_set_num_threads(threads);
  }
  void run(const float* x, float* y) override {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.f, x, K, w, K, 0.f, y, N);
  }
};

struct OpenblasSgemv : Impl {
  const float* w;
  int64_t N, K;
  OpenblasSgemv(Weights& wt, int threads) : w(wt.f32_data()), N(wt.N), K(wt.K) { openblas_set_num_threads(threads); }
  void run(const float* x, float* y) override {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1.f, w, K, x, 1, 0.f, y, 1);
  }
};

using SbgemmFn = void (*)(int order, int transa, int transb, int m, int n, int k, float alpha, const uint16_t* a,
                          int lda, const uint16_t* b, int ldb, float beta, float* c, int ldc);
SbgemmFn find_sbgemm() { return reinterpret_cast<SbgemmFn>(dlsym(RTLD_DEFAULT, "cblas_sbgemm")); }

struct OpenblasSbgemm : Impl {
  SbgemmFn fn;
  const uint16_t* w;
  int64_t M, N, K;
  std::vector<uint16_t> xb;
  OpenblasSbgemm(Weights& wt, int64_t M_, int threads)
      : fn(find_sbgemm()), w(wt.bf16.data()), M(M_), N(wt.N), K(wt.K), xb(M_ * wt.K) {
    openblas_set_num_threads(threads);
  }
  void run(const float* x, float* y) override {
    for (int64_t i = 0; i < M * K; ++i) xb[i] = f32_to_bf16(x[i]);
    fn(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.f, xb.data(), K, w, K, 0.f, y, N);
  }
};

dnnl::engine& dnnl_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

struct DnnlMatmul : Impl {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  dnnl::stream stream{dnnl_engine()};
  dnnl::matmul prim;
  dnnl::reorder to_bf16;
  dnnl::memory x_f32, x_bf16, w_mem, y_mem;
  dnnl::memory w_packed;
  DnnlMatmul(Weights& w, int64_t M, int threads, bool packed) {
    omp_set_num_threads(threads);
    auto& eng = dnnl_engine();
    const dnnl::memory::dim m = M, n = w.N, k = w.K;
    const dnnl::memory::desc src_md({m, k}, dt::bf16, tag::ab), dst_md({m, n}, dt::f32, tag::ab);
    const dnnl::memory::desc w_nk({k, n}, dt::bf16, tag::ba);  // W [N, K] row-major seen as [K, N]
    const dnnl::memory::desc w_md = packed ? dnnl::memory::desc({k, n}, dt::bf16, tag::any) : w_nk;
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, w_md, dst_md), eng);
    prim = dnnl::matmul(pd);
    x_f32 = dnnl::memory({{m, k}, dt::f32, tag::ab}, eng, DNNL_MEMORY_NONE);
    x_bf16 = dnnl::memory(src_md, eng);
    to_bf16 = dnnl::reorder(x_f32, x_bf16);
    y_mem = dnnl::memory(dst_md, eng, DNNL_MEMORY_NONE);
    w_mem = dnnl::memory(w_nk, eng, w.bf16.data());
    if (packed) {
      w_packed = dnnl::memory(pd.weights_desc(), eng);
      const auto t0 = std::chrono::steady_clock::now();
      dnnl::reorder(w_mem, w_packed).execute(stream, w_mem, w_packed);
      stream.wait();
      pack_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      w_mem = w_packed;
    }
  }
  void run(const float* x, float* y) override {
    x_f32.set_data_handle(const_cast<float*>(x));
    y_mem.set_data_handle(y);
    to_bf16.execute(stream, x_f32, x_bf16);
    prim.execute(stream, {{DNNL_ARG_SRC, x_bf16}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DST, y_mem}});
    stream.wait();
  }
};

struct DnnlSgemm : Impl {
  const float* w;
  int64_t M, N, K;
  DnnlSgemm(Weights& wt, int64_t M_, int threads) : w(wt.f32_data()), M(M_), N(wt.N), K(wt.K) {
    omp_set_num_threads(threads);
  }
  void run(const float* x, float* y) override { dnnl_sgemm('N', 'T', M, N, K, 1.f, x, K, w, K, 0.f, y, N); }
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  v.push_back({"fathom_bf16", true, false, false,
               [](Weights& w, int64_t M, int th) { return std::make_unique<FathomImpl>(w, M, th, false); }});
  v.push_back({"fathom_bf16_packed", true, false, false,
               [](Weights& w, int64_t M, int th) { return std::make_unique<FathomImpl>(w, M, th, true); }});
  v.push_back({"openblas_sgemm", false, true, false,
               [](Weights& w, int64_t M, int th) { return std::make_unique<OpenblasSgemm>(w, M, th); }});
  v.push_back({"openblas_sgemv", false, true, true,
               [](Weights& w, int64_t, int th) { return std::make_unique<OpenblasSgemv>(w, th); }});
  if (find_sbgemm()) {
    v.push_back({"openblas_sbgemm", true, false, false,
                 [](Weights& w, int64_t M, int th) { return std::make_unique<OpenblasSbgemm>(w, M, th); }});
  }
  v.push_back({"dnnl_bf16_nk", true, false, false,
               [](Weights& w, int64_t M, int th) { return std::make_unique<DnnlMatmul>(w, M, th, false); }});
  v.push_back({"dnnl_bf16_packed", true, false, false,
               [](Weights& w, int64_t M, int th) { return std::make_unique<DnnlMatmul>(w, M, th, true); }});
  v.push_back({"dnnl_sgemm", false, true, false,
               [](Weights& w, int64_t M, int th) { return std::make_unique<DnnlSgemm>(w, M, th); }});
  return v;
}

// matmul_bench's shapes: {N, K} and the batch sizes each is run at (the lm_head only at decode sizes).
struct Shape {
  int64_t N, K;
  std::vector<int64_t> Ms;
};
const std::vector<Shape> kShapes = {{129280, 1024, {1, 32}}, {2816, 1024, {1, 32, 512}}, {1024, 2816, {1, 32, 512}},
                                    {512, 1024, {1, 32, 512}}, {1536, 384, {1, 32, 512}},  {288, 1024, {1, 32, 512}}};

// ---------------------------------------------------------------------------------------------------------------
// Batch invariance and accuracy, before any timing.

bool same_bits(const float* a, const float* b, int64_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

// Checked but not timed: DeepSeek-V3's kv_a (576x7168), expert down (7168x2048) and dense down (7168x18432).
const std::vector<Shape> kCheckOnlyShapes = {{576, 7168, {}}, {7168, 2048, {}}, {7168, 18432, {}}};

void check_variant(const Variant& v, const Shape& s, bool accuracy) {
  Weights& w = weights(s.N, s.K);
  const int64_t N = s.N, K = s.K, kRows1 = 8, M32 = 32, M512 = 512;
  const bool big = N * K > (int64_t{1} << 25);  // no M = 512 product for the largest weights
  const std::vector<float> x = random_x(M512, K, 7);
  auto product = [&](int64_t M, int th, const float* xp) {
    std::vector<float> y(M * N);
    v.make(w, M, th)->run(xp, y.data());
    return y;
  };
  auto rows_differ = [&](const std::vector<float>& a, const std::vector<float>& b, int64_t rows) {
    int64_t d = 0;
    for (int64_t r = 0; r < rows; ++r) d += !same_bits(a.data() + r * N, b.data() + r * N, N);
    return static_cast<long long>(d);
  };
  // Rows 0..7 as M = 1 products, one per row (1 thread).
  std::vector<float> y1(kRows1 * N);
  for (int64_t r = 0; r < kRows1; ++r) {
    const auto yr = product(1, 1, x.data() + r * K);
    std::copy(yr.begin(), yr.end(), y1.begin() + r * N);
  }
  // Accuracy of rows 0..7 against a double-precision product of the same inputs (x rounded to bf16 if the variant
  // rounds it): max |err| / Σ|x·w| — about 1e-7 means correct arguments and an f32 accumulation.
  double rel = 0;
  for (int64_t r = 0; accuracy && r < kRows1; ++r) {
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double xv = v.bf16_input ? bf16_to_f32(f32_to_bf16(x[r * K + k])) : x[r * K + k];
        const double wv = bf16_to_f32(w.bf16[n * K + k]);
        acc += xv * wv;
        mag += std::fabs(xv * wv);
      }
      if (mag > 0) rel = std::max(rel, std::fabs(y1[r * N + n] - acc) / mag);
    }
  }
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, accuracy ? "  %-17s %6lldx%-5lld err %.1e" : "  %-17s %6lldx%-5lld err  -    ",
                v.name.c_str(), static_cast<long long>(N), static_cast<long long>(K), rel);
  out += buf;
  if (!v.m1_only) {
    const auto y32 = product(M32, 1, x.data());
    float maxd = 0;
    for (int64_t i = 0; i < kRows1 * N; ++i) maxd = std::max(maxd, std::fabs(y1[i] - y32[i]));
    std::snprintf(buf, sizeof buf, " | M1 vs M32: %lld/8 rows differ (max |d| %.1e)", rows_differ(y1, y32, kRows1),
                  maxd);
    out += buf;
    if (!big) {
      std::snprintf(buf, sizeof buf, " | M32 vs M512: %lld/32", rows_differ(y32, product(M512, 1, x.data()), M32));
      out += buf;
    }
    // The same products split over more threads (8 and 64 oversubscribe this machine: they stand for bigger ones).
    for (int th : {2, 8, 64}) {
      std::snprintf(buf, sizeof buf, " | t%d vs t1: M1 %lld/1, M32 %lld/32", th,
                    rows_differ(y1, product(1, th, x.data()), 1), rows_differ(y32, product(M32, th, x.data()), M32));
      out += buf;
    }
  } else {
    for (int th : {2, 8, 64}) {
      std::snprintf(buf, sizeof buf, " | t%d vs t1: M1 %lld/1", th, rows_differ(y1, product(1, th, x.data()), 1));
      out += buf;
    }
  }
  std::printf("%s\n", out.c_str());
  std::fflush(stdout);
}

// A 2-D blocked layout in oneDNN's notation, dims named a = K, b = N: outer strides, then the inner blocks
// (e.g. "strides 16384,32768 blocks 16a32b2a" for the bf16 brgemm's VNNI-style packing).
std::string layout(const dnnl::memory::desc& md) {
  const dnnl_blocking_desc_t& b = md.data.format_desc.blocking;
  std::string s = "strides " + std::to_string(b.strides[0]) + "," + std::to_string(b.strides[1]);
  if (b.inner_nblks > 0) s += " blocks ";
  for (int i = 0; i < b.inner_nblks; ++i) {
    s += std::to_string(b.inner_blks[i]) + static_cast<char>('a' + b.inner_idxs[i]);
  }
  return s;
}

void print_config() {
  const dnnl_version_t* dv = dnnl_version();
  std::printf("OpenBLAS: %s; core %s; cblas_sbgemm %s\n", openblas_get_config(), openblas_get_corename(),
              find_sbgemm() ? "exported" : "not exported by this build");
  std::printf("oneDNN %d.%d.%d (cpu runtime %s), effective ISA %d (avx512_core_bf16 = %d)\n", dv->major, dv->minor,
              dv->patch, dv->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other",
              static_cast<int>(dnnl::get_effective_cpu_isa()), static_cast<int>(dnnl::cpu_isa::avx512_core_bf16));
  // What oneDNN picks for the bf16 matmul per M: implementation, preferred weight layout, creation time (a new M
  // means a new primitive; oneDNN caches them), and whether a run-time M (one primitive for every batch) exists.
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  for (int64_t M : {int64_t{1}, int64_t{32}, int64_t{512}, int64_t{DNNL_RUNTIME_DIM_VAL}}) {
    const dnnl::memory::dim n = 2816, k = 1024;
    const dnnl::memory::desc src({M, k}, dt::bf16, tag::ab), dst({M, n}, dt::f32, tag::ab);
    for (bool packed : {false, true}) {
      const dnnl::memory::desc wd({k, n}, dt::bf16, packed ? tag::any : tag::ba);
      const auto t0 = std::chrono::steady_clock::now();
      try {
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wd, dst), dnnl_engine());
        const dnnl::matmul prim(pd);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        const std::string fmt = layout(pd.weights_desc());
        std::printf("  dnnl bf16 matmul M=%s 2816x1024 weights %s: %s, weights %s, created in %.2f ms\n",
                    M == DNNL_RUNTIME_DIM_VAL ? "runtime" : std::to_string(M).c_str(), packed ? "any" : "ba",
                    pd.impl_info_str(), fmt.c_str(), ms);
      } catch (const dnnl::error& e) {
        std::printf("  dnnl bf16 matmul M=%s weights %s: not supported (%s)\n",
                    M == DNNL_RUNTIME_DIM_VAL ? "runtime" : std::to_string(M).c_str(), packed ? "any" : "ba",
                    e.what());
      }
    }
  }
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------------------------
// The timings: grouped by variant, so each library's worker threads (OpenBLAS and OpenMP spin for a while after a
// call) are only followed by another library's code a few times; a short pause at each switch lets them sleep.

void bench(benchmark::State& state, const Variant* v, int64_t N, int64_t K, int64_t M, int threads) {
  static const Variant* last = nullptr;
  if (last != v) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  last = v;
  Weights& w = weights(N, K);
  auto impl = v->make(w, M, threads);
  const std::vector<float> x = random_x(M, K, 3);
  std::vector<float> y(M * N);
  for (auto _ : state) {
    impl->run(x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(N) * K * (v->f32_weights ? 4 : 2);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * static_cast<double>(M) * N * K, benchmark::Counter::kIsIterationInvariantRate);
  if (impl->pack_ms > 0) state.counters["pack_ms"] = impl->pack_ms;
}

}  // namespace
}  // namespace fathom

int main(int argc, char** argv) {
  using namespace fathom;
  bool checks = true;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--skip_checks") == 0) checks = false;
    else args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  static const std::vector<Variant> vs = variants();
  print_config();
  if (checks) {
    std::printf("Batch invariance (bitwise, rows of x fixed) and accuracy:\n");
    for (const auto& v : vs) {
      for (const auto& s : kShapes) check_variant(v, s, true);
      for (const auto& s : kCheckOnlyShapes) check_variant(v, s, false);
    }
  }
  for (const auto& v : vs) {
    for (int threads : {1, 2}) {
      for (const auto& s : kShapes) {
        for (int64_t M : s.Ms) {
          if (v.m1_only && M != 1) continue;
          const std::string name = v.name + "/M:" + std::to_string(M) + "/N:" + std::to_string(s.N) +
                                   "/K:" + std::to_string(s.K) + "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), bench, &v, s.N, s.K, M, threads)
              ->MeasureProcessCPUTime()
              ->UseRealTime()
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
