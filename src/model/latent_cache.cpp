#include "model/latent_cache.h"

namespace fathom {

LatentCache::LatentCache(int64_t n_layers, int64_t n_blocks, int64_t block_size, int64_t width)
    : n_layers_(n_layers), n_blocks_(n_blocks), block_size_(block_size), width_(width),
      data_(static_cast<size_t>(n_layers * n_blocks * block_size * width), 0) {}

}  // namespace fathom
