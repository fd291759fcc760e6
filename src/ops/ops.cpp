#include "ops/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

WeightView WeightView::slice_rows(int64_t r0, int64_t r1) const {
  FATHOM_CHECK(r0 % panel == 0);
  WeightView v = *this;
  v.data = static_cast<const uint8_t*>(data) + rows_bytes(r0);
  v.rows = r1 - r0;
  v.row0 = row0 + r0;
  return v;
}

bool can_pack_panels(const WeightView& w) {
  if (w.dtype != DType::BF16 && w.dtype != DType::F8_E4M3) return false;
  return w.panel == 1 && w.rows % kPairPanelRows == 0 && (w.cols * dtype_size(w.dtype)) % 64 == 0 &&
         (w.dtype != DType::F8_E4M3 || w.row0 % 16 == 0);
}

namespace {
// Where value k of row r lies in a packed view (in elements from data): the readers, written apart from the
// kernels' packers so that the tests check one against the other.
int64_t pair_index(const WeightView& w, int64_t r, int64_t i) {  // bf16: the 32-bit pair i
  const int64_t q = r / kPairPanelRows;
  return q * kPairPanelRows * (w.cols / 2) + i * kPairPanelRows + r % kPairPanelRows;
}
int64_t fp8_index(const WeightView& w, int64_t r, int64_t k) {  // fp8: the byte
  const int64_t q = r / kPairPanelRows, g = (r % kPairPanelRows) / 16, c = r % 16, t = k % 4;
  return q * kPairPanelRows * w.cols + (k / 4) * kPairPanelRows * 4 + g * 64 + 16 * (c / 4) + 8 * (t / 2) +
         2 * (c % 4) + t % 2;
}
// Coded panels: row r's value k, from the unit's low byte and either its code's table entry or its escaped
// high byte (found in its group's list of escaped units).
uint16_t coded_value(const WeightView& w, int64_t r, int64_t k) {
  const Bf16Codes& c = *w.codes;
  const int64_t units = w.cols / 4, q = r / kPairPanelRows, g = (r % kPairPanelRows) / 16, row = r % 16;
  const int64_t G = (w.row0 - c.row0 + r) / 16, u = k / 4, t = k % 4;
  const int64_t i = 16 * (row / 4) + 8 * (t / 2) + 2 * (row % 4) + t % 2;
  const uint8_t* unit = static_cast<const uint8_t*>(w.data) + ((q * units + u) * 4 + g) * 96;
  const int32_t* list = c.escaped + c.first[G] + G;
  const int64_t n_escaped = c.first[G + 1] - c.first[G];
  const int64_t e = std::find(list, list + n_escaped, static_cast<int32_t>(u)) - list;
  uint8_t hi;
  if (e < n_escaped) {
    hi = c.escapes[(c.first[G] + e) * 64 + i];
  } else {
    const int code = i < 32 ? unit[64 + i] & 15 : unit[32 + i] >> 4;
    hi = c.tables[G * 64 + 16 * (row / 4) + code];
  }
  return static_cast<uint16_t>(hi << 8 | unit[i]);
}
}  // namespace

WeightView pack_panels(const WeightView& w, void* dst) {
  FATHOM_CHECK(can_pack_panels(w));
  FATHOM_CHECK(panels_supported());
  WeightView v = w;
  v.data = dst;
  v.panel = kPairPanelRows;
  avx512bf16::pack_pair_panels(w, static_cast<uint8_t*>(dst));  // the layouts' one writer
  return v;
}

void weight_row(const WeightView& w, int64_t r, uint8_t* out) {
  if (w.panel == 1) {
    std::memcpy(out, w.row_bytes(r), w.cols * dtype_size(w.dtype));
    return;
  }
  FATHOM_CHECK(w.panel == kPairPanelRows);
  if (w.codes) {
    for (int64_t k = 0; k < w.cols; ++k) {
      const uint16_t v = coded_value(w, r, k);
      std::memcpy(out + 2 * k, &v, 2);
    }
    return;
  }
  if (w.dtype == DType::F8_E4M3) {
    const uint8_t* src = static_cast<const uint8_t*>(w.data);
    for (int64_t k = 0; k < w.cols; ++k) out[k] = src[fp8_index(w, r, k)];
    return;
  }
  const uint32_t* src = static_cast<const uint32_t*>(w.data);
  for (int64_t i = 0; i < w.cols / 2; ++i) std::memcpy(out + 4 * i, &src[pair_index(w, r, i)], 4);
}

bool panels_supported() { return matmul_bf16_tile_kernel() != nullptr; }

void touch_weights(const WeightView& w) {
  FATHOM_CHECK(w.panel == 1);
  const auto* p = static_cast<const uint8_t*>(w.data);
  const int64_t n = w.rows_bytes(w.rows);
  uint8_t seen = 0;
  for (int64_t i = 0; i < n; i += 64) seen ^= *static_cast<const volatile uint8_t*>(p + i);
  asm volatile("" : : "r"(seen));  // the loads stay
}

void decode_rows(const WeightView& w, int64_t r0, int64_t r1, float* out) {
  FATHOM_CHECK(w.panel == 1);
  const int64_t K = w.cols;
  for (int64_t r = r0; r < r1; ++r) {
    float* o = out + (r - r0) * K;
    switch (w.dtype) {
      case DType::F32: std::memcpy(o, static_cast<const float*>(w.data) + r * K, K * sizeof(float)); break;
      case DType::BF16: {
        const uint16_t* src = static_cast<const uint16_t*>(w.data) + r * K;
        for (int64_t c = 0; c < K; ++c) o[c] = bf16_to_f32(src[c]);
        break;
      }
      case DType::F16: {
        const uint16_t* src = static_cast<const uint16_t*>(w.data) + r * K;
        for (int64_t c = 0; c < K; ++c) o[c] = f16_to_f32(src[c]);
        break;
      }
      case DType::F8_E4M3: {
        const uint8_t* src = static_cast<const uint8_t*>(w.data) + r * K;
        const float* lut = e4m3_table().v;
        const float* srow = w.scale_row(r);
        for (int64_t c0 = 0; c0 < K; c0 += kFp8Block) {
          const float sc = srow[c0 / kFp8Block];
          const int64_t c1 = std::min(K, c0 + kFp8Block);
          for (int64_t c = c0; c < c1; ++c) o[c] = lut[src[c]] * sc;
        }
        break;
      }
    }
  }
}

void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n) {
  rmsnorm_kernel()(x, weight, eps, y, n);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) { silu_mul_kernel()(gate, up, out, n); }

float max_value(const float* x, int64_t n) { return max_value_kernel()(x, n); }

void exp_shifted(const float* x, int64_t n, float shift, float scale, float* out) {
  exp_shifted_kernel()(x, n, shift, scale, out);
}

void rope_interleaved(float* x, int n_pairs, int64_t pos, const float* inv_freq, float amplitude) {
  rope_kernel()(x, n_pairs, pos, inv_freq, amplitude);
}

void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache,
                   const int32_t* blocks, int block_size, int64_t n_ctx, float scale, float* out, float* scratch,
                   float* lse) {
  mla_attention_kernel()(q, n_heads, kv_dim, rope_dim, cache, blocks, block_size, n_ctx, scale, out, scratch, lse);
}

int64_t mla_chunk_keys(int block_size) {
  constexpr int64_t kChunkKeys = 2048;
  return (kChunkKeys + block_size - 1) / block_size * block_size;
}

void mla_attention_chunk(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache,
                         const int32_t* blocks, int block_size, int64_t n_ctx, int64_t chunk, float scale, float* out,
                         float* scratch, float* lse) {
  const int64_t L = mla_chunk_keys(block_size), k0 = chunk * L;
  FATHOM_CHECK(k0 < n_ctx);
  mla_attention_kernel()(q, n_heads, kv_dim, rope_dim, cache, blocks + k0 / block_size, block_size,
                         std::min(L, n_ctx - k0), scale, out, scratch, lse);
}

void mla_attention_merge(const float* parts, const float* lse, int64_t n_chunks, int n_heads, int kv_dim, float* out) {
  for (int h = 0; h < n_heads; ++h) {
    float top = -INFINITY;
    for (int64_t c = 0; c < n_chunks; ++c) top = std::max(top, lse[c * n_heads + h]);
    float total = 0.f;
    for (int64_t c = 0; c < n_chunks; ++c) total += std::exp(lse[c * n_heads + h] - top);
    float* o = out + static_cast<int64_t>(h) * kv_dim;
    std::fill(o, o + kv_dim, 0.f);
    for (int64_t c = 0; c < n_chunks; ++c) {
      const float wc = std::exp(lse[c * n_heads + h] - top) / total;
      const float* p = parts + (c * n_heads + h) * kv_dim;
      for (int i = 0; i < kv_dim; ++i) o[i] += wc * p[i];
    }
  }
}

}  // namespace fathom
