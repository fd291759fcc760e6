// The math the model needs, independent of the model: linear layers by weight format, norms, activations,
// RoPE and MLA attention over a paged latent cache. Every op has a scalar reference (ops/cpu/*_ref.cpp) and
// SIMD variants selected at run time (ops/cpu/isa.h). All activations are f32; weights stay in checkpoint format
// (16- and 8-bit weights meet their input rounded to bf16: see MatmulInput).
//
// Determinism contract (the engine's batch invariance rests on it): the value computed for one row never
// depends on how many rows are in the batch or how the work is split across threads — every output element
// is reduced in a fixed order that depends only on the shapes of that row.
#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace fathom {

enum class DType : uint8_t { F32, BF16, F16, F8_E4M3 };
const char* dtype_name(DType t);
constexpr int dtype_size(DType t) { return t == DType::F32 ? 4 : (t == DType::F8_E4M3 ? 1 : 2); }

constexpr int kFp8Block = 128;  // fp8 weights carry one f32 scale per 128x128 block

// Packed panels (pack_panels): kPairPanelRows consecutive rows side by side, what the outer-product kernels
// (AVX512-BF16) read — 64 output columns as four vectors of 16. Two byte layouts, by weight type:
// - bf16 pair panels: the 32-bit pair (w[r][2i], w[r][2i+1]) of rows 64p .. 64p+63, then pair i + 1;
// - fp8 pair panels: per k quad (values 4i .. 4i+3), four groups of 16 rows, 64 bytes each, in the order the
//   in-register e4m3 decode turns into the group's two pair vectors (matmul_fp8_pairs_avx512bf16.cpp).
// The order a kernel sums a row in is a property of the layout, fixed at load: pair panels sum pair by pair in one
// lane per output column; row-major weights 32 (bf16) or 64 (fp8) k at a time, one lane per k position, then a
// tree. Products are exact and sums f32 either way, so the two layouts differ by rounding only.
constexpr int64_t kPairPanelRows = 64;

// Coded bf16 pair panels: bf16 weights stored losslessly in 12 bits a value (bf16_codes.cpp writes them, the
// AVX512-BF16 tile decodes them in registers to the very bf16 pair vectors of the plain layout, so a product gives
// the same bits either way; only fewer bytes stream). Per panel of 64 rows, per unit u (values 4u .. 4u+3) and
// group g of 16 rows, 96 bytes at ((panel · units + u) · 4 + g) · 96: 64 low bytes (bf16 & 0xff), then 64 4-bit
// codes (position i < 32 in the low nibble of byte 64 + i, i >= 32 in the high nibble of byte 32 + i). Position
// 16 (c / 4) + 8 (t / 2) + 2 (c % 4) + t % 2 holds row c's value 4u + t (the fp8 panels' order). A code is the sign
// and 3 bits that pick the high byte's exponent part from the table of its 4 rows (c / 4); a unit with a value
// no code reaches (an exponent 14 or more octaves below its rows' largest) is escaped: listed, and its 64 high
// bytes stored whole.
struct Bf16Codes {
  int64_t row0 = 0;                 // WeightView::row0 of the packed tensor (group G: rows row0 + 16 G ..)
  const uint8_t* tables = nullptr;  // [groups][4 row quads][16 codes]: the high byte each code stands for
  const int64_t* first = nullptr;   // [groups + 1]: escaped units before group G's
  const int32_t* escaped = nullptr; // group G's escaped units, increasing, from first[G] + G, then INT32_MAX
  const uint8_t* escapes = nullptr; // [first[groups]][64]: the high bytes of each escaped unit, position order
};

// A linear weight: [rows = out_features, cols = in_features], row-major as in the checkpoint (panel = 1) or in
// packed pair panels (panel = kPairPanelRows).
struct WeightView {
  DType dtype = DType::F32;
  const void* data = nullptr;
  int64_t rows = 0, cols = 0;
  const float* scale_inv = nullptr;  // F8_E4M3 only: [ceil(full_rows/128), ceil(cols/128)] of the full tensor
  int64_t row0 = 0;                  // this view's row r is row row0 + r of the full tensor (fp8 scales, codes)
  int64_t panel = 1;                 // rows per panel: 1 (row-major) or kPairPanelRows (packed)
  const Bf16Codes* codes = nullptr;  // BF16 in coded pair panels (panel = kPairPanelRows), else nullptr
  int64_t scale_cols() const { return (cols + kFp8Block - 1) / kFp8Block; }
  const float* scale_row(int64_t r) const { return scale_inv + ((row0 + r) / kFp8Block) * scale_cols(); }
  // First byte of row r of a row-major view (weight_row() reads any layout).
  const uint8_t* row_bytes(int64_t r) const { return static_cast<const uint8_t*>(data) + r * cols * dtype_size(dtype); }
  // Bytes that rows [0, n) take in this view's layout (coded panels: 12 bits a value, tables and escapes apart).
  int64_t rows_bytes(int64_t n) const { return codes ? n * cols / 2 * 3 : n * cols * dtype_size(dtype); }
  // Rows [r0, r1) as a view of their own (scales stay those of the full tensor); packed: r0 on a panel boundary.
  WeightView slice_rows(int64_t r0, int64_t r1) const;
};

// Whether w can be packed: BF16 or F8_E4M3, row-major, rows a multiple of kPairPanelRows, rows of whole 64-byte
// chunks; fp8 also with its first row (row0) on a 16-row boundary, so that each group of 16 shares a block scale.
bool can_pack_panels(const WeightView& w);
// Row r's bytes in checkpoint order (cols × element bytes into out), whatever the layout.
void weight_row(const WeightView& w, int64_t r, uint8_t* out);
// Copies row-major w into dst (w.rows * w.cols * element bytes) as packed panels; returns the view of dst.
WeightView pack_panels(const WeightView& w, void* dst);
// Whether the active kernels read packed panels (AVX512-BF16); elsewhere every weight stays row-major.
bool panels_supported();
// Coded pair panels (Bf16Codes) of a BF16 w that can_pack_panels: the bytes they take (the stream, then the
// Bf16Codes and its tables, lists and escapes; found by reading w once), and the writer, into dst of that many
// bytes aligned to 64. The view it returns reads the same values as w, 12 bits each plus the escapes.
int64_t coded_panels_bytes(const WeightView& w);
WeightView pack_coded_panels(const WeightView& w, void* dst);

// What a linear layer multiplies its weight with. Bf16 (the default, the reference's bf16 GEMM): a weight stored in
// 16 or 8 bits meets x rounded to bf16 (nearest even), so every product is exact in f32 and only the f32
// accumulation rounds; f32 weights always take x as it is. F32: x as it is whatever the weight (the router, which
// the reference computes in f32, and W_UV, whose input the reference never rounds).
enum class MatmulInput : uint8_t { Bf16, F32 };

// y[m, n] = sum_k x[m, k] * W[n, k]   x: [M, K] (row stride ldx), y: [M, N] (row stride ldy), f32.
void matmul(const float* x, int64_t ldx, int64_t M, const WeightView& w, float* y, int64_t ldy, ThreadPool* pool,
            MatmulInput in = MatmulInput::Bf16);

// Several independent products in one pass over the pool (e.g. every active expert's gate, up or down
// projection): one fork/join instead of one per product. Each y is bitwise what matmul() gives for that job; the
// jobs' weight rows are cut into 64-row blocks, and the threads claim runs of them as they go, so they finish
// together. Jobs must not write overlapping outputs.
struct MatmulJob {
  const float* x = nullptr;  // [M, K], row stride ldx
  int64_t ldx = 0, M = 0;
  WeightView w;              // [N, K]
  float* y = nullptr;        // [M, N], row stride ldy
  int64_t ldy = 0;
  MatmulInput in = MatmulInput::Bf16;
  // Gate and up fused with SiLU: this job is a gate and the next one its up (same x, M and weight shape); the
  // threads claim rows of both together, and right after a range's two products y = silu(y) ⊙ y_next there, on
  // the same thread (the next job's y is then scratch). Bitwise the separate products followed by silu_mul.
  bool silu_with_next = false;
};
void matmul_batch(const MatmulJob* jobs, int64_t n_jobs, ThreadPool* pool);

// y[m, n] = Σ_k x[m, k] * W[k, n]   W viewed as [K = rows, N = cols] (the reduction runs over W's rows: e.g.
// absorbing W_UK[h] ([d_nope, r_kv]) into q). x: [M, K] (row stride ldx), y: [M, N] (row stride ldy), f32.
// Each element is summed over k in increasing order (one fused multiply-add per k), whatever M or the split.
void matmul_kn(const float* x, int64_t ldx, int64_t M, const WeightView& w, float* y, int64_t ldy, ThreadPool* pool);

// Reads every 64-byte line of a row-major w once, in order, so that a product on this core that soon follows finds
// it in cache. For small cold weights read where a long forward stream costs less than the product's own access
// pattern (MLA decode: each head's W_UV streams in right after its W_UK, next to it in kv_b_proj).
void touch_weights(const WeightView& w);

// Rows [r0, r1) of W decoded to f32 (with fp8 scales applied) into out: [r1 - r0, cols].
void decode_rows(const WeightView& w, int64_t r0, int64_t r1, float* out);

// y = w ⊙ x / sqrt(mean(x²) + eps), one row of n values; weight is a 1-D view of n values.
void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n);

// out[i] = silu(gate[i]) * up[i] (out may be gate). Each element's bits do not depend on where it sits in the call,
// so matmul_batch's gate/up pairs apply it range by range, on the thread that made the range.
void silu_mul(const float* gate, const float* up, float* out, int64_t n);

// Sampling's softmax numerators. max_value: the largest of x[0..n) (n >= 1; NaNs are not expected).
// exp_shifted: out[i] = e^((x[i] - shift) · scale), exactly 0 where (x[i] - shift) · scale < -87 (below f32's
// normal range: masked logits, -inf, give 0). SIMD variants use a polynomial e^x within a few ulp.
float max_value(const float* x, int64_t n);
void exp_shifted(const float* x, int64_t n, float shift, float scale, float* out);

// Interleaved-pair RoPE in place on x[0..2*n_pairs): pair i rotated by angle pos * inv_freq[i], times amplitude.
void rope_interleaved(float* x, int n_pairs, int64_t pos, const float* inv_freq, float amplitude);

// Absorbed MLA attention of one query token over its sequence's paged latent cache (one layer).
//   q:        [n_heads, kv_dim + rope_dim]   (q̃ = W_UKᵀ q_nope, then q_rope after RoPE)
//   cache:    [n_blocks, block_size, kv_dim + rope_dim] bf16 for this layer
//   blocks:   the sequence's block table; keys 0..n_ctx-1 are attended
//   out:      [n_heads, kv_dim]  (Σ_j softmax_j(scale · q·k_j) · c_KV_j)
//   scratch:  at least kMlaHeadGroup · n_ctx floats (kernels may score up to that many heads at once)
//   lse:      optional [n_heads]: each head's log Σ_j exp(scale · q·k_j), for merging chunks (below)
constexpr int kMlaHeadGroup = 4;
void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache,
                   const int32_t* blocks, int block_size, int64_t n_ctx, float scale, float* out, float* scratch,
                   float* lse = nullptr);

// Split-K over long contexts: a query whose context is longer than mla_chunk_keys(block_size) keys attends chunk by
// chunk, keys [c · L, (c + 1) · L) in chunk c (fixed by position, whole pages), and the chunks' outputs are merged in
// chunk order. Chunks may run on different threads; the result depends only on the context length.
int64_t mla_chunk_keys(int block_size);
// Chunk c of a query's attention: out [n_heads, kv_dim] normalised over the chunk's keys, lse [n_heads].
void mla_attention_chunk(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache,
                         const int32_t* blocks, int block_size, int64_t n_ctx, int64_t chunk, float scale, float* out,
                         float* scratch, float* lse);
// out [n_heads, kv_dim] = Σ_c w_c · parts[c] with w_c = exp(lse[c] − L) / Σ_c' exp(lse[c'] − L), L = max_c lse[c],
// per head, summed in chunk order. parts: [n_chunks, n_heads, kv_dim]; lse: [n_chunks, n_heads].
void mla_attention_merge(const float* parts, const float* lse, int64_t n_chunks, int n_heads, int kv_dim, float* out);

}  // namespace fathom
