#include "model/layers.h"

namespace fathom {

void mlp_forward(const MlpWeights& w, const float* x, int64_t T, Workspace& ws, float* out, ThreadPool* pool) {
  const int64_t H = w.gate.cols, I = w.gate.rows;
  // gate and up as one batch: one fork/join, x staged once.
  const MatmulJob gate_up[2] = {{x, H, T, w.gate, ws.ff_gate.data(), I}, {x, H, T, w.up, ws.ff_up.data(), I}};
  matmul_batch(gate_up, 2, pool);  // [T, I] each
  silu_mul(ws.ff_gate.data(), ws.ff_up.data(), ws.ff_gate.data(), T * I, pool);
  matmul(ws.ff_gate.data(), I, T, w.down, out, H, pool);  // [T, H]
}

}  // namespace fathom
