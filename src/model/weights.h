// The model's tensors as views into the mapped checkpoint, checked against the config on load; then (by default)
// the ones the forward pass streams are copied into huge-page memory.
#pragma once
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/huge_buffer.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "ops/ops.h"

namespace fathom {

struct MlpWeights {       // SwiGLU: down(silu(gate x) * up x)
  WeightView gate, up;    // [I, H]
  WeightView down;        // [H, I]
};

// How this rank's weights are cut.
//  TENSOR (tp): rank `rank` of `size` holds heads [h0, h1), a 1/size slice of every dense/shared MLP's
//    intermediate width and routed experts [e0, e1); every rank runs the same tokens and the partial outputs are
//    summed across ranks.
//  EXPERT (dp attention + ep MoE): every rank holds the whole model except routed experts, of which it owns
//    [e0, e1); each rank runs its own tokens, and tokens travel to their experts' owners and back (alltoallv).
enum class ParallelMode { TENSOR, EXPERT };
struct ShardSpec {
  int rank = 0;
  int size = 1;
  ParallelMode mode = ParallelMode::TENSOR;
};

struct LayerWeights {
  int64_t h0 = 0, h1 = 0;                 // this rank's attention heads
  int64_t e0 = 0, e1 = 0;                 // this rank's routed experts (others are left unbound)
  WeightView input_norm, post_attn_norm;  // [H]
  // MLA
  WeightView q_proj;                      // [n_h * d_qk, H]           (no q_lora)
  WeightView q_a_proj;                    // [r_q, H]                  (q_lora)
  WeightView q_a_norm;                    // [r_q]
  WeightView q_b_proj;                    // [n_h * d_qk, r_q]   (rows of this rank's heads under TP)
  WeightView kv_a_proj;                   // [r_kv + d_r, H]
  WeightView kv_a_norm;                   // [r_kv]
  WeightView kv_b_proj;                   // [n_h * (d_n + d_v), r_kv]  head-major: K rows then V rows per head
  WeightView o_proj;                      // [H, n_h * d_v]     (columns of this rank's heads under TP: a copy)
  // FFN: dense or MoE
  bool is_moe = false;
  MlpWeights dense;                       // [I, H] ...
  WeightView router;                      // [E, H]
  WeightView router_bias;                 // [E] f32 (noaux_tc only)
  std::vector<MlpWeights> experts;        // E × ([I_m, H], [I_m, H], [H, I_m])
  MlpWeights shared;                      // [S * I_m, H] ... (S > 0)
};

struct ModelWeights {
  ModelConfig config;
  Checkpoint checkpoint;                  // owns the mapped files the views point into
  WeightView embed;                       // [V, H]
  WeightView final_norm;                  // [H]
  WeightView lm_head;                     // [V, H]
  std::vector<LayerWeights> layers;       // [L]
  int64_t n_weight_bytes = 0;             // bytes of the tensors the forward pass reads
  ShardSpec shard;
  std::deque<std::vector<uint8_t>> owned_bytes;  // column slices copied out of the mapping (TP only)
  std::deque<std::vector<float>> owned_scales;  // (and the scales of tensors quantized at load)
  // Unless --mmap-weights: every tensor the forward pass streams, copied out of the mapping (see place_weights.h).
  std::unique_ptr<HugeBuffer> in_memory;
  int64_t n_in_memory_bytes = 0;          // of n_weight_bytes, those copied there (already resident)
  int64_t n_buffer_bytes = 0;             // what in_memory holds them in (coded bf16 panels take ~3/4)
};

// Choices made at load time.
struct LoadOptions {
  bool lm_head_fp8 = false;  // --lm-head-dtype fp8: quantize a bf16/f16/f32 lm_head to e4m3 (128×128 block scales)
  bool mmap_weights = false;  // --mmap-weights: read weights from the file mapping (no copy, 4 KiB pages)
  bool plain_weights = false;  // --plain-weights: bf16 weights in plain pair panels, not coded (place_weights.h)
};

// Views every tensor the forward pass needs (MTP tensors are not loaded). Errors name the file and tensor.
Expected<std::unique_ptr<ModelWeights>> load_weights(const ModelConfig& config, Checkpoint checkpoint,
                                                     ShardSpec shard = {}, LoadOptions options = {});

}  // namespace fathom
