// The blocks of one decoder layer. x and out are [T, H] f32; T = batch.token_ids.size().
#pragma once
#include "core/thread_pool.h"
#include "dist/comm.h"
#include "model/config.h"
#include "model/forward_batch.h"
#include "model/latent_cache.h"
#include "model/weights.h"
#include "model/workspace.h"

namespace fathom {

// f(t) for t in [0, T): shared out over the pool only in shares of at least 32 tokens (prefill; a decode batch
// stays on the caller: a fork/join costs more than its work). For per-token work whose result does not depend on
// which thread runs it.
template <class F>
void for_each_token(int64_t T, ThreadPool* pool, const F& f) {
  constexpr int64_t kMinTokensPerThread = 32;
  auto run = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) f(t);
  };
  if (pool) pool->parallel_for(T, run, kMinTokensPerThread);
  else run(0, T);
}

// Multi-head latent attention (absorbed form) for layer `layer`: writes the batch's latents into the cache,
// attends each token over its sequence's positions 0..pos. rope_inv_freq: [d_r / 2].
void mla_forward(const ModelConfig& c, const LayerWeights& w, const float* rope_inv_freq, int64_t layer,
                 const ForwardBatch& batch, const float* x, LatentCache& cache, Workspace& ws, float* out,
                 ThreadPool* pool);

// SwiGLU MLP over T rows (gate/up/act buffers from the workspace).
void mlp_forward(const MlpWeights& w, const float* x, int64_t T, Workspace& ws, float* out, ThreadPool* pool);

// Router (top-k selection as the config says), routed experts summed in expert-index order, plus shared experts.
void moe_forward(const ModelConfig& c, const LayerWeights& w, const float* x, int64_t T, Workspace& ws, float* out,
                 ThreadPool* pool);

// The same under expert parallelism (collective: every rank calls it, T may be 0): each (token, expert) pair is
// sent to the expert's owner, computed there and sent back; a token's experts are then summed in expert-index
// order exactly as moe_forward does, so the result is bitwise the single-process one.
void moe_forward_ep(const ModelConfig& c, const LayerWeights& w, const float* x, int64_t T, Workspace& ws, float* out,
                    ThreadPool* pool, Comm& comm);

// out = shared experts(x) + ws.acc (the routed sum), or ws.acc alone without shared experts.
void add_shared_experts(const ModelConfig& c, const LayerWeights& w, const float* x, int64_t T, Workspace& ws,
                        float* out, ThreadPool* pool);

// Router only: for each of T rows, K expert indices (ascending) and their weights. logits: [T, E] router logits.
// scratch: the workspace's RouteScratch (sized for the config once), so routing allocates nothing per step.
void route_tokens(const ModelConfig& c, const float* bias, const float* logits, int64_t T, int32_t* idx, float* weights,
                  RouteScratch& scratch);

}  // namespace fathom
