// Kernel entry points per ISA. Each computes y[m, n] for m in [0, M), n in [n0, n1) of y = x · Wᵀ.
// Every variant must reduce each output element in an order that depends only on K (not on M, n0, n1),
// which is what keeps a row's result independent of its batch.
#pragma once
#include <cstdint>

#include "ops/ops.h"

namespace fathom {

using MatmulTileFn = void (*)(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1,
                              float* y, int64_t ldy);

namespace ref {
void matmul_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                 int64_t ldy);
}
namespace avx2 {
void matmul_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                 int64_t ldy);
}
namespace avx512 {
void matmul_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                 int64_t ldy);
}

// bf16-input matmul tile (AVX512-BF16 + VBMI: vdpbf16ps): y[m, n] of y = x · Wᵀ for BF16 and F8_E4M3 weights, with
// x already rounded to bf16 and laid out by pack_bf16_input (rows of ldxb >= bf16_input_width(K) values, zero
// past K; for row-major fp8 weights each 64-value group in the order the in-register e4m3 decode produces).
// Products are exact; each output element is summed in an order that depends only on K and the weight's layout.
using MatmulBf16TileFn = void (*)(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0,
                                  int64_t n1, float* y, int64_t ldy);
inline int64_t bf16_input_width(int64_t K) { return (K + 63) / 64 * 64; }
// x: [M, K] f32 → out: [M, ldo] bf16 (nearest even, NaN stays NaN), zero-padded to bf16_input_width(K);
// fp8_order: within each group of 64, values 0-7, 16-23, 32-39, 48-55, then 8-15, 24-31, 40-47, 56-63.
using PackBf16Fn = void (*)(const float* x, int64_t ldx, int64_t M, int64_t K, bool fp8_order, uint16_t* out,
                            int64_t ldo);
// out[i] = x[i] rounded to the nearest bf16 value (ties to even), as f32: the input of the f32 kernels under
// MatmulInput::Bf16 on machines without a bf16 dot product.
using RoundBf16Fn = void (*)(const float* x, float* out, int64_t n);
namespace ref {
void pack_bf16_input(const float* x, int64_t ldx, int64_t M, int64_t K, bool fp8_order, uint16_t* out, int64_t ldo);
void round_bf16(const float* x, float* out, int64_t n);
}  // namespace ref
namespace avx2 {
void round_bf16(const float* x, float* out, int64_t n);
}
namespace avx512 {
void round_bf16(const float* x, float* out, int64_t n);
}
namespace avx512bf16 {
// BF16 weights in pair panels — what matmul_tile runs for them (matmul_pairs_avx512bf16.cpp).
void matmul_pairs_tile(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0, int64_t n1,
                       float* y, int64_t ldy);
// F8_E4M3 weights in fp8 pair panels — what matmul_tile runs for them (matmul_fp8_pairs_avx512bf16.cpp); x in
// natural order (pack_bf16_input with fp8_order false).
void matmul_fp8_pairs_tile(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0,
                           int64_t n1, float* y, int64_t ldy);
// BF16 weights in coded pair panels (Bf16Codes) — what matmul_tile runs for them
// (matmul_coded_pairs_avx512bf16.cpp): bitwise what matmul_pairs_tile gives over the same weights' plain panels.
void matmul_coded_pairs_tile(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0,
                             int64_t n1, float* y, int64_t ldy);
// Row-major BF16 or F8_E4M3 w (can_pack_panels) → its pair panels at out (w.rows × w.cols × element bytes):
// the layouts' one writer (pack_panels_avx512bf16.cpp).
void pack_pair_panels(const WeightView& w, uint8_t* out);
void matmul_tile(const uint16_t* xb, int64_t ldxb, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                 int64_t ldy);
void pack_bf16_input(const float* x, int64_t ldx, int64_t M, int64_t K, bool fp8_order, uint16_t* out, int64_t ldo);
}  // namespace avx512bf16

// MLA attention (same contract as fathom::mla_attention in ops.h). Per (query, head) the reduction order depends
// only on n_ctx, kv_dim, rope_dim and block_size, never on n_heads or on the caller's split. lse (optional):
// [n_heads], each head's log Σ_j exp(scale · q·k_j) (max + log of the sum, as the softmax computed them).
using MlaAttentionFn = void (*)(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache,
                                const int32_t* blocks, int block_size, int64_t n_ctx, float scale, float* out,
                                float* scratch, float* lse);
namespace ref {
void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache, const int32_t* blocks,
                   int block_size, int64_t n_ctx, float scale, float* out, float* scratch, float* lse = nullptr);
}
namespace avx2 {
void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache, const int32_t* blocks,
                   int block_size, int64_t n_ctx, float scale, float* out, float* scratch, float* lse = nullptr);
}
namespace avx512 {
void mla_attention(const float* q, int n_heads, int kv_dim, int rope_dim, const uint16_t* cache, const int32_t* blocks,
                   int block_size, int64_t n_ctx, float scale, float* out, float* scratch, float* lse = nullptr);
}

// matmul_kn tile: y[m, n] for m in [0, M), n in [n0, n1) of y = x · W with W as [K, N]. Each element is one
// chain of fused multiply-adds over k = 0 .. K-1 (the scalar reference uses std::fma), so all variants agree
// bitwise except through the weight decode, which is exact.
using MatmulKnTileFn = void (*)(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1,
                                float* y, int64_t ldy);
namespace ref {
void matmul_kn_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                    int64_t ldy);
}
namespace avx2 {
void matmul_kn_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                    int64_t ldy);
}
namespace avx512 {
void matmul_kn_tile(const float* x, int64_t ldx, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                    int64_t ldy);
}

// Row-wise and element-wise ops (same contracts as in ops.h). Each element's value depends only on its own row:
// tails go through the same vector code (masked), never a separate scalar formula.
using RmsNormFn = void (*)(const float* x, const WeightView& weight, float eps, float* y, int64_t n);
using SiluMulFn = void (*)(const float* gate, const float* up, float* out, int64_t n);
namespace ref {
void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
}
namespace avx2 {
void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
}
namespace avx512 {
void rmsnorm(const float* x, const WeightView& weight, float eps, float* y, int64_t n);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
}

// Sampling helpers (same contracts as max_value / exp_shifted in ops.h).
using MaxValueFn = float (*)(const float* x, int64_t n);
using ExpShiftedFn = void (*)(const float* x, int64_t n, float shift, float scale, float* out);
constexpr float kExpShiftedFloor = -87.0f;  // arguments below this give exactly 0
namespace ref {
float max_value(const float* x, int64_t n);
void exp_shifted(const float* x, int64_t n, float shift, float scale, float* out);
}  // namespace ref
namespace avx2 {
float max_value(const float* x, int64_t n);
void exp_shifted(const float* x, int64_t n, float shift, float scale, float* out);
}  // namespace avx2
namespace avx512 {
float max_value(const float* x, int64_t n);
void exp_shifted(const float* x, int64_t n, float shift, float scale, float* out);
}  // namespace avx512

// RoPE (same contract as rope_interleaved in ops.h); no AVX2 variant: that path uses the reference.
using RopeFn = void (*)(float* x, int n_pairs, int64_t pos, const float* inv_freq, float amplitude);
namespace ref {
void rope_interleaved(float* x, int n_pairs, int64_t pos, const float* inv_freq, float amplitude);
}
namespace avx512 {
void rope_interleaved(float* x, int n_pairs, int64_t pos, const float* inv_freq, float amplitude);
}

// The kernels for the active ISA (ops/cpu/isa.h).
MatmulTileFn matmul_tile_kernel();
MatmulBf16TileFn matmul_bf16_tile_kernel();  // nullptr unless the active ISA is AVX512_BF16
PackBf16Fn pack_bf16_kernel();
RoundBf16Fn round_bf16_kernel();
MlaAttentionFn mla_attention_kernel();
RmsNormFn rmsnorm_kernel();
MatmulKnTileFn matmul_kn_tile_kernel();
SiluMulFn silu_mul_kernel();
RopeFn rope_kernel();
MaxValueFn max_value_kernel();
ExpShiftedFn exp_shifted_kernel();

}  // namespace fathom
