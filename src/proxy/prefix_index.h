// Bounded approximate prefix store for cache-aware routing: which node was last sent which prompt prefixes.
// A prompt is cut into fixed-size character blocks with chained hashes (block i's hash covers blocks 0..i), so
// "node n has prefix of k blocks" is one lookup per block. Entries (block hash, node) are kept in LRU order and the
// oldest are evicted past max_entries, so memory stays bounded however many prompts pass through.
#pragma once
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fathom::proxy {

class PrefixIndex {
 public:
  PrefixIndex(size_t block_chars, size_t max_entries);

  // For each node id in `nodes`: how many leading characters of `prompt` it has seen (block granularity; the last
  // block may be partial).
  std::vector<size_t> match(std::string_view prompt, const std::vector<uint32_t>& nodes) const;
  void insert(std::string_view prompt, uint32_t node);
  void erase_node(uint32_t node);

  size_t n_entries() const { return lru_.size(); }
  size_t n_entries_of(uint32_t node) const;

 private:
  using Entry = std::pair<uint64_t, uint32_t>;  // (chained block hash, node)
  std::vector<uint64_t> block_hashes(std::string_view prompt) const;

  size_t block_chars_;
  size_t max_entries_;
  std::list<Entry> lru_;  // front = most recent
  std::unordered_map<uint64_t, std::vector<std::pair<uint32_t, std::list<Entry>::iterator>>> by_hash_;
  std::unordered_map<uint32_t, size_t> per_node_;
};

}  // namespace fathom::proxy
