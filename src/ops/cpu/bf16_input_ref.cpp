// Scalar reference for the bf16 rounding of a linear layer's input (MatmulInput::Bf16) and for the layout the
// bf16 kernels read (kernels.h: pack_bf16_input).
#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom::ref {

void round_bf16(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(f32_to_bf16(x[i]));
}

void pack_bf16_input(const float* x, int64_t ldx, int64_t M, int64_t K, bool fp8_order, uint16_t* out, int64_t ldo) {
  const int64_t Kp = bf16_input_width(K);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t j = 0; j < Kp; ++j) {
      // Output slot j of its group of 64 holds input value src: natural order, or the fp8 decode's order.
      const int64_t g = j / 64 * 64, s = j % 64;
      const int64_t src = g + (fp8_order ? (s < 32 ? (s / 8) * 16 + s % 8 : ((s - 32) / 8) * 16 + 8 + s % 8) : s);
      out[m * ldo + j] = src < K ? f32_to_bf16(x[m * ldx + src]) : 0;
    }
  }
}

}  // namespace fathom::ref
