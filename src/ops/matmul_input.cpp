#include "ops/matmul_input.h"

#include <cstdlib>
#include <memory>

#include "core/check.h"

namespace fathom {

namespace {

enum class Staging { AsIs, RoundF32, PackBf16 };

Staging staging_for(const WeightView& w, MatmulInput in) {
  if (in == MatmulInput::F32 || w.dtype == DType::F32) return Staging::AsIs;
  const bool bf16_kernel = (w.dtype == DType::BF16 || w.dtype == DType::F8_E4M3) && matmul_bf16_tile_kernel();
  return bf16_kernel ? Staging::PackBf16 : Staging::RoundF32;
}

int64_t round_up64(int64_t b) { return (b + 63) / 64 * 64; }

constexpr int64_t kParallelStageElems = 1 << 16;  // below this, staging on the calling thread is cheaper

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};

}  // namespace

void StagedInput::run(int64_t m0, int64_t M, const WeightView& w, int64_t n0, int64_t n1, float* y,
                      int64_t ldy) const {
  if (xb) return matmul_bf16_tile_kernel()(xb + m0 * ldxb, ldxb, M, w, n0, n1, y + m0 * ldy, ldy);
  FATHOM_CHECK(w.panel == 1);  // packed panels only where the bf16 kernel reads them (panels_supported)
  matmul_tile_kernel()(xf + m0 * ldxf, ldxf, M, w, n0, n1, y + m0 * ldy, ldy);
}

int64_t staging_bytes(int64_t M, const WeightView& w, MatmulInput in) {
  switch (staging_for(w, in)) {
    case Staging::AsIs: return 0;
    case Staging::RoundF32: return round_up64(M * w.cols * 4);
    case Staging::PackBf16: return round_up64(M * bf16_input_width(w.cols) * 2);
  }
  return 0;
}

StagedInput stage(const float* x, int64_t ldx, int64_t M, const WeightView& w, MatmulInput in, uint8_t* buf,
                  ThreadPool* pool) {
  StagedInput s;
  const int64_t K = w.cols;
  const Staging how = staging_for(w, in);
  if (how == Staging::AsIs) {
    s.xf = x;
    s.ldxf = ldx;
    return s;
  }
  // Rows [m0, m1) staged by one call; the pool splits by rows when the input is large.
  auto rows = [&](int64_t m0, int64_t m1) {
    if (how == Staging::RoundF32) {
      float* out = reinterpret_cast<float*>(buf);
      const RoundBf16Fn round = round_bf16_kernel();
      for (int64_t m = m0; m < m1; ++m) round(x + m * ldx, out + m * K, K);
    } else {
      const int64_t ld = bf16_input_width(K);
      pack_bf16_kernel()(x + m0 * ldx, ldx, m1 - m0, K, staged_in_fp8_order(w),
                         reinterpret_cast<uint16_t*>(buf) + m0 * ld, ld);
    }
  };
  if (pool && pool->n_threads() > 1 && M > 1 && M * K >= kParallelStageElems) pool->parallel_for(M, rows);
  else rows(0, M);
  if (how == Staging::RoundF32) {
    s.xf = reinterpret_cast<const float*>(buf);
    s.ldxf = K;
  } else {
    s.xb = reinterpret_cast<const uint16_t*>(buf);
    s.ldxb = bf16_input_width(K);
  }
  return s;
}

uint8_t* staging_buffer(int64_t bytes) {
  thread_local std::unique_ptr<uint8_t, AlignedFree> buf;
  thread_local int64_t cap = 0;
  if (bytes > cap) {
    cap = round_up64(bytes + bytes / 2);
    buf.reset(static_cast<uint8_t*>(std::aligned_alloc(64, static_cast<size_t>(cap))));
  }
  return buf.get();
}

}  // namespace fathom
