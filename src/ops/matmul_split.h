// How matmul() divides one product across the thread pool: which dimension, and how many threads — a function of
// the shape and the thread count only. The ranges themselves are claimed at run time (ThreadPool::parallel_for_guided).
#pragma once
#include <cstdint>

namespace fathom {

struct MatmulSplit {
  int parts = 1;           // threads that share the product; 1: the calling thread alone
  bool over_rows = false;  // true: threads claim blocks of x rows (M); false: blocks of weight rows (N)
};

MatmulSplit matmul_split(int64_t M, int64_t N, int64_t K, int n_threads);

}  // namespace fathom
