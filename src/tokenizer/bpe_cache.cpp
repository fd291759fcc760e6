#include "tokenizer/bpe_cache.h"

#include <cstring>

namespace fathom {

uint64_t BpeCache::hash(std::string_view word) {
  // FNV-1a over 8-byte blocks, then a final mix; words are short, so this is cheap and spreads well.
  uint64_t h = 0xcbf29ce484222325ull ^ word.size();
  size_t i = 0;
  for (; i + 8 <= word.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, word.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, word.data() + i, word.size() - i);
  h = (h ^ tail) * 0x100000001b3ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

bool BpeCache::lookup(std::string_view word, uint64_t hash, std::vector<int32_t>& out) const {
  Shard& shard = shards_[hash % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.map.find(word);
  if (it == shard.map.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void BpeCache::insert(std::string_view word, uint64_t hash, const int32_t* ids, size_t n_ids) const {
  if (word.size() > kMaxWordBytes) return;
  Shard& shard = shards_[hash % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.map.size() >= kMaxPerShard) return;
  shard.map.try_emplace(std::string(word), ids, ids + n_ids);
}

}  // namespace fathom
