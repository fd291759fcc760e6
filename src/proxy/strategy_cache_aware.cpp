// cache_aware (SGLang-router style): while load is balanced, send a prompt to the node that has seen the longest
// prefix of it (the node's prefix cache likely still holds it) when that prefix covers more than cache_threshold of
// the prompt; otherwise, or when load is imbalanced (max-min > abs and max > rel*min over unfinished requests),
// send it to the least-loaded node (ties: the one with the smallest prefix store). Every routed prompt is recorded
// for its node in a bounded PrefixIndex.
#include <unordered_map>

#include "proxy/prefix_index.h"
#include "proxy/strategy.h"

namespace fathom::proxy {
namespace {

class CacheAwareStrategy final : public Strategy {
 public:
  explicit CacheAwareStrategy(const CacheAwareOptions& o) : o_(o), index_(o.block_chars, o.max_entries) {}
  StrategyKind kind() const override { return StrategyKind::kCacheAware; }

  size_t pick(const std::vector<Candidate>& candidates, const RouteInput& input) override {
    std::vector<uint32_t> ids;
    ids.reserve(candidates.size());
    int64_t max_load = candidates[0].unfinished, min_load = candidates[0].unfinished;
    for (const auto& c : candidates) {
      ids.push_back(id_of(c.url));
      max_load = std::max(max_load, c.unfinished);
      min_load = std::min(min_load, c.unfinished);
    }
    bool imbalanced = max_load - min_load > o_.balance_abs_threshold &&
                      static_cast<double>(max_load) > o_.balance_rel_threshold * static_cast<double>(min_load);
    size_t chosen = least_loaded(candidates, ids);
    if (!imbalanced && !input.prompt.empty()) {
      std::vector<size_t> matched = index_.match(input.prompt, ids);
      size_t best = 0;
      for (size_t i = 1; i < matched.size(); ++i) {
        if (matched[i] > matched[best] ||
            (matched[i] == matched[best] && candidates[i].unfinished < candidates[best].unfinished)) {
          best = i;
        }
      }
      double ratio = static_cast<double>(matched[best]) / static_cast<double>(input.prompt.size());
      if (ratio > o_.cache_threshold) chosen = best;
    }
    if (!input.prompt.empty()) index_.insert(input.prompt, ids[chosen]);
    return chosen;
  }

  void forget(const std::string& url) override {
    auto it = ids_.find(url);
    if (it == ids_.end()) return;
    index_.erase_node(it->second);
    ids_.erase(it);
  }

 private:
  uint32_t id_of(const std::string& url) {
    auto [it, inserted] = ids_.try_emplace(url, next_id_);
    if (inserted) ++next_id_;
    return it->second;
  }

  size_t least_loaded(const std::vector<Candidate>& candidates, const std::vector<uint32_t>& ids) const {
    size_t best = 0;
    for (size_t i = 1; i < candidates.size(); ++i) {
      if (candidates[i].unfinished < candidates[best].unfinished ||
          (candidates[i].unfinished == candidates[best].unfinished &&
           index_.n_entries_of(ids[i]) < index_.n_entries_of(ids[best]))) {
        best = i;
      }
    }
    return best;
  }

  CacheAwareOptions o_;
  PrefixIndex index_;
  std::unordered_map<std::string, uint32_t> ids_;
  uint32_t next_id_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_cache_aware_strategy(const CacheAwareOptions& options) {
  return std::make_unique<CacheAwareStrategy>(options);
}

}  // namespace fathom::proxy
