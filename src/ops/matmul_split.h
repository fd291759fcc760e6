// How matmul() divides one product across the thread pool: a function of the shape and the thread count only.
#pragma once
#include <cstdint>

namespace fathom {

struct MatmulSplit {
  int parts = 1;           // 1: run on the calling thread
  bool over_rows = false;  // true: parts take contiguous blocks of x rows (M); false: blocks of weight rows (N)
};

MatmulSplit matmul_split(int64_t M, int64_t N, int64_t K, int n_threads);

}  // namespace fathom
