// matmul(): picks the kernel for the active ISA and splits the work across the pool: over the weight rows, or over
// the batch for short-and-wide products (matmul_split, by shape), in ranges the threads claim as they go so that
// they finish together. Kernels reduce every output element in an order that depends only on K, so neither the
// split nor which thread runs which range can change a bit.
#include "ops/matmul_split.h"

#include <algorithm>

#include "core/check.h"
#include "ops/cpu/kernels.h"
#include "ops/matmul_input.h"
#include "ops/ops.h"

namespace fathom {

namespace {
constexpr int64_t kRowAlign = 16;       // column blocks (rows of W) per part: a multiple of every kernel's NR
constexpr int64_t kBatchAlign = 4;      // x-row blocks per part: the kernels' MR
constexpr int64_t kMinParallelMacs = 1 << 19;  // below this, waking a worker costs more than it saves
}  // namespace

MatmulSplit matmul_split(int64_t M, int64_t N, int64_t K, int n_threads) {
  MatmulSplit s;
  if (n_threads <= 1 || M * N * K < kMinParallelMacs) return s;
  const int64_t n_blocks = (N + kRowAlign - 1) / kRowAlign;
  const int64_t m_blocks = (M + kBatchAlign - 1) / kBatchAlign;
  // Split the weight rows when every thread gets at least two blocks of them (each thread then streams its own
  // part of W once); otherwise, for short-and-wide products (few weight rows, many tokens), split the batch.
  if (n_blocks >= 2 * n_threads || m_blocks < n_threads) {
    s.parts = static_cast<int>(std::min<int64_t>(n_threads, n_blocks));
    s.over_rows = false;
  } else {
    s.parts = static_cast<int>(std::min<int64_t>(n_threads, m_blocks));
    s.over_rows = true;
  }
  return s;
}

namespace {
// Runs fn(m0, m1, n0, n1) over ranges of y: [M, N] — of N in blocks of n_align, or of M in blocks of kBatchAlign,
// as matmul_split decides — claimed by the pool's threads when it splits, else once on the calling thread.
template <class Fn>
void split_and_run(int64_t M, int64_t N, int64_t K, int64_t n_align, ThreadPool* pool, const Fn& fn) {
  const MatmulSplit s = matmul_split(M, N, K, pool ? pool->n_threads() : 1);
  if (s.parts <= 1) {
    fn(0, M, 0, N);
    return;
  }
  const int64_t align = s.over_rows ? kBatchAlign : n_align;
  const int64_t total = s.over_rows ? M : N;
  pool->parallel_for_guided((total + align - 1) / align, [&](int64_t u0, int64_t u1) {
    const int64_t b = u0 * align, e = std::min(total, u1 * align);
    if (s.over_rows) fn(b, e, 0, N);
    else fn(0, M, b, e);
  });
}
}  // namespace

void matmul(const float* x, int64_t ldx, int64_t M, const WeightView& w, float* y, int64_t ldy, ThreadPool* pool,
            MatmulInput in) {
  FATHOM_CHECK(w.dtype != DType::F8_E4M3 || w.scale_inv != nullptr);
  if (M <= 0 || w.rows <= 0) return;
  const StagedInput xs = stage(x, ldx, M, w, in, staging_buffer(staging_bytes(M, w, in)), pool);
  // Pair panels in whole: a range that starts or ends inside one runs narrower register blocks there.
  const int64_t n_align = w.panel == kPairPanelRows ? kPairPanelRows : kRowAlign;
  split_and_run(M, w.rows, w.cols, n_align, pool, [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    xs.run(m0, m1 - m0, w, n0, n1, y, ldy);
  });
}

void matmul_kn(const float* x, int64_t ldx, int64_t M, const WeightView& w, float* y, int64_t ldy, ThreadPool* pool) {
  FATHOM_CHECK(w.dtype != DType::F8_E4M3 || w.scale_inv != nullptr);
  FATHOM_CHECK(w.panel == 1);
  if (M <= 0 || w.cols <= 0) return;
  const MatmulKnTileFn kernel = matmul_kn_tile_kernel();
  if (w.rows <= 0) {
    for (int64_t m = 0; m < M; ++m) std::fill(y + m * ldy, y + m * ldy + w.cols, 0.f);
    return;
  }
  // Output columns in whole 64-wide vectors.
  split_and_run(M, w.cols, w.rows, kRowAlign * 4, pool, [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    kernel(x + m0 * ldx, ldx, m1 - m0, w, n0, n1, y + m0 * ldy, ldy);
  });
}

}  // namespace fathom
