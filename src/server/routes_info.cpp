// GET /v1/models, /health, /metrics; POST /v1/encode (LMDeploy), /tokenize and /detokenize (vLLM shapes).
#include <ctime>

#include "server/prompt_builder.h"
#include "server/response_format.h"
#include "server/routes.h"

namespace fathom::server {

using nlohmann::json;

namespace {

void send_json(http::Responder& res, const json& j) { res.send(http::json_response(200, dump_json(j))); }

void models(const ServerContext& ctx, http::Responder& res) {
  json model = {{"id", ctx.cfg.model_name},
                {"object", "model"},
                {"created", static_cast<int64_t>(std::time(nullptr))},
                {"owned_by", "fathom"},
                {"root", ctx.cfg.model_name},
                {"parent", nullptr},
                {"permission", json::array()}};
  if (ctx.ready.load(std::memory_order_acquire)) model["max_model_len"] = ctx.engine->session_len();
  send_json(res, json{{"object", "list"}, {"data", json::array({model})}});
}

void health(const ServerContext& ctx, http::Responder& res) {
  json body;
  int status = 200;
  if (ctx.shutting_down.load()) {
    status = 503;
    body = {{"status", "unhealthy"}, {"message", "shutting down"}};
  } else if (ctx.load_failed.load(std::memory_order_acquire)) {
    status = 503;
    body = {{"status", "unhealthy"}, {"message", ctx.load_error}};
  } else if (!ctx.ready.load(std::memory_order_acquire)) {
    status = 503;
    body = {{"status", "initializing"}, {"message", "loading the model"}};
  } else {
    body = {{"status", "healthy"}, {"message", ""}};
  }
  res.send(http::json_response(status, dump_json(body)));
}

void metrics(const ServerContext& ctx, http::Responder& res) {
  std::optional<EngineStats> stats;
  int64_t held = 0;
  if (ctx.ready.load(std::memory_order_acquire)) {
    stats = ctx.engine->stats();
    held = static_cast<int64_t>(ctx.pump->n_waiting());
  }
  res.send(http::text_response(200, ctx.metrics.render(stats ? &*stats : nullptr, ctx.cfg.model_name, held),
                               "text/plain; version=0.0.4; charset=utf-8"));
}

std::optional<ApiError> body_object(const ServerContext& ctx, const http::Request& req, json& out) {
  return parse_json_object(req.body, ctx.limits, out);
}

// LMDeploy: {"input": str | [str], "do_preprocess": false, "add_bos": true} → {"input_ids", "length"}.
void encode(const ServerContext& ctx, const http::Request& req, http::Responder& res) {
  json b;
  if (auto e = body_object(ctx, req, b)) return res.send(error_response(*e));
  const json input = b.value("input", json());
  const json pre = b.value("do_preprocess", json(false)), bos = b.value("add_bos", json(true));
  if (!pre.is_boolean()) return res.send(error_response(ApiError{400, "do_preprocess: expected a boolean", "do_preprocess"}));
  if (!bos.is_boolean()) return res.send(error_response(ApiError{400, "add_bos: expected a boolean", "add_bos"}));
  auto one = [&](const std::string& text, std::vector<int32_t>& ids) -> std::optional<ApiError> {
    if (pre.get<bool>()) {
      ApiRequest r;
      std::string rendered;
      const ChatTemplate* tmpl = ctx.chat_template ? &*ctx.chat_template : nullptr;
      if (auto e = render_chat(json::array({{{"role", "user"}, {"content", text}}}), r, *ctx.tokenizer, tmpl, rendered))
        return e;
      ids = ctx.tokenizer->encode(rendered, /*add_special_tokens=*/false);
    } else {
      ids = ctx.tokenizer->encode(text, bos.get<bool>());
    }
    return {};
  };
  std::vector<int32_t> ids;
  if (input.is_string()) {
    if (auto e = one(input.get<std::string>(), ids)) return res.send(error_response(*e));
    return send_json(res, json{{"input_ids", ids}, {"length", ids.size()}});
  }
  if (!input.is_array() || input.empty())
    return res.send(error_response(ApiError{400, "input: expected a string or a non-empty array of strings", "input"}));
  json all = json::array(), lengths = json::array();
  for (size_t k = 0; k < input.size(); ++k) {
    if (!input[k].is_string())
      return res.send(error_response(ApiError{400, "input[" + std::to_string(k) + "]: expected a string", "input"}));
    if (auto e = one(input[k].get<std::string>(), ids)) return res.send(error_response(*e));
    lengths.push_back(ids.size());
    all.push_back(ids);
  }
  send_json(res, json{{"input_ids", all}, {"length", lengths}});
}

// vLLM: {"prompt": str, "add_special_tokens": true} or {"messages": [...]} → {"tokens", "count", "max_model_len"}.
void tokenize(const ServerContext& ctx, const http::Request& req, http::Responder& res) {
  json b;
  if (auto e = body_object(ctx, req, b)) return res.send(error_response(*e));
  std::vector<int32_t> ids;
  if (b.contains("messages")) {
    ApiRequest r;
    json chat = {{"model", ctx.cfg.model_name}, {"messages", b["messages"]}};
    if (auto e = parse_chat_request(chat, ctx.limits, r)) return res.send(error_response(*e));
    const ChatTemplate* tmpl = ctx.chat_template ? &*ctx.chat_template : nullptr;
    if (auto e = build_prompt_ids(r.prompts[0], r, *ctx.tokenizer, tmpl, ids)) return res.send(error_response(*e));
  } else {
    const json prompt = b.value("prompt", json());
    const json special = b.value("add_special_tokens", json(true));
    if (!prompt.is_string())
      return res.send(error_response(ApiError{400, "prompt: expected a string (or give messages)", "prompt"}));
    if (!special.is_boolean())
      return res.send(error_response(ApiError{400, "add_special_tokens: expected a boolean", "add_special_tokens"}));
    ids = ctx.tokenizer->encode(prompt.get<std::string>(), special.get<bool>());
  }
  send_json(res, json{{"tokens", ids}, {"count", ids.size()}, {"max_model_len", ctx.engine->session_len()}});
}

// vLLM: {"tokens": [ids]} → {"prompt": text}.
void detokenize(const ServerContext& ctx, const http::Request& req, http::Responder& res) {
  json b;
  if (auto e = body_object(ctx, req, b)) return res.send(error_response(*e));
  const json tokens = b.value("tokens", json());
  if (!tokens.is_array()) return res.send(error_response(ApiError{400, "tokens: expected an array of token ids", "tokens"}));
  std::vector<int32_t> ids;
  for (size_t k = 0; k < tokens.size(); ++k) {
    const json& t = tokens[k];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= ctx.tokenizer->n_vocab())
      return res.send(error_response(
          ApiError{400, "tokens[" + std::to_string(k) + "]: expected a token id in the vocabulary", "tokens"}));
    ids.push_back(t.get<int32_t>());
  }
  send_json(res, json{{"prompt", ctx.tokenizer->decode(ids, /*skip_special_tokens=*/false)}});
}

}  // namespace

void add_info_routes(http::Router& router, std::shared_ptr<ServerContext> ctx) {
  using http::Method;
  router.add(Method::kGet, "/v1/models", guard(ctx, [ctx](http::Request, http::ResponderPtr res) {
               models(*ctx, *res);
             }));
  router.add_prefix(Method::kGet, "/health", guard(ctx, [ctx](http::Request, http::ResponderPtr res) {
                      health(*ctx, *res);
                    }, /*open=*/true));
  router.add_prefix(Method::kGet, "/metrics", guard(ctx, [ctx](http::Request, http::ResponderPtr res) {
                      metrics(*ctx, *res);
                    }));
  const std::pair<const char*, void (*)(const ServerContext&, const http::Request&, http::Responder&)> posts[] = {
      {"/v1/encode", encode}, {"/tokenize", tokenize}, {"/detokenize", detokenize}};
  for (const auto& [path, fn] : posts) {
    router.add(Method::kPost, path, guard(ctx, [ctx, fn = fn](http::Request req, http::ResponderPtr res) {
                 if (refuse_unready(*ctx, *res)) return;
                 fn(*ctx, req, *res);
               }));
  }
}

}  // namespace fathom::server
