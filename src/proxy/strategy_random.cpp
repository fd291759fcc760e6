// random: P(node) = speed / Σ speed, uniform when no node has a speed (LMDeploy).
#include <random>

#include "proxy/strategy.h"

namespace fathom::proxy {
namespace {

class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(uint64_t seed) : rng_(seed) {}
  StrategyKind kind() const override { return StrategyKind::kRandom; }
  size_t pick(const std::vector<Candidate>& candidates, const RouteInput&) override {
    std::vector<double> w = filled_speeds(candidates);
    double total = 0;
    for (double x : w) total += x > 0 ? x : 0;
    if (total <= 0) return std::uniform_int_distribution<size_t>(0, candidates.size() - 1)(rng_);
    double r = std::uniform_real_distribution<double>(0, total)(rng_);
    for (size_t i = 0; i < w.size(); ++i) {
      double x = w[i] > 0 ? w[i] : 0;
      if (r < x) return i;
      r -= x;
    }
    return w.size() - 1;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace

std::unique_ptr<Strategy> make_random_strategy(uint64_t seed) { return std::make_unique<RandomStrategy>(seed); }

}  // namespace fathom::proxy
