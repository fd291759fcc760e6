#include "ops/ops.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/numeric.h"
#include "ops/cpu/kernels.h"

namespace fathom {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::F8_E4M3: return "F8_E4M3";
  }
  return "?";
}

int dtype_size(DType t) { return t == DType::F32 ? 4 : (t == DType::F8_E4M3 ? 1 : 2); }

WeightView WeightView::slice_rows(int64_t r0, int64_t r1) const {
  WeightView v = *this;
  v.data = static_cast<const uint8_t*>(data) + r0 * cols * dtype_size(dtype);
  v.rows = r1 - r0;
  v.row0 = row0 + r0;
  return v;
}

void matmul(const float* x, int64_t ldx, int64_t M, const WeightView& w, float* y, int64_t ldy, ThreadPool* pool) {
  FATHOM_CHECK(w.dtype != DType::F8_E4M3 || w.scale_inv != nullptr);
  if (M <= 0 || w.rows <= 0) return;
  const MatmulTileFn kernel = matmul_tile_kernel();
  auto run = [&](int64_t n0, int64_t n1) { kernel(x, ldx, M, w, n0, n1, y, ldy); };
  if (pool && w.rows * w.cols * std::max<int64_t>(M, 1) >= (1 << 15)) {
    pool->parallel_for(w.rows, run, 16);
  } else {
    run(0, w.rows);
  }
}

static float weight_at(const WeightView& w, int64_t r, int64_t c) {
  const int64_t i = r * w.cols + c;
  switch (w.dtype) {
    case DType::F32: return static_cast<const float*>(w.data)[i];
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(w.data)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(w.data)[i]);
    case DType::F8_E4M3:
      return e4m3_table().v[static_cast<const uint8_t*>(w.data)[i]] *
             w.scale_row(r)[c / kFp8Block];
  }
  return 0.f;
}

void decode_rows(const WeightView& w, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = 0; c < w.cols; ++c) out[(r - r0) * w.cols + c] = weight_at(w, r, c);
}

void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n) {
  float ss = 0.f;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv * weight_at(weight, 0, i);
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

void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache,
                   const int32_t* blocks, int block_size, int64_t n_ctx, float scale, float* out, float* scratch) {
  mla_attention_kernel()(q, n_heads, kv_dim, rope_dim, cache, blocks, block_size, n_ctx, scale, out, scratch);
}

}  // namespace fathom
