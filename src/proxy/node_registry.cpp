#include "proxy/node_registry.h"

#include <algorithm>
#include <numeric>

namespace fathom::proxy {

NodeRegistry::NodeRegistry(std::unique_ptr<Strategy> strategy, HealthOptions options)
    : strategy_(std::move(strategy)), options_(options) {}

void NodeRegistry::add(const std::string& url, NodeRole role, std::vector<std::string> models,
                       std::optional<double> speed) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(url);
  int64_t unfinished = it == nodes_.end() ? 0 : it->second.info.unfinished;  // requests still in flight there
  if (it != nodes_.end()) strategy_->forget(url);
  Node n;
  n.info.url = url;
  n.info.role = role;
  n.info.models = std::move(models);
  n.info.speed = speed;
  n.info.unfinished = unfinished;
  n.cooldown = options_.breaker_cooldown;
  nodes_[url] = std::move(n);
}

bool NodeRegistry::remove(const std::string& url) {
  std::lock_guard<std::mutex> lock(mu_);
  if (nodes_.erase(url) == 0) return false;
  strategy_->forget(url);
  return true;
}

bool NodeRegistry::contains(const std::string& url) const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.count(url) > 0;
}

std::vector<NodeInfo> NodeRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  std::vector<NodeInfo> out;
  for (const auto& [url, n] : nodes_) {
    NodeInfo info = n.info;
    info.latency.assign(n.latency.begin(), n.latency.end());
    info.breaker_open = now < n.open_until;
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<std::string> NodeRegistry::urls() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [url, n] : nodes_) out.push_back(url);
  return out;
}

StrategyKind NodeRegistry::strategy_kind() const { return strategy_->kind(); }

bool NodeRegistry::routable(const Node& n, std::chrono::steady_clock::time_point now) const {
  return n.info.healthy && now >= n.open_until;
}

std::optional<std::string> NodeRegistry::route(std::string_view model, const std::vector<std::string>& exclude,
                                               const RouteInput& input, RouteFailure* why) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  std::vector<Candidate> candidates;
  std::vector<Node*> picked_from;
  bool model_known = false;
  for (auto& [url, n] : nodes_) {
    if (n.info.role != NodeRole::kHybrid) continue;
    if (!model.empty() && std::find(n.info.models.begin(), n.info.models.end(), model) == n.info.models.end()) {
      continue;
    }
    model_known = true;
    if (!routable(n, now)) continue;
    if (std::find(exclude.begin(), exclude.end(), url) != exclude.end()) continue;
    Candidate c;
    c.url = url;
    c.speed = n.info.speed;
    c.unfinished = n.info.unfinished;
    if (!n.latency.empty()) {
      c.mean_latency = std::accumulate(n.latency.begin(), n.latency.end(), 0.0) / static_cast<double>(n.latency.size());
    }
    candidates.push_back(std::move(c));
    picked_from.push_back(&n);
  }
  if (candidates.empty()) {
    // With no node at all the model is not "unknown": the service is simply unavailable.
    if (why) *why = model_known || nodes_.empty() ? RouteFailure::kNoHealthyNode : RouteFailure::kUnknownModel;
    return std::nullopt;
  }
  size_t i = std::min(strategy_->pick(candidates, input), candidates.size() - 1);
  picked_from[i]->info.unfinished += 1;
  return candidates[i].url;
}

void NodeRegistry::finish(const std::string& url, double seconds, bool node_ok, bool cancelled) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(url);
  if (it == nodes_.end()) return;  // removed meanwhile
  Node& n = it->second;
  n.info.unfinished = std::max<int64_t>(0, n.info.unfinished - 1);
  n.info.n_requests += 1;
  if (cancelled) return;
  if (!node_ok) {
    n.info.n_errors += 1;
    n.consecutive_failures += 1;
    if (n.consecutive_failures >= options_.breaker_failures) {
      n.open_until = std::chrono::steady_clock::now() + n.cooldown;
      n.cooldown = std::min(n.cooldown * 2, options_.breaker_max_cooldown);
    }
    return;
  }
  n.consecutive_failures = 0;
  n.cooldown = options_.breaker_cooldown;
  n.open_until = {};
  n.latency.push_back(seconds);
  if (n.latency.size() > kLatencyWindow) n.latency.pop_front();
  n.info.latency_sum += seconds;
  n.info.n_latency += 1;
}

void NodeRegistry::probe_result(const std::string& url, bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(url);
  if (it == nodes_.end()) return;
  Node& n = it->second;
  if (ok) {
    n.probe_failures = 0;
    if (!n.info.healthy) {  // back from the dead (restarted): forget the failures that took it out
      n.consecutive_failures = 0;
      n.cooldown = options_.breaker_cooldown;
      n.open_until = {};
    }
    n.info.healthy = true;
  } else if (++n.probe_failures >= options_.unhealthy_after) {
    n.info.healthy = false;
  }
}

}  // namespace fathom::proxy
