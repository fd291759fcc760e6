// The proxy's nodes (api_servers): LMDeploy's per-node status (role, models, unfinished, last 15 latencies, speed)
// plus what LMDeploy lacks: active health (probe results), a per-node circuit breaker fed by passive failures,
// and per-node counters for /metrics. Thread-safe; routing happens under its lock so that the strategy's choice is
// counted before the next request is routed.
#pragma once
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/strategy.h"

namespace fathom::proxy {

enum class NodeRole { kHybrid = 1, kPrefill = 2, kDecode = 3 };

struct HealthOptions {
  int unhealthy_after = 2;  // consecutive failed probes before a node stops receiving traffic
  int breaker_failures = 3;  // consecutive failed requests that open the breaker
  std::chrono::milliseconds breaker_cooldown{5'000};  // doubled on each re-open, up to breaker_max_cooldown
  std::chrono::milliseconds breaker_max_cooldown{60'000};
};

struct NodeInfo {
  std::string url;
  NodeRole role = NodeRole::kHybrid;
  std::vector<std::string> models;
  std::optional<double> speed;
  int64_t unfinished = 0;
  std::vector<double> latency;  // seconds, oldest first, at most kLatencyWindow
  bool healthy = true;
  bool breaker_open = false;
  uint64_t n_requests = 0;  // finished, any outcome
  uint64_t n_errors = 0;    // transport failures and 5xx
  double latency_sum = 0;   // seconds, over successful requests
  uint64_t n_latency = 0;
};

enum class RouteFailure { kUnknownModel, kNoHealthyNode };

class NodeRegistry {
 public:
  static constexpr size_t kLatencyWindow = 15;  // LMDeploy's LATENCY_DEQUE_LEN

  NodeRegistry(std::unique_ptr<Strategy> strategy, HealthOptions options);

  // Inserts or replaces (LMDeploy: an existing entry for the url is dropped first). New nodes start healthy.
  void add(const std::string& url, NodeRole role, std::vector<std::string> models, std::optional<double> speed);
  bool remove(const std::string& url);
  bool contains(const std::string& url) const;
  std::vector<NodeInfo> snapshot() const;
  std::vector<std::string> urls() const;
  StrategyKind strategy_kind() const;

  // A routable node (healthy, breaker not open, serving `model` — any node when model is empty, role Hybrid, not in
  // `exclude`); its unfinished count is raised. On failure `why` says whether the model is unknown or merely has
  // no healthy node right now.
  std::optional<std::string> route(std::string_view model, const std::vector<std::string>& exclude,
                                   const RouteInput& input, RouteFailure* why);
  // Exactly once per successful route(): unfinished -= 1, counters, latency window and breaker.
  // node_ok=false for transport failures and 5xx answers; cancelled=true when the client went away (not the
  // node's fault: no latency, no failure).
  void finish(const std::string& url, double seconds, bool node_ok, bool cancelled = false);
  // Active health result. A node that was unhealthy and answers again also has its breaker reset (a restarted
  // node comes back at once).
  void probe_result(const std::string& url, bool ok);

 private:
  struct Node {
    NodeInfo info;
    std::deque<double> latency;
    int probe_failures = 0;
    int consecutive_failures = 0;
    std::chrono::steady_clock::time_point open_until{};
    std::chrono::milliseconds cooldown{0};
  };
  bool routable(const Node& n, std::chrono::steady_clock::time_point now) const;

  mutable std::mutex mu_;
  std::unique_ptr<Strategy> strategy_;
  HealthOptions options_;
  std::map<std::string, Node> nodes_;  // ordered by url: stable candidate order for strategies and status
};

}  // namespace fathom::proxy
