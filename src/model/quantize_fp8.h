// Load-time quantization of a 16- or 32-bit weight to float8 e4m3 with one f32 scale per 128×128 block — the
// layout of DeepSeek's fp8 checkpoints, so the fp8 kernels read it as they read a checkpoint tensor. Used for
// `--lm-head-dtype fp8`: the official fp8 checkpoint keeps lm_head in bf16, which on small models is most of
// the bytes a decoded token reads.
#pragma once
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "ops/ops.h"

namespace fathom {

// Per block: scale = max|w| / 448 (1 for an all-zero block), q = e4m3(w / scale) rounded to nearest even, so
// q · scale is within half an e4m3 step of w. bytes: [rows, cols], scales: [ceil(rows/128), ceil(cols/128)]
// (both resized here); the returned view points into them.
WeightView quantize_fp8(const WeightView& w, std::vector<uint8_t>& bytes, std::vector<float>& scales,
                        ThreadPool* pool);

}  // namespace fathom
