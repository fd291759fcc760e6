#include "proxy/strategy.h"

namespace fathom::proxy {

Expected<StrategyKind> parse_strategy(std::string_view name) {
  if (name == "random") return StrategyKind::kRandom;
  if (name == "min_expected_latency") return StrategyKind::kMinExpectedLatency;
  if (name == "min_observed_latency") return StrategyKind::kMinObservedLatency;
  if (name == "round_robin") return StrategyKind::kRoundRobin;
  if (name == "cache_aware") return StrategyKind::kCacheAware;
  return Status::error("--strategy: unknown strategy '" + std::string(name) +
                       "' (random | min_expected_latency | min_observed_latency | round_robin | cache_aware)");
}

std::string_view strategy_name(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::kRandom: return "random";
    case StrategyKind::kMinExpectedLatency: return "min_expected_latency";
    case StrategyKind::kMinObservedLatency: return "min_observed_latency";
    case StrategyKind::kRoundRobin: return "round_robin";
    case StrategyKind::kCacheAware: return "cache_aware";
  }
  return "unknown";
}

std::unique_ptr<Strategy> make_strategy(StrategyKind kind, uint64_t seed, const CacheAwareOptions& cache) {
  switch (kind) {
    case StrategyKind::kRandom: return make_random_strategy(seed);
    case StrategyKind::kMinExpectedLatency: return make_min_expected_latency_strategy(seed);
    case StrategyKind::kMinObservedLatency: return make_min_observed_latency_strategy();
    case StrategyKind::kRoundRobin: return make_round_robin_strategy();
    case StrategyKind::kCacheAware: return make_cache_aware_strategy(cache);
  }
  return make_round_robin_strategy();
}

std::vector<double> filled_speeds(const std::vector<Candidate>& candidates) {
  double sum = 0;
  int n = 0;
  for (const auto& c : candidates) {
    if (c.speed) {
      sum += *c.speed;
      ++n;
    }
  }
  double fill = n > 0 ? sum / n : 1.0;
  std::vector<double> out;
  out.reserve(candidates.size());
  for (const auto& c : candidates) out.push_back(c.speed ? *c.speed : fill);
  return out;
}

}  // namespace fathom::proxy
