// The input side of a product: x as the chosen kernel reads it. Under MatmulInput::Bf16 a 16- or 8-bit weight
// meets x rounded to bf16 — packed for the bf16 kernel (AVX512-BF16), or rounded in f32 for the others. The
// staged copy lives in a per-thread buffer that only grows, so once the largest shapes have been seen the step
// loop allocates nothing.
#pragma once
#include <cstdint>

#include "ops/cpu/kernels.h"
#include "ops/ops.h"

namespace fathom {

struct StagedInput {
  const float* xf = nullptr;     // f32 kernel input: [M, ldxf]
  int64_t ldxf = 0;
  const uint16_t* xb = nullptr;  // bf16 kernel input: [M, ldxb] (set when the bf16 kernel is to run)
  int64_t ldxb = 0;
  // y rows [m0, m0 + M), columns [n0, n1), through the kernel the input was staged for.
  void run(int64_t m0, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y, int64_t ldy) const;
};

// Whether a bf16-staged x is laid out in the e4m3 decode's order for w (row-major fp8; pair panels read x in
// natural order): two products may share one staged x only where this agrees.
inline bool staged_in_fp8_order(const WeightView& w) { return w.dtype == DType::F8_E4M3 && w.panel == 1; }

// Bytes of staging that stage() needs for this product (0 when x is used as it is).
int64_t staging_bytes(int64_t M, const WeightView& w, MatmulInput in);

// Stages x into buf (staging_bytes() of room, 64-byte aligned); with a pool, large inputs are staged in parallel.
StagedInput stage(const float* x, int64_t ldx, int64_t M, const WeightView& w, MatmulInput in, uint8_t* buf,
                  ThreadPool* pool);

// This thread's staging buffer, at least `bytes` long (grows, never shrinks).
uint8_t* staging_buffer(int64_t bytes);

}  // namespace fathom
