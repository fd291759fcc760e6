// Weights in memory instead of in the file mapping: every tensor the forward pass streams (each linear weight,
// norm and bias this rank reads) is copied into one HugeBuffer and its view pointed there, then the checkpoint's
// mapped pages are released. The embedding stays mapped: a step reads only its tokens' rows. fp8 scale tables
// stay where they are (small, read once per 128 × 128 block). Where the kernels read them (panels_supported), the
// weights only matmul() reads are stored in packed panels, so a kernel streaming four rows reads one stream; bf16
// ones, unless told otherwise, in coded pair panels (Bf16Codes in ops.h: lossless, 12 bits a value, the same
// products bit for bit), so that a step streams about 3/4 of their bytes.
#pragma once
#include "core/status.h"
#include "core/thread_pool.h"
#include "model/weights.h"

namespace fathom {

// available_bytes: memory free for the copy (MemAvailable; < 0: unknown). The copy is refused when it would take
// more than 90% of it — the weights then stay mapped (they are still correct, only slower to stream), rather than
// the load pushing the machine into the OOM killer. On any failure the views are left as they were and the
// error says why.
// code_bf16: bf16 panels coded (the default; --plain-weights keeps them plain).
Status place_weights_in_memory(ModelWeights& w, ThreadPool* pool, int64_t available_bytes, bool code_bf16 = true);

}  // namespace fathom
