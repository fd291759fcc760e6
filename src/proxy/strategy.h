// Routing strategies: one interface, one file each, chosen by a closed enum (never by comparing name strings at
// routing time). The registry calls pick() under its lock with the routable candidates, so a strategy sees a
// consistent view and its choice is counted (unfinished += 1) before the next request is routed.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fathom::proxy {

enum class StrategyKind { kRandom, kMinExpectedLatency, kMinObservedLatency, kRoundRobin, kCacheAware };

// The CLI names (LMDeploy's, plus round_robin and cache_aware).
Expected<StrategyKind> parse_strategy(std::string_view name);
std::string_view strategy_name(StrategyKind kind);

struct Candidate {
  std::string url;
  std::optional<double> speed;  // as registered (LMDeploy: requests/min or any common unit); none if unknown
  int64_t unfinished = 0;       // requests this proxy has in flight on the node
  double mean_latency = std::numeric_limits<double>::infinity();  // over the last ≤15 finished; inf when none
};

struct RouteInput {
  std::string_view prompt;  // request text used for prefix affinity (cache_aware); may be empty
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual StrategyKind kind() const = 0;
  // Index into `candidates` (never empty). Called under the registry lock: no I/O, no blocking.
  virtual size_t pick(const std::vector<Candidate>& candidates, const RouteInput& input) = 0;
  // A node left the registry: drop any state about it.
  virtual void forget(const std::string& url) {}
};

struct CacheAwareOptions {
  double cache_threshold = 0.5;     // route by prefix when the best match covers more than this share of the prompt
  int64_t balance_abs_threshold = 32;  // imbalanced iff max-min > abs and max > rel*min (SGLang router defaults)
  double balance_rel_threshold = 1.5;
  size_t block_chars = 16;          // prefix granularity
  size_t max_entries = 1u << 18;    // bounded memory: (block hash, node) entries kept, least recently used evicted
};

std::unique_ptr<Strategy> make_strategy(StrategyKind kind, uint64_t seed, const CacheAwareOptions& cache = {});

// Individual constructors (one file each).
std::unique_ptr<Strategy> make_random_strategy(uint64_t seed);
std::unique_ptr<Strategy> make_min_expected_latency_strategy(uint64_t seed);
std::unique_ptr<Strategy> make_min_observed_latency_strategy();
std::unique_ptr<Strategy> make_round_robin_strategy();
std::unique_ptr<Strategy> make_cache_aware_strategy(const CacheAwareOptions& options);

// LMDeploy's speed fill-in: nodes without a speed get the mean of those that have one, or 1 when none has.
std::vector<double> filled_speeds(const std::vector<Candidate>& candidates);

}  // namespace fathom::proxy
