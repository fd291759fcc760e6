// The paged MLA latent cache: per layer, pages of block_size tokens, each token kv_lora_rank + qk_rope_head_dim
// bf16 values ([c_KV after kv_a_layernorm | k_rope after RoPE]). Allocated once; page ids come from the engine.
// The storage is an anonymous mapping: reserved at start-up, zero pages materialise as they are first written,
// so a large pool does not make start-up touch every byte.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fathom {

class LatentCache {
 public:
  LatentCache(int64_t n_layers, int64_t n_blocks, int64_t block_size, int64_t width);
  ~LatentCache();
  LatentCache(LatentCache&& o) noexcept;
  LatentCache& operator=(LatentCache&& o) noexcept;
  LatentCache(const LatentCache&) = delete;
  LatentCache& operator=(const LatentCache&) = delete;

  int64_t n_layers() const { return n_layers_; }
  int64_t n_blocks() const { return n_blocks_; }
  int64_t block_size() const { return block_size_; }
  int64_t width() const { return width_; }
  size_t bytes() const { return bytes_; }
  static int64_t bytes_per_token(int64_t n_layers, int64_t width) { return n_layers * width * 2; }

  // [n_blocks, block_size, width] for one layer.
  uint16_t* layer(int64_t l) { return data_ + l * n_blocks_ * block_size_ * width_; }
  const uint16_t* layer(int64_t l) const { return data_ + l * n_blocks_ * block_size_ * width_; }

 private:
  int64_t n_layers_, n_blocks_, block_size_, width_;
  uint16_t* data_ = nullptr;  // [n_layers, n_blocks, block_size, width] bf16
  size_t bytes_ = 0;
};

}  // namespace fathom
