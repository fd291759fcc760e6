#include "server/proxy_registration.h"

#include <cctype>
#include <thread>

#include <nlohmann/json.hpp>

namespace fathom::server {

namespace {

Expected<http::Response> post(http::HttpClient& client, const std::string& base, const std::string& path,
                              const std::string& body) {
  auto url = http::parse_url(base);
  if (!url) return Status::error("--proxy-url: " + url.error());
  http::ClientRequest req;
  req.method = http::Method::kPost;
  req.host = url->host;
  req.port = url->port;
  std::string prefix = url->target == "/" ? "" : url->target;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  req.target = prefix + path;
  req.headers.add("Content-Type", "application/json");
  req.body = body;
  req.connect_timeout = std::chrono::milliseconds(2000);
  req.first_byte_timeout = req.idle_timeout = std::chrono::milliseconds(15000);
  return client.fetch_sync(std::move(req));
}

std::string percent_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string node_add_body(const NodeAnnouncement& a) {
  nlohmann::json body = {{"url", a.node_url}, {"status", {{"models", {a.model_name}}, {"role", 1}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status register_with_proxy(http::HttpClient& client, const NodeAnnouncement& a, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  auto backoff = std::chrono::milliseconds(100);
  std::string last;
  for (;;) {
    auto r = post(client, a.proxy_url, "/nodes/add", node_add_body(a));
    if (r && r->status == 200) return Status::ok();
    if (r && r->status >= 400 && r->status < 500)
      return Status::error("the proxy at " + a.proxy_url + " refused the node: " + std::to_string(r->status) + " " +
                           r->body);
    last = r ? "status " + std::to_string(r->status) : r.error();
    if (std::chrono::steady_clock::now() + backoff > deadline) break;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  return Status::error("cannot register with the proxy at " + a.proxy_url + ": " + last);
}

Status deregister_from_proxy(http::HttpClient& client, const NodeAnnouncement& a) {
  // LMDeploy's proxy reads ?node_url=, Fathom's also the body.
  auto r = post(client, a.proxy_url, "/nodes/remove?node_url=" + percent_encode(a.node_url),
                nlohmann::json{{"url", a.node_url}}.dump());
  if (!r) return Status::error("cannot reach the proxy at " + a.proxy_url + ": " + r.error());
  if (r->status != 200 && r->status != 404)
    return Status::error("the proxy at " + a.proxy_url + " answered " + std::to_string(r->status) + " to /nodes/remove");
  return Status::ok();
}

}  // namespace fathom::server
