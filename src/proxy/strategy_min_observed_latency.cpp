// min_observed_latency (LMDeploy): the node with the smallest mean wall time over its last ≤15 finished requests;
// a node with no history scores +inf; the first index wins ties. (LMDeploy's quirk is kept on purpose: a new node
// is not chosen while another has history — the strategy measures, it does not explore.)
#include "proxy/strategy.h"

namespace fathom::proxy {
namespace {

class MinObservedLatencyStrategy final : public Strategy {
 public:
  StrategyKind kind() const override { return StrategyKind::kMinObservedLatency; }
  size_t pick(const std::vector<Candidate>& candidates, const RouteInput&) override {
    size_t best = 0;
    for (size_t i = 1; i < candidates.size(); ++i) {
      if (candidates[i].mean_latency < candidates[best].mean_latency) best = i;
    }
    return best;
  }
};

}  // namespace

std::unique_ptr<Strategy> make_min_observed_latency_strategy() {
  return std::make_unique<MinObservedLatencyStrategy>();
}

}  // namespace fathom::proxy
