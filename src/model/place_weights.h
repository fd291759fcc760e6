// Weights in memory instead of in the file mapping: every tensor the forward pass streams (each linear weight,
// norm and bias this rank reads) is copied into one HugeBuffer and its view pointed there, then the checkpoint's
// mapped pages are released. The embedding stays mapped: a step reads only its tokens' rows. fp8 scale tables
// stay where they are (small, read once per 128 × 128 block).
#pragma once
#include "core/status.h"
#include "core/thread_pool.h"
#include "model/weights.h"

namespace fathom {

// On failure (no memory for the copy) the views are left as they were and the error says why.
Status place_weights_in_memory(ModelWeights& w, ThreadPool* pool);

}  // namespace fathom
