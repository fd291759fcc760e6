// matmul_batch(): many independent products, one fork/join. The work list is every job's weight rows in 16-row
// blocks, in job order; part p of P takes the blocks whose cumulative cost midpoint falls in [p/P, (p+1)/P) of
// the total — a function of the shapes alone. Each block goes through the same tile kernel matmul() uses, whose
// per-element order depends only on K, so every y equals the single-product result bit for bit.
#include <algorithm>
#include <vector>

#include "core/check.h"
#include "ops/cpu/kernels.h"
#include "ops/matmul_input.h"
#include "ops/ops.h"

namespace fathom {

namespace {
constexpr int64_t kBlockRows = 16;
constexpr int64_t kMinParallelMacs = 1 << 19;  // as matmul(): below this the caller does it all

int64_t block_cost(const MatmulJob& j, int64_t rows) { return rows * j.w.cols * (j.M + 4); }

// This thread's list of staged inputs, one per job (reused: the step loop allocates nothing once warm).
std::vector<StagedInput>& staged_inputs() {
  thread_local std::vector<StagedInput> v;
  return v;
}
}  // namespace

void matmul_batch(const MatmulJob* jobs, int64_t n_jobs, ThreadPool* pool) {
  int64_t total = 0, macs = 0, bytes = 0;
  for (int64_t i = 0; i < n_jobs; ++i) {
    const MatmulJob& j = jobs[i];
    FATHOM_CHECK(j.w.dtype != DType::F8_E4M3 || j.w.scale_inv != nullptr);
    if (j.M <= 0 || j.w.rows <= 0) continue;
    total += block_cost(j, j.w.rows);
    macs += j.M * j.w.rows * j.w.cols;
    bytes += staging_bytes(j.M, j.w, j.in);
  }
  const int parts = pool && macs >= kMinParallelMacs ? pool->n_threads() : 1;
  // Every job's input staged before the fork (a job with the same input as the one before it shares its copy).
  std::vector<StagedInput>& staged = staged_inputs();
  staged.assign(static_cast<size_t>(n_jobs), StagedInput{});
  uint8_t* buf = staging_buffer(bytes);
  for (int64_t i = 0; i < n_jobs; ++i) {
    const MatmulJob& j = jobs[i];
    if (j.M <= 0 || j.w.rows <= 0) continue;
    const MatmulJob* prev = i > 0 ? &jobs[i - 1] : nullptr;
    if (prev && prev->x == j.x && prev->ldx == j.ldx && prev->M == j.M && prev->in == j.in &&
        prev->w.cols == j.w.cols && prev->w.dtype == j.w.dtype && prev->w.rows > 0) {
      staged[i] = staged[i - 1];
      continue;
    }
    staged[i] = stage(j.x, j.ldx, j.M, j.w, j.in, buf, parts > 1 ? pool : nullptr);
    buf += staging_bytes(j.M, j.w, j.in);
  }
  if (parts <= 1) {
    for (int64_t i = 0; i < n_jobs; ++i) {
      const MatmulJob& j = jobs[i];
      if (j.M > 0 && j.w.rows > 0) staged[i].run(0, j.M, j.w, 0, j.w.rows, j.y, j.ldy);
    }
    return;
  }
  pool->parallel_for(parts, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      int64_t before = 0;  // cost of all blocks ahead of the current one
      for (int64_t i = 0; i < n_jobs; ++i) {
        const MatmulJob& j = jobs[i];
        if (j.M <= 0 || j.w.rows <= 0) continue;
        // Runs of consecutive blocks of this job that belong to part p are passed to the kernel together.
        int64_t run0 = -1;
        for (int64_t r = 0; r < j.w.rows; r += kBlockRows) {
          const int64_t r1 = std::min(j.w.rows, r + kBlockRows);
          const int64_t c = block_cost(j, r1 - r);
          const int64_t owner = std::min<int64_t>(parts - 1, (2 * before + c) * parts / (2 * total));
          before += c;
          if (owner == p && run0 < 0) run0 = r;
          if (owner != p && run0 >= 0) {
            staged[i].run(0, j.M, j.w, run0, r, j.y, j.ldy);
            run0 = -1;
          }
        }
        if (run0 >= 0) staged[i].run(0, j.M, j.w, run0, j.w.rows, j.y, j.ldy);
      }
    }
  });
}

}  // namespace fathom
