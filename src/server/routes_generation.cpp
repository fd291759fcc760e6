// POST /v1/chat/completions, /v1/completions, /generate: on a PrepareQueue worker (not an io thread), parse and
// validate (400/404 before any engine work), build the prompt ids, check them against the context limits, and
// hand one engine request per choice to a GenerationJob on the stream pump.
#include <exception>
#include <chrono>

#include "server/generation_job.h"
#include "server/prompt_builder.h"
#include "server/routes.h"

namespace fathom::server {

namespace {

bool json_content_type(const http::Request& req) {
  const std::string* ct = req.headers.find("Content-Type");
  if (!ct) return true;  // absent: read the body as JSON anyway
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return http::iequals(v, "application/json");
}

const char* prompt_field(Endpoint ep) {
  switch (ep) {
    case Endpoint::kChat: return "messages";
    case Endpoint::kCompletion: return "prompt";
    case Endpoint::kGenerate: return "input_ids";
  }
  return "prompt";
}

void serve_generation(const std::shared_ptr<ServerContext>& ctx, Endpoint ep, const http::Request& req,
                      const http::ResponderPtr& res, std::chrono::steady_clock::time_point t0) {
  if (refuse_unready(*ctx, *res)) return;
  auto reject = [&](const ApiError& e) {
    ctx->metrics.n_requests_failed.fetch_add(1, std::memory_order_relaxed);
    res->send(error_response(e));
  };
  if (!json_content_type(req))
    return reject(ApiError{400, "Unsupported Media Type: Only 'application/json' is allowed", "Content-Type"});
  ApiRequest r;
  if (auto e = parse_request(ep, req.body, ctx->limits, r)) return reject(*e);
  if ((ep != Endpoint::kGenerate || !r.model.empty()) && r.model != ctx->cfg.model_name)
    return reject(ApiError{404, "The model '" + r.model + "' does not exist.", "model", http::ErrorType::kNotFound});
  if (r.tools.is_array() && !ctx->cfg.tool_call_parser && r.tool_choice != "none")
    return reject(ApiError{400, "tools need a tool-call parser: launch the api_server with --tool-call-parser deepseek-v3",
                           "tools"});

  const Tokenizer& tok = *ctx->tokenizer;
  const ChatTemplate* tmpl = ctx->chat_template ? &*ctx->chat_template : nullptr;
  std::vector<std::vector<int32_t>> prompt_ids(r.prompts.size());
  int64_t prompt_tokens = 0;
  for (size_t k = 0; k < r.prompts.size(); ++k) {
    if (auto e = build_prompt_ids(r.prompts[k], r, tok, tmpl, prompt_ids[k])) return reject(*e);
    GenerateRequest probe;
    probe.prompt_ids = prompt_ids[k];
    probe.sampling = r.sampling;
    const std::string why = ctx->engine->check_request(probe);
    if (!why.empty()) {
      // Context overflow and limits: the engine's message names the prompt length and the limit.
      const bool length = why.find("tokens") != std::string::npos;
      return reject(ApiError{400, why, length ? std::string(prompt_field(ep)) : std::string("max_tokens")});
    }
    prompt_tokens += static_cast<int64_t>(prompt_ids[k].size());
  }

  PipelineOptions po;
  po.skip_special_tokens = r.skip_special_tokens;
  po.stop = r.stop;
  po.include_stop_str_in_output = r.include_stop_str_in_output;
  po.reasoning = ctx->cfg.reasoning_parser && ep == Endpoint::kChat;
  po.tool_calls = ctx->cfg.tool_call_parser && ep == Endpoint::kChat && r.tools.is_array() && r.tool_choice != "none";
  std::vector<JobChoice> choices;
  choices.reserve(r.prompts.size() * r.n);
  for (size_t k = 0; k < r.prompts.size(); ++k) {
    std::string echo;
    if (r.echo) {
      echo = r.prompts[k].kind == PromptInput::Kind::kText ? r.prompts[k].text
                                                            : tok.decode(prompt_ids[k], r.skip_special_tokens);
    }
    for (int32_t i = 0; i < r.n; ++i) {
      GenerateRequest g;
      g.prompt_ids = prompt_ids[k];
      g.sampling = r.sampling;
      if (r.sampling.seed) g.sampling.seed = *r.sampling.seed + static_cast<uint64_t>(i);
      g.sampling.n_logprobs = r.logprobs ? r.top_logprobs : -1;
      choices.push_back(JobChoice{std::move(g), nullptr, OutputPipeline(ctx->tokenizer, po), echo});
    }
  }
  auto job = std::make_shared<GenerationJob>(ctx, r, res, std::move(choices), prompt_tokens, t0);
  std::weak_ptr<GenerationJob> weak = job;
  res->on_disconnect([weak] {
    if (auto j = weak.lock()) j->client_gone();
  });
  ctx->pump->add(std::move(job));
}

}  // namespace

void add_generation_routes(http::Router& router, std::shared_ptr<ServerContext> ctx) {
  const std::pair<const char*, Endpoint> routes[] = {
      {"/v1/chat/completions", Endpoint::kChat}, {"/v1/completions", Endpoint::kCompletion},
      {"/generate", Endpoint::kGenerate}};
  for (const auto& [path, ep] : routes) {
    router.add(http::Method::kPost, path,
               guard(ctx, [ctx, ep = ep](http::Request req, http::ResponderPtr res) {
                 const auto t0 = std::chrono::steady_clock::now();
                 if (refuse_unready(*ctx, *res)) return;
                 ctx->prepare->post([ctx, ep, t0, req = std::move(req), res = std::move(res)] {
                   try {
                     serve_generation(ctx, ep, req, res, t0);
                   } catch (const std::exception& e) {  // never expected: answer rather than lose the worker
                     res->send(error_response(ApiError{500, std::string("internal error: ") + e.what(),
                                                       std::nullopt, http::ErrorType::kServer}));
                   }
                 });
               }));
  }
}

}  // namespace fathom::server
