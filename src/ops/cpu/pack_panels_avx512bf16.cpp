// The writer of both pair-panel layouts (ops.h). Each layout stores, per 32-bit unit u of a row (bf16: pair u; fp8:
// quad u, values 4u .. 4u+3) and per panel of 64 rows, the 64 rows' units side by side: 256 bytes per unit, group
// g of 16 rows at byte 64 g. So both pack the same way — 16 rows × 64 bytes loaded, transposed 16 × 16 as 32-bit
// units — and fp8 then reorders the bytes within each 128-bit lane (4 rows × 4 values) into the order the
// in-register e4m3 decode turns into the group's two pair vectors: position 8 (t / 2) + 2 (c % 4) + t % 2 takes
// row c's value t.
#include <immintrin.h>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd_avx512bf16.h"

namespace fathom::avx512bf16 {

namespace {
inline __m512i fp8_quad_order(__m512i v) {
  alignas(16) static constexpr uint8_t idx[16] = {0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15};
  return _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(idx))));
}
}  // namespace

void pack_pair_panels(const WeightView& w, uint8_t* out) {
  const bool fp8 = w.dtype == DType::F8_E4M3;
  const int64_t row = w.cols * dtype_size(w.dtype);  // bytes; a multiple of 64 (can_pack_panels)
  const uint8_t* src = static_cast<const uint8_t*>(w.data);
  for (int64_t r0 = 0; r0 < w.rows; r0 += 16) {
    uint8_t* group = out + r0 / kPairPanelRows * kPairPanelRows * row + (r0 % kPairPanelRows) / 16 * 64;
    for (int64_t b = 0; b < row; b += 64) {
      __m512i r[16];
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c) r[c] = _mm512_loadu_si512(src + (r0 + c) * row + b);
      transpose16(r);  // r[i]: unit b / 4 + i of the 16 rows
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        _mm512_storeu_si512(group + (b / 4 + i) * kPairPanelRows * 4, fp8 ? fp8_quad_order(r[i]) : r[i]);
    }
  }
}

}  // namespace fathom::avx512bf16
