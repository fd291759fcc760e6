// Kernel selection by the active ISA (decided once; FATHOM_ISA can lower it).
#include "ops/cpu/isa.h"
#include "ops/cpu/kernels.h"

namespace fathom {

MatmulTileFn matmul_tile_kernel() {
  switch (active_isa()) {
    case Isa::AVX512_BF16:
    case Isa::AVX512: return avx512::matmul_tile;
    case Isa::AVX2: return avx2::matmul_tile;
    case Isa::SCALAR: return ref::matmul_tile;
  }
  return ref::matmul_tile;
}

MatmulBf16TileFn matmul_bf16_tile_kernel() {
  return active_isa() == Isa::AVX512_BF16 ? avx512bf16::matmul_tile : nullptr;
}

PackBf16Fn pack_bf16_kernel() {
  return active_isa() == Isa::AVX512_BF16 ? avx512bf16::pack_bf16_input : ref::pack_bf16_input;
}

RoundBf16Fn round_bf16_kernel() {
  switch (active_isa()) {
    case Isa::AVX512_BF16:
    case Isa::AVX512: return avx512::round_bf16;
    case Isa::AVX2: return avx2::round_bf16;
    case Isa::SCALAR: return ref::round_bf16;
  }
  return ref::round_bf16;
}

MlaAttentionFn mla_attention_kernel() {
  switch (active_isa()) {
    case Isa::AVX512_BF16:
    case Isa::AVX512: return avx512::mla_attention;
    case Isa::AVX2: return avx2::mla_attention;
    case Isa::SCALAR: return ref::mla_attention;
  }
  return ref::mla_attention;
}

MatmulKnTileFn matmul_kn_tile_kernel() {
  switch (active_isa()) {
    case Isa::AVX512_BF16:
    case Isa::AVX512: return avx512::matmul_kn_tile;
    case Isa::AVX2: return avx2::matmul_kn_tile;
    case Isa::SCALAR: return ref::matmul_kn_tile;
  }
  return ref::matmul_kn_tile;
}

RmsNormFn rmsnorm_kernel() {
  switch (active_isa()) {
    case Isa::AVX512_BF16:
    case Isa::AVX512: return avx512::rmsnorm;
    case Isa::AVX2: return avx2::rmsnorm;
    case Isa::SCALAR: return ref::rmsnorm;
  }
  return ref::rmsnorm;
}

SiluMulFn silu_mul_kernel() {
  switch (active_isa()) {
    case Isa::AVX512_BF16:
    case Isa::AVX512: return avx512::silu_mul;
    case Isa::AVX2: return avx2::silu_mul;
    case Isa::SCALAR: return ref::silu_mul;
  }
  return ref::silu_mul;
}

MaxValueFn max_value_kernel() {
  switch (active_isa()) {
    case Isa::AVX512_BF16:
    case Isa::AVX512: return avx512::max_value;
    case Isa::AVX2: return avx2::max_value;
    case Isa::SCALAR: return ref::max_value;
  }
  return ref::max_value;
}

ExpShiftedFn exp_shifted_kernel() {
  switch (active_isa()) {
    case Isa::AVX512_BF16:
    case Isa::AVX512: return avx512::exp_shifted;
    case Isa::AVX2: return avx2::exp_shifted;
    case Isa::SCALAR: return ref::exp_shifted;
  }
  return ref::exp_shifted;
}

RopeFn rope_kernel() {
  return active_isa() >= Isa::AVX512 ? avx512::rope_interleaved : ref::rope_interleaved;
}

}  // namespace fathom
