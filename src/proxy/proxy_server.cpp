#include "proxy/proxy_server.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "http/client.h"
#include "http/io_runtime.h"
#include "http/json_error.h"
#include "http/router.h"
#include "http/server.h"
#include "proxy/health_checker.h"
#include "proxy/proxy_routes.h"

namespace fathom::proxy {

struct ProxyServer::Impl {
  explicit Impl(const ProxyOptions& o)
      : options(o),
        runtime(o.n_threads),
        client(runtime),
        registry(make_strategy(o.strategy,
                               o.seed ? o.seed
                                      : static_cast<uint64_t>(
                                            std::chrono::steady_clock::now().time_since_epoch().count()),
                               o.cache),
                 o.health),
        forwarder(client, registry, o.forward) {}

  ProxyOptions options;
  http::IoRuntime runtime;
  http::HttpClient client;
  NodeRegistry registry;
  Forwarder forwarder;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<HealthChecker> health;
  bool stopped = false;
};

ProxyServer::ProxyServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProxyServer::~ProxyServer() { stop(std::chrono::milliseconds(0)); }

Expected<std::unique_ptr<ProxyServer>> ProxyServer::start(const ProxyOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  add_proxy_routes(impl->router, RouteContext{impl->client, impl->registry, impl->forwarder, options.api_keys});
  http::ServerOptions so;
  so.host = options.host;
  so.port = options.port;
  so.max_body_bytes = options.max_body_bytes;
  auto server = http::Server::start(impl->runtime, so, impl->router);
  if (!server) return server.status();
  impl->server = std::move(server.value());
  impl->health = std::make_unique<HealthChecker>(impl->client, impl->registry, options.health_interval,
                                                 options.health_timeout);
  return std::unique_ptr<ProxyServer>(new ProxyServer(std::move(impl)));
}

uint16_t ProxyServer::port() const { return impl_->server->port(); }

NodeRegistry& ProxyServer::registry() { return impl_->registry; }

void ProxyServer::stop(std::chrono::milliseconds grace) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->server) impl_->server->stop(grace);
  if (impl_->health) impl_->health->stop();
  impl_->runtime.stop();
}

}  // namespace fathom::proxy
