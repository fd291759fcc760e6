// The proxy's own endpoints (node management, models, health, metrics) and the forwarded ones, on a Router.
#pragma once
#include <string>
#include <vector>

#include "http/client.h"
#include "http/router.h"
#include "proxy/forwarder.h"
#include "proxy/node_registry.h"

namespace fathom::proxy {

struct RouteContext {
  http::HttpClient& client;
  NodeRegistry& registry;
  Forwarder& forwarder;
  std::vector<std::string> api_keys;
};

// The context must outlive the router.
void add_proxy_routes(http::Router& router, RouteContext ctx);

// LMDeploy's /nodes/status body: {url: {"role", "models", "unfinished", "latency", "speed"}} (+ "healthy").
std::string nodes_status_json(const NodeRegistry& registry);
// Prometheus text exposition of the per-node counters.
std::string proxy_metrics_text(const NodeRegistry& registry);

}  // namespace fathom::proxy
