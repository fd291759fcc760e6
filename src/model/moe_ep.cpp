// Expert-parallel MoE: tokens go to their experts' owners and back with two alltoallv exchanges.
//
//   rank r: route local tokens → pairs (token, slot, expert) → sorted by owner rank → alltoallv rows + expert ids
//   owner:  received rows grouped by expert (ascending; arrival order inside) → expert MLP → alltoallv back
//   rank r: each token sums w_k · out_k over its experts in ascending expert order (as moe_forward does)
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/check.h"
#include "model/layers.h"

namespace fathom {

void moe_forward_ep(const ModelConfig& c, const LayerWeights& w, const float* x, int64_t T, Workspace& ws, float* out,
                    ThreadPool* pool, Comm& comm) {
  const int64_t H = c.hidden_size, E = c.n_routed_experts, K = c.num_experts_per_tok;
  const int n = comm.size(), me = comm.rank();
  const int64_t per_rank = E / n;
  if (T > 0) {
    matmul(x, H, T, w.router, ws.router.data(), E, pool, MatmulInput::F32);  // [T, E] in f32, as the reference
    const float* bias = w.router_bias.data ? static_cast<const float*>(w.router_bias.data) : nullptr;
    route_tokens(c, bias, ws.router.data(), T, ws.topk_idx.data(), ws.topk_w.data(), ws.route);
  }

  // Pairs ordered by owner rank (stable in (token, slot) order): send buffer rows and their expert ids.
  std::vector<int64_t> send_n(n, 0), recv_n(n, 0), all_n(static_cast<size_t>(n) * n);
  for (int64_t i = 0; i < T * K; ++i) send_n[ws.topk_idx[i] / per_rank]++;
  comm.allgather(send_n.data(), n * static_cast<int64_t>(sizeof(int64_t)), all_n.data());  // [src][dst]
  int64_t n_recv = 0;
  for (int r = 0; r < n; ++r) n_recv += (recv_n[r] = all_n[static_cast<size_t>(r) * n + me]);
  std::vector<int64_t> send_off(n, 0), recv_off(n, 0);
  for (int r = 1; r < n; ++r) send_off[r] = send_off[r - 1] + send_n[r - 1], recv_off[r] = recv_off[r - 1] + recv_n[r - 1];
  ws.ep_send.resize(static_cast<size_t>(T * K * H));
  ws.ep_send_expert.resize(static_cast<size_t>(T * K));
  ws.ep_pair_slot.resize(static_cast<size_t>(T * K));
  {
    std::vector<int64_t> cursor = send_off;
    for (int64_t i = 0; i < T * K; ++i) {
      const int32_t e = ws.topk_idx[i];
      const int64_t slot = cursor[e / per_rank]++;
      ws.ep_pair_slot[i] = static_cast<int32_t>(slot);
      ws.ep_send_expert[slot] = e;
      std::memcpy(ws.ep_send.data() + slot * H, x + (i / K) * H, H * sizeof(float));
    }
  }
  auto scaled = [](const std::vector<int64_t>& v, int64_t f) {
    std::vector<int64_t> s(v.size());
    for (size_t i = 0; i < v.size(); ++i) s[i] = v[i] * f;
    return s;
  };
  const int64_t row_bytes = H * static_cast<int64_t>(sizeof(float));
  ws.ep_recv.resize(static_cast<size_t>(n_recv * H));
  ws.ep_recv_expert.resize(static_cast<size_t>(n_recv));
  comm.alltoallv(ws.ep_send_expert.data(), scaled(send_n, 4), scaled(send_off, 4), ws.ep_recv_expert.data(),
                 scaled(recv_n, 4), scaled(recv_off, 4));
  comm.alltoallv(ws.ep_send.data(), scaled(send_n, row_bytes), scaled(send_off, row_bytes), ws.ep_recv.data(),
                 scaled(recv_n, row_bytes), scaled(recv_off, row_bytes));

  // Owner side: every received row through its expert, in chunks that fit the workspace; results in place.
  std::vector<int32_t> rows;
  for (int64_t e = w.e0; e < w.e1; ++e) {
    rows.clear();
    for (int64_t j = 0; j < n_recv; ++j)
      if (ws.ep_recv_expert[j] == e) rows.push_back(static_cast<int32_t>(j));
    for (size_t b = 0; b < rows.size(); b += static_cast<size_t>(ws.max_tokens)) {
      const int64_t m = std::min<int64_t>(ws.max_tokens, static_cast<int64_t>(rows.size() - b));
      for (int64_t r = 0; r < m; ++r)
        std::memcpy(ws.ex_in.data() + r * H, ws.ep_recv.data() + rows[b + r] * H, row_bytes);
      mlp_forward(w.experts[e], ws.ex_in.data(), m, ws, ws.ex_out.data(), pool);
      for (int64_t r = 0; r < m; ++r)
        std::memcpy(ws.ep_recv.data() + rows[b + r] * H, ws.ex_out.data() + r * H, row_bytes);
    }
  }
  for (int64_t j = 0; j < n_recv; ++j)
    FATHOM_CHECK(ws.ep_recv_expert[j] >= w.e0 && ws.ep_recv_expert[j] < w.e1);

  // Back to the senders: the reply has the layout of the original send buffer.
  comm.alltoallv(ws.ep_recv.data(), scaled(recv_n, row_bytes), scaled(recv_off, row_bytes), ws.ep_send.data(),
                 scaled(send_n, row_bytes), scaled(send_off, row_bytes));
  std::fill(ws.acc.begin(), ws.acc.begin() + T * H, 0.f);
  for (int64_t i = 0; i < T * K; ++i) {  // (token, slot) order = ascending expert within each token
    const float wt = ws.topk_w[i];
    const float* src = ws.ep_send.data() + static_cast<int64_t>(ws.ep_pair_slot[i]) * H;
    float* dst = ws.acc.data() + (i / K) * H;
    for (int64_t d = 0; d < H; ++d) dst[d] += wt * src[d];
  }
  add_shared_experts(c, w, x, T, ws, out, pool);
}

}  // namespace fathom
