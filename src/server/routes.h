// The api_server's routes. Every handler goes through guard(): CORS headers, the API-key check (except /health
// and preflights), and the answer to OPTIONS. Handlers never throw and never block an io thread.
#pragma once
#include <memory>

#include "http/router.h"
#include "server/server_context.h"

namespace fathom::server {

// Wraps a handler with CORS and (unless `open`) the API-key check.
http::Handler guard(std::shared_ptr<ServerContext> ctx, http::Handler handler, bool open = false);

// 503 while the model loads or the server shuts down; true when it answered.
bool refuse_unready(const ServerContext& ctx, http::Responder& res);

// POST /v1/chat/completions, /v1/completions, /generate (routes_generation.cpp).
void add_generation_routes(http::Router& router, std::shared_ptr<ServerContext> ctx);
// GET /v1/models, /health, /metrics; POST /v1/encode, /tokenize, /detokenize (routes_info.cpp).
void add_info_routes(http::Router& router, std::shared_ptr<ServerContext> ctx);
// Both, plus OPTIONS on every path for CORS preflights.
void add_api_routes(http::Router& router, std::shared_ptr<ServerContext> ctx);

}  // namespace fathom::server
