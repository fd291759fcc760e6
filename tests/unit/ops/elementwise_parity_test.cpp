// SIMD RMSNorm and SiLU-gating against the scalar references; an element's bits do not depend on where it sits
// in the vector (tails use the same formula), and extreme gate values stay finite.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <algorithm>
#include <random>
#include <vector>

#include "core/numeric.h"
#include "ops/cpu/isa.h"
#include "ops/cpu/kernels.h"
#include "ops/ops.h"

namespace fathom {
namespace {

std::vector<RmsNormFn> rms_kernels() {
  std::vector<RmsNormFn> k;
  if (detected_isa() >= Isa::AVX2) k.push_back(avx2::rmsnorm);
  if (detected_isa() >= Isa::AVX512) k.push_back(avx512::rmsnorm);
  return k;
}
std::vector<SiluMulFn> silu_kernels() {
  std::vector<SiluMulFn> k;
  if (detected_isa() >= Isa::AVX2) k.push_back(avx2::silu_mul);
  if (detected_isa() >= Isa::AVX512) k.push_back(avx512::silu_mul);
  return k;
}

TEST(ElementwiseParity, RmsNormMatchesReference) {
  ASSERT_FALSE(rms_kernels().empty());
  std::mt19937 rng(4);
  std::normal_distribution<float> nd(0.f, 3.f);
  for (int64_t n : {1, 7, 8, 16, 17, 31, 512, 1000}) {
    std::vector<float> x(n + 1), wf(n);
    std::vector<uint16_t> wb(n), wh(n);
    for (auto& v : x) v = nd(rng);
    for (int64_t i = 0; i < n; ++i) {
      wf[i] = 1.0f + 0.1f * nd(rng);
      wb[i] = f32_to_bf16(wf[i]);
      wh[i] = 0x3c00 + static_cast<uint16_t>(rng() % 64);  // f16 values near 1 (reference fallback path)
    }
    const WeightView views[] = {{DType::F32, wf.data(), 1, n}, {DType::BF16, wb.data(), 1, n},
                                {DType::F16, wh.data(), 1, n}};
    for (const WeightView& w : views) {
      std::vector<float> ref(n), got(n);
      ref::rmsnorm(x.data() + 1, w, 1e-6f, ref.data(), n);  // x misaligned by one float
      for (RmsNormFn k : rms_kernels()) {
        k(x.data() + 1, w, 1e-6f, got.data(), n);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_NEAR(got[i], ref[i], 1e-5f * (std::fabs(ref[i]) + 1e-3f)) << dtype_name(w.dtype) << " n=" << n;
      }
    }
  }
}

TEST(ElementwiseParity, SiluMulMatchesReferenceIncludingExtremes) {
  ASSERT_FALSE(silu_kernels().empty());
  std::vector<float> g, u;
  for (float v = -120.f; v <= 120.f; v += 0.37f) g.push_back(v);
  for (float v : {0.f, -0.f, 1e-30f, -1e-30f, 88.f, -88.f, 89.5f, -89.5f, 1e4f, -1e4f}) g.push_back(v);
  for (size_t i = 0; i < g.size(); ++i) u.push_back(0.5f + 0.01f * static_cast<float>(i % 17));
  const int64_t n = static_cast<int64_t>(g.size());
  std::vector<float> ref(n), got(n);
  ref::silu_mul(g.data(), u.data(), ref.data(), n);
  for (SiluMulFn k : silu_kernels()) {
    k(g.data(), u.data(), got.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(std::isfinite(got[i])) << "g=" << g[i];
      ASSERT_NEAR(got[i], ref[i], 4e-7f * std::fabs(ref[i]) + 1e-30f) << "g=" << g[i];
    }
  }
}

TEST(ElementwiseParity, ElementBitsIndependentOfPosition) {
  // The same 40 values processed as a whole vector, then as the tail of shorter calls.
  std::mt19937 rng(8);
  std::normal_distribution<float> nd(0.f, 4.f);
  std::vector<float> g(40), u(40);
  for (auto& v : g) v = nd(rng);
  for (auto& v : u) v = nd(rng);
  std::vector<SiluMulFn> kernels = silu_kernels();
  kernels.push_back(silu_mul_kernel());
  for (SiluMulFn k : kernels) {
    std::vector<float> all(40), part(40);
    k(g.data(), u.data(), all.data(), 40);
    for (int64_t start : {1, 3, 9, 33}) {
      k(g.data() + start, u.data() + start, part.data(), 40 - start);
      EXPECT_EQ(0, std::memcmp(all.data() + start, part.data(), (40 - start) * sizeof(float))) << start;
    }
  }
}

TEST(ElementwiseParity, SiluMulByRangesInPlaceEqualsOneCall) {
  // As matmul_batch's gate/up pairs call it: in place, over ranges cut anywhere (here not at vector multiples).
  const int64_t n = (1 << 15) + 37;
  std::mt19937 rng(10);
  std::normal_distribution<float> nd(0.f, 4.f);
  std::vector<float> g(n), u(n), one(n);
  for (auto& v : g) v = nd(rng);
  for (auto& v : u) v = nd(rng);
  silu_mul(g.data(), u.data(), one.data(), n);
  for (int64_t a = 0, step = 1; a < n; a += step, step = step * 3 % 1000 + 7) {
    const int64_t b = std::min(n, a + step);
    silu_mul(g.data() + a, u.data() + a, g.data() + a, b - a);
  }
  EXPECT_EQ(0, std::memcmp(one.data(), g.data(), n * sizeof(float)));
}

TEST(ElementwiseParity, MaxValueMatchesReferenceAtEveryLength) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.f, 5.f);
  std::vector<std::pair<MaxValueFn, const char*>> kernels;
  if (detected_isa() >= Isa::AVX2) kernels.push_back({avx2::max_value, "avx2"});
  if (detected_isa() >= Isa::AVX512) kernels.push_back({avx512::max_value, "avx512"});
  ASSERT_FALSE(kernels.empty());
  for (int64_t n : {1, 2, 15, 16, 17, 33, 100, 129280}) {
    std::vector<float> x(n);
    for (auto& v : x) v = nd(rng) - 100.0f;
    x[rng() % n] = -std::numeric_limits<float>::infinity();
    const float want = ref::max_value(x.data(), n);
    EXPECT_EQ(want, *std::max_element(x.begin(), x.end()));
    for (auto [k, name] : kernels) {
      EXPECT_EQ(k(x.data(), n), want) << name << " n=" << n;
      const float last = x[n - 1];
      x[n - 1] = want + 1.0f;  // the largest in the tail
      EXPECT_EQ(k(x.data(), n), want + 1.0f) << name << " n=" << n;
      x[n - 1] = last;
    }
  }
}

TEST(ElementwiseParity, ExpShiftedMatchesReferenceAndZeroesBelowTheFloor) {
  std::vector<float> x;
  for (float v = -150.f; v <= 1.f; v += 0.173f) x.push_back(v);
  for (float v : {0.f, -0.f, -1e-30f, -86.9f, -87.1f, -std::numeric_limits<float>::infinity()}) x.push_back(v);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> ref(n), got(n);
  std::vector<std::pair<ExpShiftedFn, const char*>> kernels;
  if (detected_isa() >= Isa::AVX2) kernels.push_back({avx2::exp_shifted, "avx2"});
  if (detected_isa() >= Isa::AVX512) kernels.push_back({avx512::exp_shifted, "avx512"});
  ASSERT_FALSE(kernels.empty());
  for (float scale : {1.0f, 1.0f / 0.6f}) {
    ref::exp_shifted(x.data(), n, 1.0f, scale, ref.data());
    for (auto [k, name] : kernels) {
      k(x.data(), n, 1.0f, scale, got.data());
      for (int64_t i = 0; i < n; ++i) {
        const float a = (x[i] - 1.0f) * scale;
        if (a < -87.0f) {
          ASSERT_EQ(got[i], 0.0f) << name << " x=" << x[i];  // masked logits must get no mass at all
        } else {
          ASSERT_GT(got[i], 0.0f) << name << " x=" << x[i];
          ASSERT_NEAR(got[i], ref[i], 4e-7f * ref[i]) << name << " x=" << x[i];  // a few ulp
        }
      }
    }
  }
}

TEST(ElementwiseParity, RopeMatchesReference) {
  if (detected_isa() < Isa::AVX512) GTEST_SKIP() << "no AVX-512 RoPE on this machine";
  // Frequencies as DeepSeek's (base 10000, 64 rope dims → 32 pairs); positions up to 160k; amplitudes 1 and YaRN's.
  std::vector<float> inv_freq(32);
  for (int i = 0; i < 32; ++i) inv_freq[i] = static_cast<float>(std::pow(10000.0, -2.0 * i / 64));
  std::mt19937 rng(6);
  std::normal_distribution<float> nd;
  int64_t total = 0, exact = 0;
  for (int n_pairs : {1, 3, 8, 16, 21, 32}) {
    for (int64_t pos : {0, 1, 2, 7, 100, 4095, 4096, 65537, 163839}) {
      for (float amp : {1.0f, 1.2079f}) {
        std::vector<float> a(2 * n_pairs + 1), b;
        for (auto& v : a) v = nd(rng);
        b = a;
        ref::rope_interleaved(a.data(), n_pairs, pos, inv_freq.data(), amp);
        avx512::rope_interleaved(b.data(), n_pairs, pos, inv_freq.data(), amp);
        for (int i = 0; i < 2 * n_pairs; ++i) {
          ASSERT_NEAR(b[i], a[i], 1e-6f * amp * 4) << "pos=" << pos << " i=" << i;
          exact += b[i] == a[i];
          ++total;
        }
        EXPECT_EQ(b[2 * n_pairs], a[2 * n_pairs]) << "wrote past the pairs";
      }
    }
  }
  // cos/sin agree with libm's to well under an f32 ulp, so nearly every result is bitwise the reference's.
  EXPECT_GT(static_cast<double>(exact) / total, 0.999) << exact << " of " << total;
}

}  // namespace
}  // namespace fathom
