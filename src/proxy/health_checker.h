// Active health: every interval, GET {node}/health on every node, asynchronously and with a timeout, so a hung
// node (one that accepts connections and never answers) costs one timer and never blocks the loop or the other
// probes. 200 with a status other than "sleeping" is healthy; anything else, or no answer in time, is a failure.
#pragma once
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "http/client.h"
#include "proxy/node_registry.h"

namespace fathom::proxy {

class HealthChecker {
 public:
  HealthChecker(http::HttpClient& client, NodeRegistry& registry, std::chrono::milliseconds interval,
                std::chrono::milliseconds timeout);
  ~HealthChecker();  // stop()
  void stop();
  void probe_all();  // one round now (also what the loop does each interval)

 private:
  struct Shared;
  http::HttpClient& client_;
  NodeRegistry& registry_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<Shared> shared_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fathom::proxy
