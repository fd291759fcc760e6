// round_robin: candidates in turn. The turn advances per routed request over the candidates seen at that moment,
// so removing or skipping an unhealthy node does not stall the rotation.
#include "proxy/strategy.h"

namespace fathom::proxy {
namespace {

class RoundRobinStrategy final : public Strategy {
 public:
  StrategyKind kind() const override { return StrategyKind::kRoundRobin; }
  size_t pick(const std::vector<Candidate>& candidates, const RouteInput&) override {
    return static_cast<size_t>(next_++ % candidates.size());
  }

 private:
  uint64_t next_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_round_robin_strategy() { return std::make_unique<RoundRobinStrategy>(); }

}  // namespace fathom::proxy
