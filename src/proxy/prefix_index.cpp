#include "proxy/prefix_index.h"

#include <algorithm>
#include <functional>

namespace fathom::proxy {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

PrefixIndex::PrefixIndex(size_t block_chars, size_t max_entries)
    : block_chars_(std::max<size_t>(1, block_chars)), max_entries_(std::max<size_t>(1, max_entries)) {}

std::vector<uint64_t> PrefixIndex::block_hashes(std::string_view prompt) const {
  std::vector<uint64_t> out;
  out.reserve((prompt.size() + block_chars_ - 1) / block_chars_);
  uint64_t h = 0;
  for (size_t i = 0; i < prompt.size(); i += block_chars_) {
    std::string_view block = prompt.substr(i, block_chars_);
    h = mix(h ^ std::hash<std::string_view>{}(block) ^ (block.size() << 56));
    out.push_back(h);
  }
  return out;
}

std::vector<size_t> PrefixIndex::match(std::string_view prompt, const std::vector<uint32_t>& nodes) const {
  std::vector<size_t> matched(nodes.size(), 0);
  std::vector<bool> alive(nodes.size(), true);
  size_t n_alive = nodes.size();
  std::vector<uint64_t> hashes = block_hashes(prompt);
  for (size_t b = 0; b < hashes.size() && n_alive > 0; ++b) {
    auto it = by_hash_.find(hashes[b]);
    size_t covered = std::min(prompt.size(), (b + 1) * block_chars_);
    for (size_t k = 0; k < nodes.size(); ++k) {
      if (!alive[k]) continue;
      bool has = false;
      if (it != by_hash_.end()) {
        for (const auto& [node, pos] : it->second) {
          if (node == nodes[k]) {
            has = true;
            break;
          }
        }
      }
      if (has) {
        matched[k] = covered;
      } else {
        alive[k] = false;
        --n_alive;
      }
    }
  }
  return matched;
}

void PrefixIndex::insert(std::string_view prompt, uint32_t node) {
  for (uint64_t h : block_hashes(prompt)) {
    auto& slots = by_hash_[h];
    auto found = std::find_if(slots.begin(), slots.end(), [&](const auto& s) { return s.first == node; });
    if (found != slots.end()) {
      lru_.splice(lru_.begin(), lru_, found->second);
      continue;
    }
    lru_.emplace_front(h, node);
    slots.emplace_back(node, lru_.begin());
    ++per_node_[node];
  }
  while (lru_.size() > max_entries_) {
    auto [h, n] = lru_.back();
    auto it = by_hash_.find(h);
    if (it != by_hash_.end()) {
      std::erase_if(it->second, [&](const auto& s) { return s.first == n; });
      if (it->second.empty()) by_hash_.erase(it);
    }
    if (--per_node_[n] == 0) per_node_.erase(n);
    lru_.pop_back();
  }
}

void PrefixIndex::erase_node(uint32_t node) {
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->second != node) {
      ++it;
      continue;
    }
    auto slot = by_hash_.find(it->first);
    if (slot != by_hash_.end()) {
      std::erase_if(slot->second, [&](const auto& s) { return s.first == node; });
      if (slot->second.empty()) by_hash_.erase(slot);
    }
    it = lru_.erase(it);
  }
  per_node_.erase(node);
}

size_t PrefixIndex::n_entries_of(uint32_t node) const {
  auto it = per_node_.find(node);
  return it == per_node_.end() ? 0 : it->second;
}

}  // namespace fathom::proxy
