#include "model/layers.h"

namespace fathom {

void mlp_forward(const MlpWeights& w, const float* x, int64_t T, Workspace& ws, float* out, ThreadPool* pool) {
  const int64_t H = w.gate.cols, I = w.gate.rows;
  matmul(x, H, T, w.gate, ws.ff_gate.data(), I, pool);  // [T, I]
  matmul(x, H, T, w.up, ws.ff_up.data(), I, pool);      // [T, I]
  silu_mul(ws.ff_gate.data(), ws.ff_up.data(), ws.ff_gate.data(), T * I);
  matmul(ws.ff_gate.data(), I, T, w.down, out, H, pool);  // [T, H]
}

}  // namespace fathom
