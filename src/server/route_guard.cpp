#include "server/auth.h"
#include "server/routes.h"

namespace fathom::server {

http::Handler guard(std::shared_ptr<ServerContext> ctx, http::Handler handler, bool open) {
  return [ctx, handler = std::move(handler), open](http::Request req, http::ResponderPtr res) {
    res = with_cors(std::move(res), ctx->cfg.cors, req.headers.get("Origin"));
    if (!open && !auth_exempt(req) && !authorized(ctx->cfg.api_keys, req)) {
      res->send(error_response(ApiError{401, "Unauthorized.", std::nullopt, http::ErrorType::kAuthentication}));
      return;
    }
    handler(std::move(req), std::move(res));
  };
}

bool refuse_unready(const ServerContext& ctx, http::Responder& res) {
  if (ctx.shutting_down.load()) {
    res.send(error_response(ApiError{503, "the server is shutting down", std::nullopt, http::ErrorType::kUnavailable}));
    return true;
  }
  if (!ctx.ready.load(std::memory_order_acquire)) {
    res.send(error_response(ApiError{503, ctx.load_failed.load(std::memory_order_acquire) ? "the model failed to load: " + ctx.load_error : "the model is loading",
                                     std::nullopt, http::ErrorType::kUnavailable}));
    return true;
  }
  return false;
}

http::Response error_response(const ApiError& e) { return http::json_response(e.status, error_json(e)); }

std::string error_json(const ApiError& e) {
  return http::error_json(e.status, http::ErrorBody{e.message, e.type, e.param, std::nullopt});
}

void add_api_routes(http::Router& router, std::shared_ptr<ServerContext> ctx) {
  add_generation_routes(router, ctx);
  add_info_routes(router, ctx);
  for (const char* path : {"/v1/chat/completions", "/v1/completions", "/generate", "/v1/encode", "/tokenize",
                           "/detokenize", "/v1/models", "/health", "/metrics"}) {
    router.add(http::Method::kOptions, path, [ctx](http::Request req, http::ResponderPtr res) {
      res->send(preflight_response(ctx->cfg.cors, req));
    });
  }
}

}  // namespace fathom::server
