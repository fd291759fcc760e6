#include "engine/block_pool.h"

#include <algorithm>

#include "core/check.h"

namespace fathom {

BlockPool::BlockPool(int32_t n_blocks, int32_t block_size, bool enable_prefix_caching)
    : n_blocks_(n_blocks),
      block_size_(block_size),
      prefix_caching_(enable_prefix_caching),
      ref_(n_blocks, 0),
      hash_(n_blocks, 0),
      tokens_(enable_prefix_caching ? static_cast<size_t>(n_blocks) * block_size : 0),
      free_(n_blocks),
      lru_prev_(n_blocks, -1),
      lru_next_(n_blocks, -1),
      index_(enable_prefix_caching ? n_blocks : 1) {
  FATHOM_CHECK(n_blocks > 0 && block_size > 0);
  // Low ids are handed out first (pop from the back).
  for (int32_t i = 0; i < n_blocks; ++i) free_[i] = n_blocks - 1 - i;
  n_free_ = n_blocks;
}

int32_t BlockPool::allocate() {
  int32_t b;
  if (n_free_ > 0) {
    b = free_[--n_free_];
  } else if (lru_head_ >= 0) {
    b = lru_head_;
    lru_remove(b);
    index_.erase(hash_[b]);
    hash_[b] = 0;
  } else {
    return -1;
  }
  FATHOM_CHECK(ref_[b] == 0);
  ref_[b] = 1;
  return b;
}

void BlockPool::release(int32_t block) {
  FATHOM_CHECK(block >= 0 && block < n_blocks_ && ref_[block] > 0);
  if (--ref_[block] > 0) return;
  if (hash_[block] != 0) {
    lru_push_back(block);
  } else {
    free_[n_free_++] = block;
  }
}

uint64_t BlockPool::chain_hash(uint64_t parent, std::span<const int32_t> tokens) {
  // FNV-1a over the parent hash and the token ids, then a 64-bit finaliser (splitmix64).
  uint64_t h = 1469598103934665603ull ^ parent;
  h *= 1099511628211ull;
  for (int32_t t : tokens) {
    h ^= static_cast<uint32_t>(t);
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h == 0 ? 1 : h;
}

int32_t BlockPool::lookup(uint64_t hash, std::span<const int32_t> tokens) const {
  if (!prefix_caching_) return -1;
  FATHOM_CHECK(static_cast<int32_t>(tokens.size()) == block_size_);
  const int32_t b = index_.find(hash);
  if (b < 0) return -1;
  const int32_t* stored = tokens_.data() + static_cast<size_t>(b) * block_size_;
  return std::equal(tokens.begin(), tokens.end(), stored) ? b : -1;
}

void BlockPool::acquire(int32_t block) {
  FATHOM_CHECK(block >= 0 && block < n_blocks_);
  if (ref_[block] == 0) {
    FATHOM_CHECK(hash_[block] != 0);
    lru_remove(block);
  }
  ++ref_[block];
}

void BlockPool::register_full(int32_t block, uint64_t hash, std::span<const int32_t> tokens) {
  if (!prefix_caching_) return;
  FATHOM_CHECK(ref_[block] > 0 && static_cast<int32_t>(tokens.size()) == block_size_);
  if (hash_[block] != 0) return;  // already registered (a page reached through a prefix hit)
  if (!index_.insert(hash, block)) return;
  hash_[block] = hash;
  std::copy(tokens.begin(), tokens.end(), tokens_.begin() + static_cast<size_t>(block) * block_size_);
}

void BlockPool::lru_push_back(int32_t b) {
  lru_prev_[b] = lru_tail_;
  lru_next_[b] = -1;
  if (lru_tail_ >= 0) lru_next_[lru_tail_] = b; else lru_head_ = b;
  lru_tail_ = b;
  ++n_cached_;
}

void BlockPool::lru_remove(int32_t b) {
  const int32_t p = lru_prev_[b], n = lru_next_[b];
  if (p >= 0) lru_next_[p] = n; else lru_head_ = n;
  if (n >= 0) lru_prev_[n] = p; else lru_tail_ = p;
  lru_prev_[b] = lru_next_[b] = -1;
  --n_cached_;
}

}  // namespace fathom
