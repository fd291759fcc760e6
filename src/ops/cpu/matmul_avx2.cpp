// AVX2 matmul tile, register-blocked like the AVX-512 one: MR rows of x × NR rows of W per micro-kernel, one
// 8-lane accumulator per output element (lane l sums k ≡ l mod 8 in increasing k; a K tail is zero-padded into the
// lanes), then the fixed tree of simd_avx2.h; fp8: per 128-wide block, then × block scale. The order depends only
// on K, so a row's bits do not depend on M, on n0/n1 or on the micro-kernel. 16 ymm registers: 4×3 accumulators
// and 3 widened weight vectors (x is read as a memory operand); fp8 keeps block partials too, so 2×2.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx2.h"

namespace fathom::avx2 {

namespace {

constexpr int64_t kPrefetchBytes = 8192;

constexpr int64_t esize(DType T) { return T == DType::F32 ? 4 : (T == DType::F8_E4M3 ? 1 : 2); }

// 8 weights from a row at k (all 8 present).
template <DType T>
inline __m256 load8(const void* base, int64_t k) {
  if constexpr (T == DType::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(base) + k);
  } else if constexpr (T == DType::BF16) {
    return load_bf16(static_cast<const uint16_t*>(base) + k);
  } else if constexpr (T == DType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + k)));
  } else {  // e4m3 via f16 rebias; the result is 2^-8 of the value
    __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(base) + k));
    __m128i w = _mm_cvtepu8_epi16(b);
    __m128i sign = _mm_slli_epi16(_mm_and_si128(w, _mm_set1_epi16(0x80)), 8);
    __m128i mag = _mm_slli_epi16(_mm_and_si128(w, _mm_set1_epi16(0x7f)), 7);
    return _mm256_cvtph_ps(_mm_or_si128(sign, mag));
  }
}

// The last rem (< 8) weights of a row at k, zero-padded (copied so nothing past the row is read).
template <DType T>
inline __m256 load8_tail(const void* base, int64_t k, int64_t rem) {
  alignas(32) uint8_t buf[32] = {};
  std::memcpy(buf, static_cast<const uint8_t*>(base) + k * esize(T), static_cast<size_t>(rem * esize(T)));
  return load8<T>(buf, 0);
}

template <DType T, int MR, int NR, bool kTail>
inline void step(const float* const* xr, const void* const* wr, int64_t k, int64_t rem, int64_t pf,
                 __m256 (&acc)[MR][NR]) {
  __m256 wv[NR];
#pragma GCC unroll 4
  for (int n = 0; n < NR; ++n) {
    if constexpr (kTail) {
      wv[n] = load8_tail<T>(wr[n], k, rem);
    } else {
      _mm_prefetch(static_cast<const char*>(wr[n]) + pf + k * esize(T), _MM_HINT_T0);
      wv[n] = load8<T>(wr[n], k);
    }
  }
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) {
    const __m256 xv = kTail ? load_tail(xr[m] + k, rem) : _mm256_loadu_ps(xr[m] + k);
#pragma GCC unroll 4
    for (int n = 0; n < NR; ++n) acc[m][n] = _mm256_fmadd_ps(xv, wv[n], acc[m][n]);
  }
}

template <DType T, int MR, int NR>
inline void accumulate(const float* const* xr, const void* const* wr, int64_t k0, int64_t k1, int64_t pf,
                       __m256 (&acc)[MR][NR]) {
  int64_t k = k0;
  for (; k + 8 <= k1; k += 8) step<T, MR, NR, false>(xr, wr, k, 8, pf, acc);
  if (k < k1) step<T, MR, NR, true>(xr, wr, k, k1 - k, pf, acc);
}

template <DType T, int MR, int NR>
void micro(const float* x, int64_t ldx, const WeightView& w, int64_t m0, int64_t n0, float* y, int64_t ldy) {
  const int64_t K = w.cols;
  const int64_t row_bytes = K * esize(T);
  const int64_t pf = ((kPrefetchBytes / row_bytes) / NR + 1) * NR * row_bytes;
  const float* xr[MR];
  const void* wr[NR];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) xr[m] = x + (m0 + m) * ldx;
#pragma GCC unroll 4
  for (int n = 0; n < NR; ++n) wr[n] = static_cast<const uint8_t*>(w.data) + (n0 + n) * row_bytes;
  __m256 acc[MR][NR];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int n = 0; n < NR; ++n) acc[m][n] = _mm256_setzero_ps();
  if constexpr (T == DType::F8_E4M3) {
    const float* srow[NR];
#pragma GCC unroll 4
    for (int n = 0; n < NR; ++n) srow[n] = w.scale_row(n0 + n);
    for (int64_t k0 = 0; k0 < K; k0 += kFp8Block) {
      const int64_t k1 = k0 + kFp8Block < K ? k0 + kFp8Block : K;
      __m256 part[MR][NR];
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
        for (int n = 0; n < NR; ++n) part[m][n] = _mm256_setzero_ps();
      accumulate<T, MR, NR>(xr, wr, k0, k1, pf, part);
#pragma GCC unroll 4
      for (int n = 0; n < NR; ++n) {
        const __m256 s = _mm256_set1_ps(srow[n][k0 / kFp8Block] * 256.0f);
#pragma GCC unroll 4
        for (int m = 0; m < MR; ++m) acc[m][n] = _mm256_fmadd_ps(part[m][n], s, acc[m][n]);
      }
    }
  } else {
    accumulate<T, MR, NR>(xr, wr, 0, K, pf, acc);
  }
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 4
    for (int n = 0; n < NR; ++n) y[(m0 + m) * ldy + n0 + n] = reduce_add(acc[m][n]);
}

template <DType T, int MR>
void rows_block(const float* x, int64_t ldx, const WeightView& w, int64_t m0, int64_t n0, int64_t n1, float* y,
                int64_t ldy) {
  constexpr int NR = T == DType::F8_E4M3 ? 2 : 3;
  int64_t n = n0;
  for (; n + NR <= n1; n += NR) micro<T, MR, NR>(x, ldx, w, m0, n, y, ldy);
  for (; n < n1; ++n) micro<T, MR, 1>(x, ldx, w, m0, n, y, ldy);
}

template <DType T>
void tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
          int64_t ldy) {
  constexpr int MR = T == DType::F8_E4M3 ? 2 : 4;
  const int64_t n_chunk = std::max<int64_t>(4, (256 * 1024) / std::max<int64_t>(1, w.cols * esize(T)));
  for (int64_t nc = n0; nc < n1; nc += n_chunk) {
    const int64_t nc1 = std::min(n1, nc + n_chunk);
    int64_t m = 0;
    for (; m + MR <= M; m += MR) rows_block<T, MR>(x, ldx, w, m, nc, nc1, y, ldy);
    switch (M - m) {
      case 3: rows_block<T, 3>(x, ldx, w, m, nc, nc1, y, ldy); break;
      case 2: rows_block<T, 2>(x, ldx, w, m, nc, nc1, y, ldy); break;
      case 1: rows_block<T, 1>(x, ldx, w, m, nc, nc1, y, ldy); break;
      default: break;
    }
  }
}

}  // namespace

void matmul_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                 int64_t ldy) {
  switch (w.dtype) {
    case DType::F32: return tile<DType::F32>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::BF16: return tile<DType::BF16>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::F16: return tile<DType::F16>(x, ldx, M, w, n0, n1, y, ldy);
    case DType::F8_E4M3: return tile<DType::F8_E4M3>(x, ldx, M, w, n0, n1, y, ldy);
  }
}

}  // namespace fathom::avx2
