// The blocks of one decoder layer. x and out are [T, H] f32; T = batch.token_ids.size().
#pragma once
#include "core/thread_pool.h"
#include "model/config.h"
#include "model/forward_batch.h"
#include "model/latent_cache.h"
#include "model/weights.h"
#include "model/workspace.h"

namespace fathom {

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

// Router only: for each of T rows, K expert indices (ascending) and their weights. logits: [T, E] router logits.
void route_tokens(const ModelConfig& c, const float* bias, const float* logits, int64_t T, int32_t* idx, float* weights);

}  // namespace fathom
