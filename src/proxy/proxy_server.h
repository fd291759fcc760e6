// `fathom serve proxy`: an LMDeploy-compatible proxy in front of many api_servers. Node management
// (/nodes/add, /nodes/remove, /nodes/status), forwarding of the generation endpoints, /v1/models aggregated over
// nodes, /health and /metrics of its own, optional API keys.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "proxy/forwarder.h"
#include "proxy/node_registry.h"
#include "proxy/strategy.h"

namespace fathom::proxy {

struct ProxyOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8000;
  StrategyKind strategy = StrategyKind::kMinExpectedLatency;
  std::vector<std::string> api_keys;  // empty: no authentication
  int n_threads = 2;
  uint64_t seed = 0;  // for the random strategies; 0 → from the clock
  std::chrono::milliseconds health_interval{1'000};
  std::chrono::milliseconds health_timeout{1'000};
  size_t max_body_bytes = 64u << 20;
  HealthOptions health;
  ForwardOptions forward;
  CacheAwareOptions cache;
};

class ProxyServer {
 public:
  static Expected<std::unique_ptr<ProxyServer>> start(const ProxyOptions& options);
  ~ProxyServer();
  uint16_t port() const;
  NodeRegistry& registry();
  // Stops accepting, lets in-flight requests finish for up to `grace`, then stops health checks and the loop.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds{5'000});

  struct Impl;

 private:
  explicit ProxyServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fathom::proxy
