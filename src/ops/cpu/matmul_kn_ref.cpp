// Scalar reference for matmul_kn (y = x · W, W as [K, N]): per element, one fused multiply-add per k in order.
#include <cmath>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom::ref {

static float weight(const WeightView& w, int64_t k, int64_t n) {
  const int64_t i = k * w.cols + n;
  switch (w.dtype) {
    case DType::F32: return static_cast<const float*>(w.data)[i];
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(w.data)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(w.data)[i]);
    case DType::F8_E4M3: return e4m3_table().v[static_cast<const uint8_t*>(w.data)[i]] * w.scale_row(k)[n / kFp8Block];
  }
  return 0.f;
}

void matmul_kn_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                    int64_t ldy) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = n0; n < n1; ++n) {
      float acc = 0.f;
      for (int64_t k = 0; k < w.rows; ++k) acc = std::fma(x[m * ldx + k], weight(w, k, n), acc);
      y[m * ldy + n] = acc;
    }
}

}  // namespace fathom::ref
