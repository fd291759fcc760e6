// min_expected_latency (LMDeploy's default): visit the candidates in a uniformly shuffled order and keep the first
// with the strictly smallest unfinished / speed. With no speeds this is "least outstanding requests, ties broken
// uniformly at random"; with speeds a 2× faster node carries 2× the outstanding requests at equilibrium.
#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "proxy/strategy.h"

namespace fathom::proxy {
namespace {

class MinExpectedLatencyStrategy final : public Strategy {
 public:
  explicit MinExpectedLatencyStrategy(uint64_t seed) : rng_(seed) {}
  StrategyKind kind() const override { return StrategyKind::kMinExpectedLatency; }
  size_t pick(const std::vector<Candidate>& candidates, const RouteInput&) override {
    std::vector<double> speed = filled_speeds(candidates);
    std::vector<size_t> order(candidates.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    size_t best = order[0];
    double best_latency = std::numeric_limits<double>::infinity();
    for (size_t i : order) {
      double s = speed[i] > 0 ? speed[i] : 1e-9;
      double expected = static_cast<double>(candidates[i].unfinished) / s;
      if (expected < best_latency) {
        best_latency = expected;
        best = i;
      }
    }
    return best;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace

std::unique_ptr<Strategy> make_min_expected_latency_strategy(uint64_t seed) {
  return std::make_unique<MinExpectedLatencyStrategy>(seed);
}

}  // namespace fathom::proxy
