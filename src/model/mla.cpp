// Multi-head latent attention in the absorbed form (MODEL_SPEC §3.7), over the paged latent cache.
#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "core/numeric.h"
#include "model/layers.h"

namespace fathom {

void mla_forward(const ModelConfig& c, const LayerWeights& w, const float* rope_inv_freq, int64_t layer,
                 const ForwardBatch& batch, const float* x, LatentCache& cache, Workspace& ws, float* out,
                 ThreadPool* pool) {
  const int64_t T = static_cast<int64_t>(batch.token_ids.size());
  const int64_t H = c.hidden_size, nh = w.h1 - w.h0;  // this rank's heads (all of them without TP)
  const int64_t dn = c.qk_nope_head_dim, dr = c.qk_rope_head_dim, dv = c.v_head_dim, dqk = c.qk_head_dim();
  const int64_t rkv = c.kv_lora_rank, width = c.latent_dim();  // cache row: [c_KV (rkv) | k_rope (dr)]
  const float amp = static_cast<float>(c.rope_amplitude());
  const float eps = static_cast<float>(c.rms_norm_eps);

  // Queries: q [T, n_h * d_qk], head-major, each head [nope (d_n) | rope (d_r)].
  // The two products of x (q_a or q, and kv_a) go as one batch: one fork/join, x staged once.
  float* q = ws.q.data();
  float* kv = ws.kv.data();  // [T, r_kv + d_r] = [c_raw | k_rope_raw]
  const int64_t rq = c.has_q_lora() ? c.q_lora_rank : 0;
  const MatmulJob from_x[2] = {
      c.has_q_lora() ? MatmulJob{x, H, T, w.q_a_proj, ws.q_a.data(), rq} : MatmulJob{x, H, T, w.q_proj, q, nh * dqk},
      MatmulJob{x, H, T, w.kv_a_proj, kv, width}};
  matmul_batch(from_x, 2, pool);
  if (c.has_q_lora()) {
    for_each_token(T, pool, [&](int64_t t) {
      rmsnorm(ws.q_a.data() + t * rq, w.q_a_norm, eps, ws.q_a.data() + t * rq, rq);
    });
    matmul(ws.q_a.data(), rq, T, w.q_b_proj, q, nh * dqk, pool);  // [T, n_h * d_qk]
  }

  // Keys: normalise c, rotate k_rope, store both in the cache.
  uint16_t* cache_l = cache.layer(layer);
  const int64_t bs = cache.block_size();
  for_each_token(T, pool, [&](int64_t t) {  // tokens write distinct cache rows
    float* row = kv + t * width;
    const int64_t pos = batch.positions[t];
    rmsnorm(row, w.kv_a_norm, eps, row, rkv);
    rope_interleaved(row + rkv, static_cast<int>(dr / 2), pos, rope_inv_freq, amp);
    FATHOM_CHECK(pos / bs < batch.max_blocks_per_seq);
    const int32_t block = batch.block_tables[batch.seq_of_token[t] * batch.max_blocks_per_seq + pos / bs];
    FATHOM_CHECK(block >= 0 && block < cache.n_blocks());
    uint16_t* dst = cache_l + (static_cast<int64_t>(block) * bs + pos % bs) * width;
    for (int64_t i = 0; i < width; ++i) dst[i] = f32_to_bf16(row[i]);
  });

  // Absorbed queries q_abs[t, h] = [W_UK[h]ᵀ q_nope (r_kv) | rope(q_rope) (d_r)]. W_UK[h] is rows
  // [h (d_n + d_v), h (d_n + d_v) + d_n) of kv_b_proj viewed as [K = d_n, N = r_kv]; matmul_kn sums over d in
  // increasing order for every token, whatever the batch.
  // Heads are shared out over the pool, each product on one thread (a head's product is small in decode: one
  // fork/join for all of them instead of one per head); the bits do not depend on the thread. The split is fixed
  // (parallel_for), so the thread that absorbs head h also up-projects it below: right after W_UK[h] it reads
  // W_UV[h], the next 16 KB of kv_b_proj, so the whole share of kv_b_proj is one forward stream and W_UV[h] is in
  // cache when the up-projection comes (matmul_bench BM_MlaHeadsCold, a layer's 16 heads on one thread: 52–53 →
  // 48.5–49 µs).
  float* q_abs = ws.q_abs.data();
  auto for_heads = [&](auto&& f) {
    if (pool) pool->parallel_for(nh, [&](int64_t h0, int64_t h1) { for (int64_t h = h0; h < h1; ++h) f(h); });
    else for (int64_t h = 0; h < nh; ++h) f(h);
  };
  auto w_uv_of = [&](int64_t h) { return w.kv_b_proj.slice_rows(h * (dn + dv) + dn, (h + 1) * (dn + dv)); };
  for_heads([&](int64_t h) {
    const WeightView w_uk = w.kv_b_proj.slice_rows(h * (dn + dv), h * (dn + dv) + dn);
    matmul_kn(q + h * dqk, nh * dqk, T, w_uk, q_abs + h * width, nh * width, nullptr);
    touch_weights(w_uv_of(h));
  });
  for_each_token(T, pool, [&](int64_t t) {
    for (int64_t h = 0; h < nh; ++h) {
      float* qr = q_abs + (t * nh + h) * width + rkv;
      std::memcpy(qr, q + t * nh * dqk + h * dqk + dn, dr * sizeof(float));
      rope_interleaved(qr, static_cast<int>(dr / 2), batch.positions[t], rope_inv_freq, amp);
    }
  });
  const int64_t scratch_stride = static_cast<int64_t>(ws.part_scratch.size()) / ws.n_parts;

  // Attention over the cache: lat[t, h] = Σ_j softmax_j(scale · q_abs·k_j) c_KV_j. The units of work are (token,
  // group of kMlaHeadGroup heads), which share every key they read; a head's bits do not depend on its group. A
  // context longer than L = mla_chunk_keys keys is split at fixed positions (split-K): chunk c holds keys
  // [c L, (c + 1) L), and the chunks merge in order (mla_attention_merge), so a row's bits depend only on its
  // position. With few units (decode) every chunk is a work item of its own, so both cores share one long context;
  // otherwise a unit runs its chunks in turn. Either way the same chunks meet the same merge.
  const float scale = static_cast<float>(c.softmax_scale());
  float* lat = ws.lat.data();
  const int64_t n_groups = (nh + kMlaHeadGroup - 1) / kMlaHeadGroup, n_units = T * n_groups;
  const int64_t L = mla_chunk_keys(static_cast<int>(bs));
  const int64_t slot_floats = kMlaHeadGroup * rkv;  // one chunk's output
  struct Unit {
    int64_t t, h, g, n_ctx, n_chunks;
  };
  auto unit_at = [&](int64_t u) {
    // Tokens in the order 0, T-1, 1, T-2, ...: in a causal prefill later tokens attend to more keys, so each
    // range of units the threads claim mixes long contexts with short ones.
    const int64_t k = u / n_groups, t = (k % 2 == 0) ? k / 2 : T - 1 - k / 2;
    const int64_t h = (u % n_groups) * kMlaHeadGroup, n_ctx = batch.positions[t] + 1;
    const int64_t n_chunks = (n_ctx + L - 1) / L;
    FATHOM_CHECK(n_chunks <= ws.max_chunks);
    return Unit{t, h, std::min<int64_t>(kMlaHeadGroup, nh - h), n_ctx, n_chunks};
  };
  // Chunk ch of unit x (the whole context when it has one chunk, straight into lat), outputs at slot.
  auto attend = [&](const Unit& x, int64_t ch, int part, float* slot, float* slot_lse) {
    float* scores = ws.part_scratch.data() + part * scratch_stride;
    FATHOM_CHECK(x.g * std::min(x.n_ctx, L) <= scratch_stride);
    const int32_t* blocks = batch.block_tables.data() + batch.seq_of_token[x.t] * batch.max_blocks_per_seq;
    const float* qx = q_abs + (x.t * nh + x.h) * width;
    const int gi = static_cast<int>(x.g), ri = static_cast<int>(rkv), di = static_cast<int>(dr);
    const int bi = static_cast<int>(bs);
    if (x.n_chunks == 1)
      mla_attention(qx, gi, ri, di, cache_l, blocks, bi, x.n_ctx, scale, lat + (x.t * nh + x.h) * rkv, scores);
    else
      mla_attention_chunk(qx, gi, ri, di, cache_l, blocks, bi, x.n_ctx, ch, scale, slot, scores, slot_lse);
  };
  auto merge = [&](const Unit& x, const float* slots, const float* slots_lse) {
    mla_attention_merge(slots, slots_lse, x.n_chunks, static_cast<int>(x.g), static_cast<int>(rkv),
                        lat + (x.t * nh + x.h) * rkv);
  };
  bool split = false;
  for (int64_t t = 0; t < T && !split; ++t) split = batch.positions[t] + 1 > L;
  if (pool && split && n_units < 2 * ws.n_parts) {
    std::vector<int64_t>& first = ws.attn_first;  // unit u's chunks are items [first[u], first[u + 1])
    first[0] = 0;
    for (int64_t u = 0; u < n_units; ++u) first[u + 1] = first[u] + unit_at(u).n_chunks;
    pool->parallel_for_parts(first[n_units], [&](int64_t i0, int64_t i1, int part) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t u = std::upper_bound(first.begin(), first.begin() + n_units + 1, i) - first.begin() - 1;
        const Unit x = unit_at(u);
        const int64_t ch = i - first[u];
        attend(x, ch, part, ws.attn_parts.data() + first[u] * slot_floats + ch * x.g * rkv,
               ws.attn_lse.data() + first[u] * kMlaHeadGroup + ch * x.g);
      }
    });
    for (int64_t u = 0; u < n_units; ++u) {
      const Unit x = unit_at(u);
      if (x.n_chunks > 1)
        merge(x, ws.attn_parts.data() + first[u] * slot_floats, ws.attn_lse.data() + first[u] * kMlaHeadGroup);
    }
  } else {
    auto run = [&](int64_t u0, int64_t u1, int part) {
      float* slots = split ? ws.attn_parts.data() + part * ws.max_chunks * slot_floats : nullptr;
      float* slots_lse = split ? ws.attn_lse.data() + part * ws.max_chunks * kMlaHeadGroup : nullptr;
      for (int64_t u = u0; u < u1; ++u) {
        const Unit x = unit_at(u);
        for (int64_t ch = 0; ch < x.n_chunks; ++ch)
          attend(x, ch, part, x.n_chunks > 1 ? slots + ch * x.g * rkv : nullptr,
                 x.n_chunks > 1 ? slots_lse + ch * x.g : nullptr);
        if (x.n_chunks > 1) merge(x, slots, slots_lse);
      }
    };
    if (pool) pool->parallel_for_parts(n_units, run);
    else run(0, n_units, 0);
  }

  // Per head, up-project the latent output with W_UV[h] ([d_v, r_kv]): attn[t, h*d_v + d].
  float* attn = ws.attn.data();
  for_heads([&](int64_t h) {
    matmul(lat + h * rkv, nh * rkv, T, w_uv_of(h), attn + h * dv, nh * dv, nullptr, MatmulInput::F32);  // V = W_UV c
  });
  matmul(attn, nh * dv, T, w.o_proj, out, H, pool);  // [T, H]
}

}  // namespace fathom
