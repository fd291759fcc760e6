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

// The tile kernel for the active ISA (ops/cpu/isa.h).
MatmulTileFn matmul_tile_kernel();

}  // namespace fathom
