#include "model/quantize_fp8.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/numeric.h"

namespace fathom {

WeightView quantize_fp8(const WeightView& w, std::vector<uint8_t>& bytes, std::vector<float>& scales,
                        ThreadPool* pool) {
  FATHOM_CHECK(w.dtype != DType::F8_E4M3);
  const int64_t R = w.rows, C = w.cols, SR = (R + kFp8Block - 1) / kFp8Block, SC = (C + kFp8Block - 1) / kFp8Block;
  bytes.assign(static_cast<size_t>(R * C), 0);
  scales.assign(static_cast<size_t>(SR * SC), 1.0f);
  // One band of 128 rows at a time: decode it to f32, find each block's max, then quantize.
  auto bands = [&](int64_t b0, int64_t b1) {
    std::vector<float> rows(static_cast<size_t>(kFp8Block * C));
    for (int64_t sb = b0; sb < b1; ++sb) {
      const int64_t r0 = sb * kFp8Block, r1 = std::min(R, r0 + kFp8Block);
      decode_rows(w, r0, r1, rows.data());
      for (int64_t cb = 0; cb < SC; ++cb) {
        const int64_t c0 = cb * kFp8Block, c1 = std::min(C, c0 + kFp8Block);
        float amax = 0.f;
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(rows[(r - r0) * C + c]));
        const float s = amax > 0.f ? amax / 448.0f : 1.0f;
        scales[sb * SC + cb] = s;
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) bytes[r * C + c] = f32_to_e4m3(rows[(r - r0) * C + c] / s);
      }
    }
  };
  if (pool) pool->parallel_for(SR, bands);
  else bands(0, SR);
  WeightView q;
  q.dtype = DType::F8_E4M3;
  q.data = bytes.data();
  q.rows = R;
  q.cols = C;
  q.scale_inv = scales.data();
  return q;
}

}  // namespace fathom
