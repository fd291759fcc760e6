// Scalar reference matmul: the numerics every SIMD variant is checked against.
#include <cstring>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom::ref {

static float dot_row(const float* x, const WeightView& w, int64_t n) {
  const int64_t K = w.cols;
  switch (w.dtype) {
    case DType::F32: {
      const float* r = static_cast<const float*>(w.data) + n * K;
      float acc = 0.f;
      for (int64_t k = 0; k < K; ++k) acc += x[k] * r[k];
      return acc;
    }
    case DType::BF16: {
      const uint16_t* r = static_cast<const uint16_t*>(w.data) + n * K;
      float acc = 0.f;
      for (int64_t k = 0; k < K; ++k) acc += x[k] * bf16_to_f32(r[k]);
      return acc;
    }
    case DType::F16: {
      const uint16_t* r = static_cast<const uint16_t*>(w.data) + n * K;
      float acc = 0.f;
      for (int64_t k = 0; k < K; ++k) acc += x[k] * f16_to_f32(r[k]);
      return acc;
    }
    case DType::F8_E4M3: {
      // Each 128-wide block is summed on its own, then scaled by its block's factor (as the fp8 GEMM does).
      const uint8_t* r = static_cast<const uint8_t*>(w.data) + n * K;
      const float* srow = w.scale_row(n);
      const float* lut = e4m3_table().v;
      float acc = 0.f;
      for (int64_t k0 = 0; k0 < K; k0 += kFp8Block) {
        const int64_t k1 = k0 + kFp8Block < K ? k0 + kFp8Block : K;
        float part = 0.f;
        for (int64_t k = k0; k < k1; ++k) part += x[k] * lut[r[k]];
        acc += part * srow[k0 / kFp8Block];
      }
      return acc;
    }
  }
  return 0.f;
}

void matmul_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                 int64_t ldy) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = n0; n < n1; ++n) y[m * ldy + n] = dot_row(x + m * ldx, w, n);
}

}  // namespace fathom::ref
