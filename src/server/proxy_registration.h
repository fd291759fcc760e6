// --proxy-url: announce this api_server to a `fathom serve proxy` (or LMDeploy's proxy) through its /nodes/add
// once the model is ready, and withdraw it through /nodes/remove on shutdown. Blocking calls for the main thread.
#pragma once
#include <chrono>
#include <string>

#include "core/status.h"
#include "http/client.h"

namespace fathom::server {

struct NodeAnnouncement {
  std::string proxy_url;  // http://host:port
  std::string node_url;   // how the proxy reaches us: http://<server-name>:<port>
  std::string model_name;
};

// The body of /nodes/add: {"url": node_url, "status": {"models": [name], "role": 1}}.
std::string node_add_body(const NodeAnnouncement& a);

// Retries (connection refused, 5xx) with backoff for up to `patience`.
Status register_with_proxy(http::HttpClient& client, const NodeAnnouncement& a,
                           std::chrono::milliseconds patience = std::chrono::milliseconds(10'000));
Status deregister_from_proxy(http::HttpClient& client, const NodeAnnouncement& a);

}  // namespace fathom::server
