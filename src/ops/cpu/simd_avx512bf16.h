// Inline AVX512-BF16 (+ VBMI) building blocks shared by the *_avx512bf16*.cpp kernels (include only from those
// files: they are the ones compiled with -mavx512bf16 -mavx512vbmi): the bf16 dot product, the in-register e4m3
// decode, the 16 × 16 32-bit transpose and a panel's groups of 16 columns.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/numeric.h"
#include "ops/ops.h"

namespace fathom::avx512bf16 {

// acc + x[2i] · w[2i] + x[2i+1] · w[2i+1] in every lane i (products exact, f32 sums).
inline __m512 dot(__m512 acc, __m512i x, __m512i w) {
  return _mm512_dpbf16_ps(acc, reinterpret_cast<__m512bh>(x), reinterpret_cast<__m512bh>(w));
}

// The outer-product step of the pair tiles, over pairs [p0, p1) in increasing order: acc[m][j] += x pair xr[m][p]
// · the pair vector of column group j at w + p · stride + 16 j (a vdpbf16ps per (m, j)); at(p) runs first in each
// step (the caller's prefetches).
template <int MR, int NZ, class At>
inline void add_pairs(__m512 (&acc)[MR][NZ], const uint32_t* const* xr, const uint32_t* w, int64_t stride, int64_t p0,
                      int64_t p1, const At& at) {
  for (int64_t p = p0; p < p1; ++p) {
    at(p);
    __m512i wv[NZ];
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) wv[j] = _mm512_loadu_si512(w + p * stride + 16 * j);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m512i xv = _mm512_set1_epi32(static_cast<int>(xr[m][p]));
#pragma GCC unroll 4
      for (int j = 0; j < NZ; ++j) acc[m][j] = dot(acc[m][j], xv, wv[j]);
    }
  }
}

// One step of the decoding pair tiles: acc[m][j] += x pair p · w0[j], then x pair p + 1 · w1[j] (the two pair
// vectors one decode gives).
template <int MR, int NZ>
inline void add_two_pairs(__m512 (&acc)[MR][NZ], const uint32_t* const* xr, int64_t p, const __m512i (&w0)[NZ],
                          const __m512i (&w1)[NZ]) {
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    const __m512i x0 = _mm512_set1_epi32(static_cast<int>(xr[m][p]));
    const __m512i x1 = _mm512_set1_epi32(static_cast<int>(xr[m][p + 1]));
#pragma GCC unroll 4
    for (int j = 0; j < NZ; ++j) acc[m][j] = dot(dot(acc[m][j], x0, w0[j]), x1, w1[j]);
  }
}

// bf16 pattern of each e4m3 magnitude 0..127, split into high bytes and low bytes (64-byte halves for vpermi2b).
struct E4m3Bf16Tables {
  alignas(64) std::array<uint8_t, 128> hi{}, lo{};
  E4m3Bf16Tables() {
    for (int m = 0; m < 128; ++m) {
      const uint16_t b = f32_to_bf16(e4m3_to_f32(static_cast<uint8_t>(m)));
      hi[m] = static_cast<uint8_t>(b >> 8);
      lo[m] = static_cast<uint8_t>(b & 0xff);
    }
  }
};
inline const E4m3Bf16Tables& e4m3_tables() {
  static const E4m3Bf16Tables t;
  return t;
}

// e4m3 → bf16, exactly (every e4m3 value, subnormals included, is a normal bf16): the two table bytes of |w|'s
// bf16 pattern, the sign OR-ed back, the bytes interleaved per 128-bit lane.
struct E4m3Decoder {
  __m512i hi0, hi1, lo0, lo1, sign;
  E4m3Decoder() {
    const E4m3Bf16Tables& t = e4m3_tables();
    hi0 = _mm512_load_si512(t.hi.data());
    hi1 = _mm512_load_si512(t.hi.data() + 64);
    lo0 = _mm512_load_si512(t.lo.data());
    lo1 = _mm512_load_si512(t.lo.data() + 64);
    sign = _mm512_set1_epi8(static_cast<char>(0x80));
  }
  // 64 e4m3 bytes → bf16: bytes [0-7, 16-23, 32-39, 48-55] in w0 and [8-15, 24-31, 40-47, 56-63] in w1 (word j of
  // w0 is byte 16 (j / 8) + j % 8; of w1, that byte + 8).
  inline void decode(__m512i b, __m512i& w0, __m512i& w1) const {
    __m512i h = _mm512_permutex2var_epi8(hi0, b, hi1);
    const __m512i l = _mm512_permutex2var_epi8(lo0, b, lo1);
    h = _mm512_ternarylogic_epi32(h, b, sign, 0xf8);  // h | (b & 0x80)
    w0 = _mm512_unpacklo_epi8(l, h);
    w1 = _mm512_unpackhi_epi8(l, h);
  }
};

// Transposes 16 × 16 32-bit elements in place: r[i] lane l ↔ r[l] lane i. Dword then qword interleaves within
// 128-bit lanes leave u[4i + j] lane L = rows 4i .. 4i+3 at column 4L + j; two 128-bit-lane shuffles gather each
// column's four lanes.
inline void transpose16(__m512i (&r)[16]) {
  __m512i t[16], u[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512i p0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44), p1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xee);
    const __m512i q0 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44);
    const __m512i q1 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xee);
    r[j] = _mm512_shuffle_i32x4(p0, q0, 0x88);
    r[4 + j] = _mm512_shuffle_i32x4(p0, q0, 0xdd);
    r[8 + j] = _mm512_shuffle_i32x4(p1, q1, 0x88);
    r[12 + j] = _mm512_shuffle_i32x4(p1, q1, 0xdd);
  }
}

// Columns [c0, c1) of a 64-column panel (0 <= c0 < c1 <= 64) as vectors of 16: groups [g0, g1), each with the mask
// of its columns in range.
struct PanelGroups {
  int64_t g0, g1;
  __mmask16 msk[4] = {0xffff, 0xffff, 0xffff, 0xffff};
  PanelGroups(int64_t c0, int64_t c1) : g0(c0 / 16), g1((c1 + 15) / 16) {
    msk[0] &= static_cast<__mmask16>(0xffffu << (c0 - g0 * 16));
    msk[g1 - g0 - 1] &= static_cast<__mmask16>(0xffffu >> (g1 * 16 - c1));
  }
  int64_t n() const { return g1 - g0; }
};

// Calls f(q, c0, c1) for each pair panel q that columns [n0, n1) touch, with its columns [c0, c1) in range.
template <class F>
void for_each_panel(int64_t n0, int64_t n1, const F& f) {
  constexpr int64_t kP = kPairPanelRows;
  for (int64_t q = n0 / kP; q * kP < n1; ++q) f(q, std::max(n0, q * kP) - q * kP, std::min(n1, q * kP + kP) - q * kP);
}

// Calls f.template operator()<NZ>() with NZ = n, the number of groups (1 .. 4): one register block per width.
template <class F>
void with_groups(int64_t n, const F& f) {
  switch (n) {
    case 4: return f.template operator()<4>();
    case 3: return f.template operator()<3>();
    case 2: return f.template operator()<2>();
    default: return f.template operator()<1>();
  }
}

}  // namespace fathom::avx512bf16
