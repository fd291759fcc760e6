#include "proxy/proxy_routes.h"

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "http/json_error.h"

namespace fathom::proxy {

using nlohmann::json;

namespace {

// Constant-time over the longer of the two strings, so the comparison time does not leak the key's prefix.
bool same_secret(std::string_view a, std::string_view b) {
  size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() != b.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool authorized(const std::vector<std::string>& keys, const http::Request& req) {
  if (keys.empty()) return true;
  std::string auth = req.headers.get("Authorization");
  if (auth.size() < 7 || !http::iequals(std::string_view(auth).substr(0, 7), "bearer ")) return false;
  std::string_view token = std::string_view(auth).substr(7);
  bool ok = false;
  for (const auto& k : keys) ok |= same_secret(token, k);
  return ok;
}

http::Handler guarded(const std::vector<std::string>& keys, http::Handler h) {
  return [&keys, h = std::move(h)](http::Request req, http::ResponderPtr res) {
    if (!authorized(keys, req)) {
      res->send(http::error_response(401, "Unauthorized.", http::ErrorType::kAuthentication));
      return;
    }
    h(std::move(req), std::move(res));
  };
}

http::Response json_string(int status, std::string_view s) { return http::json_response(status, json(s).dump()); }

std::string query_param(const std::string& query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view kv = std::string_view(query).substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (kv.starts_with(name) && kv.size() > name.size() && kv[name.size()] == '=') {
      std::string out;
      std::string_view v = kv.substr(name.size() + 1);
      for (size_t i = 0; i < v.size(); ++i) {  // %XX and '+' decoding
        if (v[i] == '%' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
          out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
          i += 2;
        } else {
          out += v[i] == '+' ? ' ' : v[i];
        }
      }
      return out;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return {};
}

Expected<NodeRole> parse_role(const json& r) {
  if (r.is_null()) return NodeRole::kHybrid;
  if (r.is_number_integer()) {
    int v = r.get<int>();
    if (v >= 1 && v <= 3) return static_cast<NodeRole>(v);
  } else if (r.is_string()) {
    std::string s = r.get<std::string>();
    if (s == "Hybrid") return NodeRole::kHybrid;
    if (s == "Prefill") return NodeRole::kPrefill;
    if (s == "Decode") return NodeRole::kDecode;
  }
  return Status::error("status.role: expected 1 (Hybrid), 2 (Prefill) or 3 (Decode)");
}

void add_node(RouteContext& ctx, http::Request req, http::ResponderPtr res) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("url") || !body["url"].is_string()) {
    res->send(http::error_response(400, "body must be {\"url\": str, \"status\": {...} | null}"));
    return;
  }
  std::string url = body["url"].get<std::string>();
  while (!url.empty() && url.back() == '/') url.pop_back();
  auto target = http::parse_url(url);
  if (!target) {
    res->send(http::error_response(400, "url: " + target.error()));
    return;
  }
  json status = body.value("status", json());
  NodeRole role = NodeRole::kHybrid;
  std::vector<std::string> models;
  std::optional<double> speed;
  if (status.is_object()) {
    auto r = parse_role(status.value("role", json()));
    if (!r) {
      res->send(http::error_response(400, r.error()));
      return;
    }
    role = *r;
    if (auto m = status.find("models"); m != status.end() && m->is_array()) {
      for (const auto& x : *m) {
        if (x.is_string()) models.push_back(x.get<std::string>());
      }
    }
    if (auto s = status.find("speed"); s != status.end() && s->is_number()) speed = s->get<double>();
  }
  if (!models.empty()) {
    ctx.registry.add(url, role, std::move(models), speed);
    res->send(json_string(200, "Added successfully"));
    return;
  }
  // No models given: ask the node (as LMDeploy does), without blocking an io thread.
  http::ClientRequest probe;
  probe.host = target->host;
  probe.port = target->port;
  probe.target = "/v1/models";
  probe.connect_timeout = std::chrono::milliseconds(5000);
  probe.first_byte_timeout = probe.idle_timeout = std::chrono::milliseconds(10000);
  if (auto* auth = req.headers.find("Authorization")) probe.headers.add("Authorization", *auth);
  NodeRegistry* registry = &ctx.registry;
  ctx.client.fetch(std::move(probe), [registry, url, role, speed, res](http::ClientError err, http::Response r) {
    if (!err.ok() || r.status != 200) {
      res->send(http::error_response(
          502, "cannot list the models of " + url + ": " + (err.ok() ? "status " + std::to_string(r.status) : err.message),
          http::ErrorType::kServer));
      return;
    }
    std::vector<std::string> found;
    json j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("data") && j["data"].is_array()) {
      for (const auto& m : j["data"]) {
        if (m.is_object() && m.contains("id") && m["id"].is_string()) found.push_back(m["id"].get<std::string>());
      }
    }
    if (found.empty()) {
      res->send(http::error_response(502, url + "/v1/models lists no model", http::ErrorType::kServer));
      return;
    }
    registry->add(url, role, std::move(found), speed);
    res->send(json_string(200, "Added successfully"));
  });
}

void remove_node(RouteContext& ctx, http::Request req, http::ResponderPtr res) {
  std::string url = query_param(req.query, "node_url");
  if (url.empty()) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_object() && body.contains("url") && body["url"].is_string()) url = body["url"].get<std::string>();
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.empty()) {
    res->send(http::error_response(400, "body must be {\"url\": str} (or ?node_url=)"));
    return;
  }
  if (!ctx.registry.remove(url)) {
    res->send(http::error_response(404, "no node " + url));
    return;
  }
  res->send(json_string(200, "Deleted successfully"));
}

std::string models_json(const NodeRegistry& registry) {
  json data = json::array();
  std::set<std::string> seen;
  auto now = static_cast<int64_t>(std::time(nullptr));
  for (const auto& n : registry.snapshot()) {
    for (const auto& m : n.models) {
      if (!seen.insert(m).second) continue;
      data.push_back({{"id", m}, {"object", "model"}, {"created", now}, {"owned_by", "fathom"}, {"root", m},
                      {"parent", nullptr}, {"permission", json::array()}});
    }
  }
  return json{{"object", "list"}, {"data", std::move(data)}}.dump();
}

}  // namespace

std::string nodes_status_json(const NodeRegistry& registry) {
  json out = json::object();
  for (const auto& n : registry.snapshot()) {
    out[n.url] = {{"role", static_cast<int>(n.role)},
                  {"models", n.models},
                  {"unfinished", n.unfinished},
                  {"latency", n.latency},
                  {"speed", n.speed ? json(*n.speed) : json(nullptr)},
                  {"healthy", n.healthy && !n.breaker_open}};
  }
  return out.dump();
}

std::string proxy_metrics_text(const NodeRegistry& registry) {
  std::ostringstream o;
  auto nodes = registry.snapshot();
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    for (const auto& n : nodes) o << name << "{node=\"" << n.url << "\"} " << value(n) << '\n';
  };
  family("fathom_proxy_node_requests_total", "counter", "Requests forwarded to the node and finished.",
         [](const NodeInfo& n) { return n.n_requests; });
  family("fathom_proxy_node_errors_total", "counter", "Forwarded requests that failed (transport error or 5xx).",
         [](const NodeInfo& n) { return n.n_errors; });
  family("fathom_proxy_node_unfinished", "gauge", "Requests in flight on the node.",
         [](const NodeInfo& n) { return n.unfinished; });
  family("fathom_proxy_node_healthy", "gauge", "1 when the node receives traffic (health probe ok, breaker closed).",
         [](const NodeInfo& n) { return (n.healthy && !n.breaker_open) ? 1 : 0; });
  family("fathom_proxy_node_latency_seconds_sum", "counter", "Wall time of successful requests, seconds.",
         [](const NodeInfo& n) { return n.latency_sum; });
  family("fathom_proxy_node_latency_seconds_count", "counter", "Successful requests timed.",
         [](const NodeInfo& n) { return n.n_latency; });
  return o.str();
}

void add_proxy_routes(http::Router& router, RouteContext ctx) {
  auto c = std::make_shared<RouteContext>(std::move(ctx));  // shared by the handlers below
  const auto& keys = c->api_keys;
  // Node management and /health are open, as in LMDeploy (api_servers register without a key).
  router.add(http::Method::kPost, "/nodes/add", [c](http::Request r, http::ResponderPtr res) {
    add_node(*c, std::move(r), std::move(res));
  });
  router.add(http::Method::kPost, "/nodes/remove", [c](http::Request r, http::ResponderPtr res) {
    remove_node(*c, std::move(r), std::move(res));
  });
  router.add(http::Method::kGet, "/nodes/status", [c](http::Request, http::ResponderPtr res) {
    res->send(http::json_response(200, nodes_status_json(c->registry)));
  });
  router.add(http::Method::kGet, "/health", [c](http::Request, http::ResponderPtr res) {
    int n = 0, healthy = 0;
    for (const auto& node : c->registry.snapshot()) {
      ++n;
      healthy += node.healthy && !node.breaker_open;
    }
    res->send(http::json_response(
        200, json{{"status", "healthy"}, {"nodes", n}, {"healthy_nodes", healthy}}.dump()));
  });
  router.add(http::Method::kGet, "/metrics", guarded(keys, [c](http::Request, http::ResponderPtr res) {
               res->send(http::text_response(200, proxy_metrics_text(c->registry), "text/plain; version=0.0.4"));
             }));
  router.add(http::Method::kGet, "/v1/models", guarded(keys, [c](http::Request, http::ResponderPtr res) {
               res->send(http::json_response(200, models_json(c->registry)));
             }));
  for (const char* path : {"/v1/chat/completions", "/v1/completions", "/generate", "/v1/encode"}) {
    router.add(http::Method::kPost, path, guarded(keys, [c](http::Request r, http::ResponderPtr res) {
                 c->forwarder.handle(std::move(r), std::move(res));
               }));
  }
}

}  // namespace fathom::proxy
