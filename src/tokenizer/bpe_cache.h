// A bounded, thread-safe memo of BPE results per pre-tokenized word (the `tokenizers` library keeps one too).
// Sharded by hash so that server threads encoding at the same time rarely meet on a lock; when a shard is full
// new words are simply not remembered, so memory stays bounded and results never change.
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fathom {

class BpeCache {
 public:
  static constexpr size_t kMaxWordBytes = 64;  // longer words are rare and are recomputed

  // Appends the cached ids of `word` to out and returns true, or returns false.
  bool lookup(std::string_view word, uint64_t hash, std::vector<int32_t>& out) const;
  void insert(std::string_view word, uint64_t hash, const int32_t* ids, size_t n_ids) const;

  static uint64_t hash(std::string_view word);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return static_cast<size_t>(BpeCache::hash(s)); }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, Hash, Eq> map;
  };
  static constexpr size_t kShards = 64;
  static constexpr size_t kMaxPerShard = 4096;
  // The memo is not part of the tokenizer's observable state: encode() stays logically const.
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace fathom
