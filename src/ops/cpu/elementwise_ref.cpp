// Scalar references for RMSNorm, SiLU-gating, RoPE and the sampling helpers: the numerics the SIMD variants are
// checked against.
#include <cmath>

#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom::ref {

static float norm_weight(const WeightView& w, int64_t i) {
  switch (w.dtype) {
    case DType::F32: return static_cast<const float*>(w.data)[i];
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(w.data)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(w.data)[i]);
    case DType::F8_E4M3: return e4m3_table().v[static_cast<const uint8_t*>(w.data)[i]] * w.scale_row(0)[i / kFp8Block];
  }
  return 0.f;
}

void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n) {
  float ss = 0.f;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv * norm_weight(weight, i);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void rope_interleaved(float* x, int n_pairs, int64_t pos, const float* inv_freq, float amplitude) {
  for (int i = 0; i < n_pairs; ++i) {
    // Angle as one f32 multiply, as the references compute it; cos/sin of that f32 angle in double.
    const float ang = static_cast<float>(pos) * inv_freq[i];
    const float c = static_cast<float>(std::cos(static_cast<double>(ang))) * amplitude;
    const float s = static_cast<float>(std::sin(static_cast<double>(ang))) * amplitude;
    const float a = x[2 * i], b = x[2 * i + 1];
    x[2 * i] = a * c - b * s;
    x[2 * i + 1] = a * s + b * c;
  }
}

float max_value(const float* x, int64_t n) {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

void exp_shifted(const float* x, int64_t n, float shift, float scale, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float a = (x[i] - shift) * scale;
    out[i] = a < kExpShiftedFloor ? 0.0f : std::exp(a);
  }
}

}  // namespace fathom::ref
