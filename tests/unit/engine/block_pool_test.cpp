#include "engine/block_pool.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

#include "engine/prefix_index.h"

namespace fathom {

TEST(BlockPool, AllocatesEveryPageOnceThenRunsDry) {
  BlockPool pool(8, 4, false);
  std::vector<int32_t> got;
  for (int i = 0; i < 8; ++i) got.push_back(pool.allocate());
  EXPECT_EQ(pool.allocate(), -1);
  std::sort(got.begin(), got.end());
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], i);
  EXPECT_EQ(pool.n_in_use(), 8);
  for (int32_t b : got) pool.release(b);
  EXPECT_EQ(pool.n_in_use(), 0);
  EXPECT_EQ(pool.n_available(), 8);
}

TEST(BlockPool, SharedPageStaysInUseUntilLastRelease) {
  BlockPool pool(4, 2, true);
  const std::vector<int32_t> toks = {5, 6};
  const int32_t b = pool.allocate();
  const uint64_t h = BlockPool::chain_hash(0, toks);
  pool.register_full(b, h, toks);
  EXPECT_EQ(pool.lookup(h, toks), b);
  pool.acquire(b);
  EXPECT_EQ(pool.ref_count(b), 2);
  pool.release(b);
  EXPECT_EQ(pool.n_in_use(), 1);
  pool.release(b);
  EXPECT_EQ(pool.n_in_use(), 0);
  EXPECT_EQ(pool.n_cached(), 1);
  EXPECT_EQ(pool.lookup(h, toks), b);  // still cached after release
  pool.acquire(b);                    // a hit takes it out of the LRU
  EXPECT_EQ(pool.n_cached(), 0);
  EXPECT_EQ(pool.n_in_use(), 1);
}

TEST(BlockPool, LookupChecksContentNotJustHash) {
  BlockPool pool(4, 2, true);
  const std::vector<int32_t> a = {1, 2}, other = {1, 3};
  const int32_t b = pool.allocate();
  const uint64_t h = BlockPool::chain_hash(0, a);
  pool.register_full(b, h, a);
  EXPECT_EQ(pool.lookup(h, other), -1);
  EXPECT_NE(BlockPool::chain_hash(0, a), BlockPool::chain_hash(h, a));  // chained: position matters
}

TEST(BlockPool, EvictsLeastRecentlyReleasedCachedPageFirst) {
  BlockPool pool(3, 1, true);
  std::vector<uint64_t> hashes;
  std::vector<int32_t> blocks;
  for (int32_t i = 0; i < 3; ++i) {
    const std::vector<int32_t> t = {i};
    blocks.push_back(pool.allocate());
    hashes.push_back(BlockPool::chain_hash(0, t));
    pool.register_full(blocks[i], hashes[i], t);
  }
  pool.release(blocks[1]);
  pool.release(blocks[0]);
  pool.release(blocks[2]);  // LRU order: 1, 0, 2
  EXPECT_EQ(pool.n_cached(), 3);
  EXPECT_EQ(pool.allocate(), blocks[1]);
  EXPECT_EQ(pool.lookup(hashes[1], std::vector<int32_t>{1}), -1);  // its hash is gone
  EXPECT_EQ(pool.lookup(hashes[0], std::vector<int32_t>{0}), blocks[0]);
  EXPECT_EQ(pool.allocate(), blocks[0]);
  EXPECT_EQ(pool.allocate(), blocks[2]);
  EXPECT_EQ(pool.allocate(), -1);
}

TEST(BlockPool, DuplicatePrefixKeepsFirstRegistration) {
  BlockPool pool(4, 2, true);
  const std::vector<int32_t> t = {3, 4};
  const uint64_t h = BlockPool::chain_hash(0, t);
  const int32_t a = pool.allocate(), b = pool.allocate();
  pool.register_full(a, h, t);
  pool.register_full(b, h, t);
  pool.release(b);
  EXPECT_EQ(pool.n_cached(), 0);  // b went back to the free list
  EXPECT_EQ(pool.lookup(h, t), a);
}

TEST(BlockPool, WithoutPrefixCachingNothingIsKept) {
  BlockPool pool(2, 2, false);
  const std::vector<int32_t> t = {3, 4};
  const int32_t a = pool.allocate();
  pool.register_full(a, BlockPool::chain_hash(0, t), t);
  pool.release(a);
  EXPECT_EQ(pool.n_cached(), 0);
  EXPECT_EQ(pool.lookup(BlockPool::chain_hash(0, t), t), -1);
}

TEST(PrefixIndex, MatchesStdMapUnderRandomInsertErase) {
  PrefixIndex index(64);
  std::unordered_map<uint64_t, int32_t> ref;
  std::mt19937_64 rng(1);
  for (int step = 0; step < 20000; ++step) {
    // Small key space with colliding home slots, so probe runs and backward shifts are exercised.
    const uint64_t key = 1 + (rng() % 200) * 128;
    if (rng() % 2 == 0 && ref.size() < 64) {
      const bool fresh = !ref.count(key);
      EXPECT_EQ(index.insert(key, step), fresh);
      if (fresh) ref[key] = step;
    } else {
      index.erase(key);
      ref.erase(key);
    }
    ASSERT_EQ(index.size(), static_cast<int64_t>(ref.size()));
    if (step % 97 == 0)
      for (uint64_t k = 1; k < 200 * 128; k += 128) ASSERT_EQ(index.find(k), ref.count(k) ? ref[k] : -1);
  }
}

}  // namespace fathom
