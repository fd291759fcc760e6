// The pages of the paged latent cache, as the engine sees them: ids, reference counts, and (with prefix caching)
// chained hashes of full pages kept after release and evicted least-recently-used first.
//
//   page states:  FREE (ref 0, no hash) ──allocate──▶ IN USE (ref ≥ 1) ──release to 0──▶ FREE, or CACHED if hashed
//                 CACHED (ref 0, hashed, in LRU)  ──lookup hit──▶ IN USE;  ──evicted by allocate──▶ IN USE (new)
//
// Everything is sized at construction; no call allocates.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/prefix_index.h"

namespace fathom {

class BlockPool {
 public:
  BlockPool(int32_t n_blocks, int32_t block_size, bool enable_prefix_caching);

  int32_t n_blocks() const { return n_blocks_; }
  int32_t block_size() const { return block_size_; }
  bool prefix_caching() const { return prefix_caching_; }
  int32_t n_available() const { return n_free_ + n_cached_; }   // allocatable now (free + evictable)
  int32_t n_in_use() const { return n_blocks_ - n_available(); }  // referenced by some sequence
  int32_t n_cached() const { return n_cached_; }
  int32_t ref_count(int32_t block) const { return ref_[block]; }

  // A page with ref 1 (a free one, else the least recently used cached one, whose hash is dropped); -1 if none.
  int32_t allocate();
  // Drops one reference; at zero the page becomes CACHED (hashed) or FREE.
  void release(int32_t block);

  // The hash of a full page whose predecessor page has hash `parent` (0 for the first page). Never 0.
  static uint64_t chain_hash(uint64_t parent, std::span<const int32_t> tokens);
  // A cached or in-use page holding exactly `tokens` under `hash`, or -1. Does not take a reference.
  int32_t lookup(uint64_t hash, std::span<const int32_t> tokens) const;
  // Takes a reference on a page found by lookup (leaving the LRU if it was CACHED).
  void acquire(int32_t block);
  // Records that `block` (in use, now full) holds `tokens` under `hash`. Ignored when the hash is already known
  // (another page holds the same prefix) or prefix caching is off.
  void register_full(int32_t block, uint64_t hash, std::span<const int32_t> tokens);

 private:
  void lru_push_back(int32_t b);
  void lru_remove(int32_t b);

  const int32_t n_blocks_, block_size_;
  const bool prefix_caching_;
  std::vector<int32_t> ref_;           // [n_blocks]
  std::vector<uint64_t> hash_;         // [n_blocks] 0: not registered
  std::vector<int32_t> tokens_;        // [n_blocks, block_size] content of registered pages (collision check)
  std::vector<int32_t> free_;          // stack of FREE page ids, capacity n_blocks
  int32_t n_free_ = 0;
  std::vector<int32_t> lru_prev_, lru_next_;  // [n_blocks] intrusive list of CACHED pages, head = oldest
  int32_t lru_head_ = -1, lru_tail_ = -1;
  int32_t n_cached_ = 0;
  PrefixIndex index_;
};

}  // namespace fathom
