#include "model/layers.h"

namespace fathom {

void mlp_forward(const MlpWeights& w, const float* x, int64_t T, Workspace& ws, float* out, ThreadPool* pool) {
  const int64_t H = w.gate.cols, I = w.gate.rows;
  // gate and up as one batch fused with SiLU: one fork/join, x staged once, ff_gate = silu(gate) ⊙ up [T, I].
  const MatmulJob gate_up[2] = {{x, H, T, w.gate, ws.ff_gate.data(), I, MatmulInput::Bf16, true},
                                {x, H, T, w.up, ws.ff_up.data(), I}};
  matmul_batch(gate_up, 2, pool);
  matmul(ws.ff_gate.data(), I, T, w.down, out, H, pool);  // [T, H]
}

}  // namespace fathom
