// matmul()'s split across the pool: the dimension is chosen by shape, tiny products stay on the calling thread,
// and the result is bitwise the same with and without the pool for every kind of split — the ranges are claimed
// at run time, so each case runs many times, with two and three threads, to meet different splits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <random>
#include <vector>

#include "core/numeric.h"
#include "ops/matmul_split.h"
#include "ops/ops.h"

namespace fathom {
namespace {

TEST(MatmulSplit, ByShape) {
  EXPECT_EQ(1, matmul_split(1, 64, 128, 2).parts);           // per-head W_UV in decode: too small to share
  EXPECT_EQ(1, matmul_split(512, 4096, 4096, 1).parts);      // one thread
  const MatmulSplit gemv = matmul_split(1, 129280, 512, 2);  // lm_head: split the weight rows
  EXPECT_EQ(2, gemv.parts);
  EXPECT_FALSE(gemv.over_rows);
  const MatmulSplit wide = matmul_split(512, 16, 1024, 2);  // few weight rows, many tokens: split the batch
  EXPECT_EQ(2, wide.parts);
  EXPECT_TRUE(wide.over_rows);
  const MatmulSplit kv_a = matmul_split(32, 288, 1024, 2);  // 18 blocks of weight rows: enough for both threads
  EXPECT_EQ(2, kv_a.parts);
  EXPECT_FALSE(kv_a.over_rows);
}

TEST(MatmulSplit, PoolDoesNotChangeBits) {
  ThreadPool pool(2), pool3(3);
  const int64_t shapes[][3] = {{1, 2000, 384}, {64, 24, 1024}, {37, 300, 520}, {1, 64, 128}};
  for (auto& s : shapes) {
    const int64_t M = s[0], N = s[1], K = s[2];
    std::mt19937 rng(static_cast<uint32_t>(M + N + K));
    std::normal_distribution<float> nd;
    std::vector<uint16_t> w(N * K);
    std::vector<float> x(M * K), a(M * N), b(M * N);
    for (auto& v : w) v = f32_to_bf16(nd(rng));
    for (auto& v : x) v = nd(rng);
    const WeightView wv{DType::BF16, w.data(), N, K};
    matmul(x.data(), K, M, wv, a.data(), N, nullptr);
    for (ThreadPool* p : {&pool, &pool3})
      for (int rep = 0; rep < 20; ++rep) {
        std::fill(b.begin(), b.end(), -1.f);
        matmul(x.data(), K, M, wv, b.data(), N, p);
        ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)))
            << M << "x" << N << "x" << K << " threads " << p->n_threads() << " rep " << rep;
      }
  }
}

}  // namespace
}  // namespace fathom

namespace fathom {
namespace {

TEST(MatmulBatch, EqualsSeparateProductsBitwise) {
  // Expert-like jobs of varied shapes (M = 0 included), bf16 and fp8, with and without the pool.
  struct Data {
    std::vector<uint8_t> w;
    std::vector<float> scales, x, y_sep, y_batch, y_serial;
  };
  const int64_t shapes[][3] = {{3, 512, 256}, {1, 256, 512}, {0, 64, 64}, {7, 200, 384}, {2, 1000, 128}, {5, 33, 300}};
  std::vector<Data> d(std::size(shapes));
  std::vector<MatmulJob> jobs, jobs_serial;
  std::mt19937 rng(12);
  std::normal_distribution<float> nd;
  for (size_t i = 0; i < d.size(); ++i) {
    const int64_t M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
    const bool fp8 = i % 2 == 1;
    d[i].w.resize(N * K * (fp8 ? 1 : 2));
    if (fp8) {
      for (auto& b : d[i].w) b = static_cast<uint8_t>(rng() % 0x7e);
      d[i].scales.assign(((N + 127) / 128) * ((K + 127) / 128), 0.01f);
    } else {
      auto* p = reinterpret_cast<uint16_t*>(d[i].w.data());
      for (int64_t k = 0; k < N * K; ++k) p[k] = f32_to_bf16(nd(rng));
    }
    d[i].x.resize(std::max<int64_t>(1, M * K));
    for (auto& v : d[i].x) v = nd(rng);
    d[i].y_sep.assign(M * N, 0.f);
    d[i].y_batch.assign(M * N, -1.f);
    d[i].y_serial.assign(M * N, -1.f);
    const WeightView wv{fp8 ? DType::F8_E4M3 : DType::BF16, d[i].w.data(), N, K,
                        d[i].scales.empty() ? nullptr : d[i].scales.data()};
    matmul(d[i].x.data(), K, M, wv, d[i].y_sep.data(), N, nullptr);
    jobs.push_back({d[i].x.data(), K, M, wv, d[i].y_batch.data(), N});
    jobs_serial.push_back({d[i].x.data(), K, M, wv, d[i].y_serial.data(), N});
  }
  matmul_batch(jobs_serial.data(), static_cast<int64_t>(jobs_serial.size()), nullptr);
  for (size_t i = 0; i < d.size(); ++i)
    EXPECT_EQ(0, std::memcmp(d[i].y_sep.data(), d[i].y_serial.data(), d[i].y_sep.size() * 4)) << "job " << i;
  ThreadPool pool(2), pool3(3);
  for (ThreadPool* p : {&pool, &pool3})
    for (int rep = 0; rep < 20; ++rep) {
      for (auto& di : d) std::fill(di.y_batch.begin(), di.y_batch.end(), -1.f);
      matmul_batch(jobs.data(), static_cast<int64_t>(jobs.size()), p);
      for (size_t i = 0; i < d.size(); ++i)
        ASSERT_EQ(0, std::memcmp(d[i].y_sep.data(), d[i].y_batch.data(), d[i].y_sep.size() * 4))
            << "job " << i << " threads " << p->n_threads() << " rep " << rep;
    }
}

// Jobs over the same x share one staged copy only where their weights read it in the same order: an fp8 weight in
// pair panels (x in natural order) next to a row-major one (x in the e4m3 decode's order), as q_a and kv_a are.
TEST(MatmulBatch, SharedInputFollowsEachWeightsLayout) {
  if (!panels_supported()) GTEST_SKIP() << "packed panels are read only by the AVX512-BF16 kernel";
  const int64_t M = 5, K = 256;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::vector<float> x(M * K);
  for (auto& v : x) v = nd(rng);
  std::vector<float> scales(4 * 2, 0.02f);
  std::vector<uint8_t> a(128 * K), b(96 * K), a_packed(a.size());
  for (auto& v : a) v = static_cast<uint8_t>(rng() % 0x7e);
  for (auto& v : b) v = static_cast<uint8_t>(rng() % 0x7e);
  const WeightView wa = pack_panels({DType::F8_E4M3, a.data(), 128, K, scales.data()}, a_packed.data());
  const WeightView wb{DType::F8_E4M3, b.data(), 96, K, scales.data()};
  ASSERT_EQ(wa.panel, kPairPanelRows);
  std::vector<float> ya(M * 128), yb(M * 96), ya_sep(M * 128), yb_sep(M * 96);
  matmul(x.data(), K, M, wa, ya_sep.data(), 128, nullptr);
  matmul(x.data(), K, M, wb, yb_sep.data(), 96, nullptr);
  for (bool packed_first : {true, false}) {
    std::vector<MatmulJob> jobs = {{x.data(), K, M, wa, ya.data(), 128}, {x.data(), K, M, wb, yb.data(), 96}};
    if (!packed_first) std::swap(jobs[0], jobs[1]);
    matmul_batch(jobs.data(), 2, nullptr);
    EXPECT_EQ(0, std::memcmp(ya.data(), ya_sep.data(), ya.size() * 4)) << "packed first " << packed_first;
    EXPECT_EQ(0, std::memcmp(yb.data(), yb_sep.data(), yb.size() * 4)) << "packed first " << packed_first;
  }
}

// Gate and up fused with SiLU (silu_with_next): a plain job, then bf16 and fp8 gate/up pairs of several M; the gate's
// y must be bitwise silu_mul of the two separate products, with and without the pool, whatever the claims.
TEST(MatmulBatch, GateUpPairsGiveSiluOfTheSeparateProducts) {
  struct Pair {
    std::vector<uint8_t> gate, up;
    std::vector<float> scales, x, want, y_gate, y_up;
    int64_t M, N, K;
    DType t;
  };
  std::mt19937 rng(31);
  std::normal_distribution<float> nd;
  const int64_t shapes[][3] = {{1, 512, 256}, {3, 200, 384}, {0, 64, 64}, {7, 320, 128}};
  std::vector<Pair> p(std::size(shapes));
  for (size_t i = 0; i < p.size(); ++i) {
    Pair& q = p[i];
    q.M = shapes[i][0], q.N = shapes[i][1], q.K = shapes[i][2];
    q.t = i % 2 ? DType::F8_E4M3 : DType::BF16;
    const int64_t bytes = q.N * q.K * dtype_size(q.t);
    for (auto* w : {&q.gate, &q.up}) {
      w->resize(bytes);
      if (q.t == DType::F8_E4M3) {
        for (auto& b : *w) b = static_cast<uint8_t>(rng() % 0x7e);
      } else {
        auto* h = reinterpret_cast<uint16_t*>(w->data());
        for (int64_t k = 0; k < q.N * q.K; ++k) h[k] = f32_to_bf16(nd(rng));
      }
    }
    q.scales.assign(((q.N + 127) / 128) * ((q.K + 127) / 128), 0.01f);
    q.x.resize(std::max<int64_t>(1, q.M * q.K));
    for (auto& v : q.x) v = nd(rng);
    std::vector<float> g(q.M * q.N), u(q.M * q.N);
    const WeightView wg{q.t, q.gate.data(), q.N, q.K, q.scales.data()}, wu{q.t, q.up.data(), q.N, q.K, q.scales.data()};
    matmul(q.x.data(), q.K, q.M, wg, g.data(), q.N, nullptr);
    matmul(q.x.data(), q.K, q.M, wu, u.data(), q.N, nullptr);
    q.want.resize(q.M * q.N);
    silu_mul(g.data(), u.data(), q.want.data(), q.M * q.N);
  }
  std::vector<float> plain_x(2 * 256), plain_y(2 * 96), plain_want(2 * 96);
  std::vector<uint16_t> plain_w(96 * 256);
  for (auto& v : plain_x) v = nd(rng);
  for (auto& v : plain_w) v = f32_to_bf16(nd(rng));
  const WeightView pw{DType::BF16, plain_w.data(), 96, 256};
  matmul(plain_x.data(), 256, 2, pw, plain_want.data(), 96, nullptr);
  ThreadPool pool(2), pool3(3);
  for (ThreadPool* pl : {static_cast<ThreadPool*>(nullptr), &pool, &pool3})
    for (int rep = 0; rep < 10; ++rep) {
      std::vector<MatmulJob> jobs = {{plain_x.data(), 256, 2, pw, plain_y.data(), 96}};
      for (Pair& q : p) {
        q.y_gate.assign(q.M * q.N, -1.f);
        q.y_up.assign(q.M * q.N, -1.f);
        const WeightView wg{q.t, q.gate.data(), q.N, q.K, q.scales.data()};
        const WeightView wu{q.t, q.up.data(), q.N, q.K, q.scales.data()};
        jobs.push_back({q.x.data(), q.K, q.M, wg, q.y_gate.data(), q.N, MatmulInput::Bf16, true});
        jobs.push_back({q.x.data(), q.K, q.M, wu, q.y_up.data(), q.N});
      }
      matmul_batch(jobs.data(), static_cast<int64_t>(jobs.size()), pl);
      ASSERT_EQ(0, std::memcmp(plain_y.data(), plain_want.data(), plain_y.size() * 4));
      for (size_t i = 0; i < p.size(); ++i)
        ASSERT_EQ(0, std::memcmp(p[i].y_gate.data(), p[i].want.data(), p[i].want.size() * 4))
            << "pair " << i << " threads " << (pl ? pl->n_threads() : 0) << " rep " << rep;
    }
}

}  // namespace
}  // namespace fathom
