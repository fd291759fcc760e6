// matmul_batch(): many independent products, one fork/join. The work list is every job's weight rows in 64-row
// blocks (whole pair panels), in job order, and the threads claim runs of consecutive blocks as they go (ThreadPool::
// parallel_for_guided), so they finish together whatever the jobs cost. Each run goes through the same tile
// kernel matmul() uses, whose per-element order depends only on K, so every y equals the single-product result
// bit for bit, whichever thread computed it. A gate job marked silu_with_next claims its up's rows with its own
// and finishes each range with the SiLU (gate and up fused with SiLU: no pass of its own, no fork of its own).
#include <algorithm>
#include <vector>

#include "core/check.h"
#include "ops/cpu/kernels.h"
#include "ops/matmul_input.h"
#include "ops/ops.h"

namespace fathom {

namespace {
constexpr int64_t kBlockRows = kPairPanelRows;
constexpr int64_t kMinParallelMacs = 1 << 19;  // as matmul(): below this the caller does it all

// This thread's list of staged inputs, one per job (reused: the step loop allocates nothing once warm).
std::vector<StagedInput>& staged_inputs() {
  thread_local std::vector<StagedInput> v;
  return v;
}

// This thread's block offsets: job i's blocks are [first[i], first[i + 1]) of the work list.
std::vector<int64_t>& first_blocks() {
  thread_local std::vector<int64_t> v;
  return v;
}
}  // namespace

void matmul_batch(const MatmulJob* jobs, int64_t n_jobs, ThreadPool* pool) {
  int64_t macs = 0, bytes = 0;
  for (int64_t i = 0; i < n_jobs; ++i) {
    const MatmulJob& j = jobs[i];
    FATHOM_CHECK(j.w.dtype != DType::F8_E4M3 || j.w.scale_inv != nullptr);
    if (j.M <= 0 || j.w.rows <= 0) continue;
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
        prev->w.cols == j.w.cols && prev->w.dtype == j.w.dtype &&
        staged_in_fp8_order(prev->w) == staged_in_fp8_order(j.w) && prev->w.rows > 0) {
      staged[i] = staged[i - 1];
      continue;
    }
    staged[i] = stage(j.x, j.ldx, j.M, j.w, j.in, buf, parts > 1 ? pool : nullptr);
    buf += staging_bytes(j.M, j.w, j.in);
  }
  auto is_up = [&](int64_t i) { return i > 0 && jobs[i - 1].silu_with_next; };  // run with its gate
  // Rows [r0, r1) of job i (and of its up, then the SiLU over them, for a gate).
  auto run_rows = [&](int64_t i, int64_t r0, int64_t r1) {
    const MatmulJob& j = jobs[i];
    staged[i].run(0, j.M, j.w, r0, r1, j.y, j.ldy);
    if (!j.silu_with_next) return;
    const MatmulJob& u = jobs[i + 1];
    staged[i + 1].run(0, u.M, u.w, r0, r1, u.y, u.ldy);
    for (int64_t m = 0; m < j.M; ++m) {
      float* g = j.y + m * j.ldy + r0;
      silu_mul(g, u.y + m * u.ldy + r0, g, r1 - r0);
    }
  };
  for (int64_t i = 0; i < n_jobs; ++i)
    if (jobs[i].silu_with_next) {
      FATHOM_CHECK(i + 1 < n_jobs && !jobs[i + 1].silu_with_next);
      const MatmulJob &g = jobs[i], &u = jobs[i + 1];
      FATHOM_CHECK(u.x == g.x && u.M == g.M && u.w.rows == g.w.rows && u.w.cols == g.w.cols);
    }
  if (parts <= 1) {
    for (int64_t i = 0; i < n_jobs; ++i) {
      const MatmulJob& j = jobs[i];
      if (j.M > 0 && j.w.rows > 0 && !is_up(i)) run_rows(i, 0, j.w.rows);
    }
    return;
  }
  std::vector<int64_t>& first = first_blocks();
  first.assign(static_cast<size_t>(n_jobs) + 1, 0);
  for (int64_t i = 0; i < n_jobs; ++i) {
    const MatmulJob& j = jobs[i];
    const bool runs = j.M > 0 && j.w.rows > 0 && !is_up(i);
    first[i + 1] = first[i] + (runs ? (j.w.rows + kBlockRows - 1) / kBlockRows : 0);
  }
  pool->parallel_for_guided(first[n_jobs], [&](int64_t b0, int64_t b1) {
    // The jobs whose blocks meet [b0, b1), each over the rows of its blocks in the range.
    int64_t i = std::upper_bound(first.begin(), first.end(), b0) - first.begin() - 1;
    for (; i < n_jobs && first[i] < b1; ++i) {
      if (first[i + 1] == first[i]) continue;
      const MatmulJob& j = jobs[i];
      const int64_t r0 = (std::max(b0, first[i]) - first[i]) * kBlockRows;
      const int64_t r1 = std::min(j.w.rows, (std::min(b1, first[i + 1]) - first[i]) * kBlockRows);
      run_rows(i, r0, r1);
    }
  });
}

}  // namespace fathom
