#include "server/api_server.h"

#include "http/client.h"
#include "http/io_runtime.h"
#include "http/router.h"
#include "http/server.h"
#include "server/proxy_registration.h"
#include "server/routes.h"

namespace fathom::server {

struct ApiServer::Impl {
  explicit Impl(const ApiServerOptions& o) : options(o), runtime(o.n_io_threads), ctx(std::make_shared<ServerContext>()) {}

  ApiServerOptions options;
  http::IoRuntime runtime;
  std::shared_ptr<ServerContext> ctx;
  http::Router router;
  std::unique_ptr<http::Server> server;
  LoadedEngine engine;
  std::unique_ptr<StreamPump> pump;
  std::unique_ptr<PrepareQueue> prepare;
  std::unique_ptr<http::HttpClient> client;  // proxy registration
  bool registered = false;
  bool stopped = false;
};

Status validate_options(const ApiServerOptions& o) {
  if (!o.reasoning_parser.empty() && o.reasoning_parser != "deepseek-r1")
    return Status::error("--reasoning-parser: unknown parser '" + o.reasoning_parser + "' (known: deepseek-r1)");
  if (!o.tool_call_parser.empty() && o.tool_call_parser != "deepseek-v3")
    return Status::error("--tool-call-parser: unknown parser '" + o.tool_call_parser + "' (known: deepseek-v3)");
  if (!o.proxy_url.empty()) {
    auto u = http::parse_url(o.proxy_url);
    if (!u) return Status::error("--proxy-url: " + u.error());
  }
  if (o.n_io_threads < 1) return Status::error("--io-threads must be at least 1");
  if (o.n_prepare_threads < 1) return Status::error("--prepare-threads must be at least 1");
  return Status::ok();
}

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() { stop(); }

Expected<std::unique_ptr<ApiServer>> ApiServer::listen(const ApiServerOptions& options) {
  FATHOM_TRY(validate_options(options));
  auto impl = std::make_unique<Impl>(options);
  ServerConfig& cfg = impl->ctx->cfg;
  cfg.model_name = options.model_name.empty() ? options.model_dir : options.model_name;
  for (const auto& k : options.api_keys)
    if (!k.empty()) cfg.api_keys.push_back(k);
  cfg.cors.allow_origins = options.allow_origins;
  cfg.cors.allow_credentials = options.allow_credentials;
  cfg.reasoning_parser = !options.reasoning_parser.empty();
  cfg.tool_call_parser = !options.tool_call_parser.empty();
  impl->prepare = std::make_unique<PrepareQueue>(options.n_prepare_threads);
  impl->ctx->prepare = impl->prepare.get();
  add_api_routes(impl->router, impl->ctx);
  http::ServerOptions so;
  so.host = options.host;
  so.port = options.port;
  so.max_body_bytes = options.max_body_bytes;
  so.header_timeout = options.header_timeout;
  so.body_timeout = options.body_timeout;
  auto server = http::Server::start(impl->runtime, so, impl->router);
  if (!server) return Status::error("--server-name/--server-port: " + server.error());
  impl->server = std::move(server.value());
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

uint16_t ApiServer::port() const { return impl_->server->port(); }

Status ApiServer::load() {
  Impl& m = *impl_;
  ServerContext& ctx = *m.ctx;
  auto failed = [&](const std::string& why) {
    ctx.load_error = why;
    ctx.load_failed.store(true, std::memory_order_release);
    return Status::error(why);
  };
  auto tok = Tokenizer::load(m.options.model_dir);
  if (!tok) return failed(tok.error());
  ctx.tokenizer = *tok;
  if (!ctx.tokenizer->chat_template().empty()) {
    auto tmpl = ChatTemplate::parse(ctx.tokenizer->chat_template());
    if (!tmpl) return failed("chat_template in tokenizer_config.json: " + tmpl.error());
    ctx.chat_template = std::move(tmpl.value());
  }
  auto le = load_engine(m.options.model_dir, m.options.engine);
  if (!le) return failed(le.error());
  m.engine = std::move(le.value());
  ctx.engine = m.engine.engine.get();
  ctx.limits.vocab_size = std::min<int64_t>(ctx.engine->vocab_size(), ctx.tokenizer->n_vocab());
  // Twice the running batch: the engine always has the next requests at hand, its queue stays short.
  m.pump = std::make_unique<StreamPump>(*m.engine.engine, 2 * std::max(1, m.options.engine.max_batch_size));
  ctx.pump = m.pump.get();
  ctx.ready.store(true, std::memory_order_release);
  if (!m.options.proxy_url.empty()) {
    m.client = std::make_unique<http::HttpClient>(m.runtime);
    const NodeAnnouncement a{m.options.proxy_url,
                             "http://" + m.options.host + ":" + std::to_string(port()), ctx.cfg.model_name};
    FATHOM_TRY(register_with_proxy(*m.client, a));
    m.registered = true;
  }
  return Status::ok();
}

void ApiServer::stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  m.ctx->shutting_down.store(true);
  if (m.registered) {
    const NodeAnnouncement a{m.options.proxy_url,
                             "http://" + m.options.host + ":" + std::to_string(port()), m.ctx->cfg.model_name};
    (void)deregister_from_proxy(*m.client, a);  // best effort: the proxy's health checks catch the rest
  }
  // In-flight requests finish (the pump keeps serving them) or are cut at the end of the grace period; a cut
  // connection aborts its engine requests.
  if (m.server) m.server->stop(m.options.shutdown_grace);
  if (m.prepare) m.prepare->stop();
  if (m.pump) m.pump->stop();
  m.ctx->ready.store(false);
  m.engine.engine.reset();  // unfinished requests end as ABORT
  m.client.reset();
  m.runtime.stop();
}

}  // namespace fathom::server
