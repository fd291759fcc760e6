#include "model/latent_cache.h"

#include <sys/mman.h>

#include <new>
#include <utility>

namespace fathom {

LatentCache::LatentCache(int64_t n_layers, int64_t n_blocks, int64_t block_size, int64_t width)
    : n_layers_(n_layers), n_blocks_(n_blocks), block_size_(block_size), width_(width),
      bytes_(static_cast<size_t>(n_layers * n_blocks * block_size * width) * sizeof(uint16_t)) {
  if (bytes_ == 0) return;
  void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<uint16_t*>(p);
}

LatentCache::~LatentCache() {
  if (data_) munmap(data_, bytes_);
}

LatentCache::LatentCache(LatentCache&& o) noexcept
    : n_layers_(o.n_layers_), n_blocks_(o.n_blocks_), block_size_(o.block_size_), width_(o.width_),
      data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

LatentCache& LatentCache::operator=(LatentCache&& o) noexcept {
  if (this != &o) {
    if (data_) munmap(data_, bytes_);
    n_layers_ = o.n_layers_, n_blocks_ = o.n_blocks_, block_size_ = o.block_size_, width_ = o.width_;
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

}  // namespace fathom
