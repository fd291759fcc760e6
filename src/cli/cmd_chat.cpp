// fathom chat [MODEL]: a multi-turn conversation on the terminal. Each reply streams as it is generated; the
// history is re-sent every turn and prefix caching (on by default here) reuses the earlier turns' pages.
// Commands: /reset clears the history, /exit (or end of input) quits.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/engine_factory.h"
#include "model/model_dir.h"
#include "tokenizer/tokenizer.h"

namespace fathom::cli {

// Defined in cmd_generate.cpp.
void add_engine_options(CLI::App* cmd, EngineOptions& o);
void add_dist_options(CLI::App* cmd, EngineOptions& o);
int fail(const std::string& msg);
int fail_job(const EngineOptions& o, const std::string& msg);
Expected<std::vector<int32_t>> encode_chat(const Tokenizer& tok, const nlohmann::json& messages);
GenerationEvent stream_reply(Engine& engine, const std::shared_ptr<ResultChannel>& ch,
                             std::shared_ptr<const Tokenizer> tok, const std::vector<std::string>& stops, FILE* out,
                             std::string* text);

namespace {

struct ChatArgs {
  std::string model;
  std::string system;
  int32_t max_tokens = 512;
  float temperature = -1.0f;
  float top_p = -1.0f;
  int64_t seed = -1;
  EngineOptions engine;
};

int run_chat(ChatArgs& a) {
  if (Status st = init_dist(a.engine); !st) return fail(st.message());
  auto dir = resolve_model_dir(a.model);
  if (!dir) return fail_job(a.engine, dir.error());
  auto tok = Tokenizer::load(*dir);
  if (!tok) return fail_job(a.engine, tok.error());
  if (a.engine.cache_tokens == 0) a.engine.cache_tokens = 32768;
  a.engine.enable_prefix_caching = true;
  if (!rank_serves(a.engine)) return run_dist_worker(*dir, a.engine);  // --tp: ranks > 0 replay rank 0's steps
  auto le = load_engine(*dir, a.engine);
  if (!le) return fail(le.error());
  // --dp/--ep: the conversation runs on rank 0 (mpirun gives it stdin); the others host their experts.
  if (a.engine.comm && a.engine.comm->rank() != 0) return 0;
  Engine& engine = *le->engine;

  nlohmann::json messages = nlohmann::json::array();
  if (!a.system.empty()) messages.push_back({{"role", "system"}, {"content", a.system}});
  const size_t n_fixed = messages.size();
  std::fprintf(stderr, "fathom chat: type a message; /reset clears the history, /exit quits.\n");
  std::string line;
  uint64_t turn = 0;
  for (;;) {
    std::fprintf(stdout, "\n>>> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line) || line == "/exit") break;
    if (line.empty()) continue;
    if (line == "/reset") {
      messages.erase(messages.begin() + n_fixed, messages.end());
      std::fprintf(stderr, "(history cleared)\n");
      continue;
    }
    messages.push_back({{"role", "user"}, {"content", line}});
    auto ids = encode_chat(**tok, messages);
    if (!ids) return fail(ids.error());
    GenerateRequest req;
    req.prompt_ids = std::move(ids.value());
    req.sampling.max_tokens = static_cast<int32_t>(
        std::min<int64_t>(a.max_tokens, engine.session_len() - static_cast<int64_t>(req.prompt_ids.size())));
    if (a.temperature >= 0) req.sampling.temperature = a.temperature;
    if (a.top_p > 0) req.sampling.top_p = a.top_p;
    if (a.seed >= 0) req.sampling.seed = static_cast<uint64_t>(a.seed) + turn;
    ++turn;
    std::string reply;
    const GenerationEvent ev = stream_reply(engine, engine.submit(std::move(req)), *tok, {}, stdout, &reply);
    std::fprintf(stdout, "\n");
    if (ev.finish == FinishReason::ERROR) {
      std::fprintf(stderr, "error: %s (use /reset to start over)\n", ev.error.c_str());
      messages.erase(messages.end() - 1);
      continue;
    }
    std::fprintf(stderr, "[%lld tokens, %lld from the prefix cache]\n",
                 static_cast<long long>(ev.usage.completion_tokens), static_cast<long long>(ev.usage.cached_tokens));
    messages.push_back({{"role", "assistant"}, {"content", reply}});
  }
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app, RunResult& result) {
  auto a = std::make_shared<ChatArgs>();
  CLI::App* cmd = app.add_subcommand("chat", "Multi-turn chat on the terminal (replies stream)");
  cmd->add_option("model", a->model, "HF-format model folder (default: the embedded tiny model)");
  cmd->add_option("--system", a->system, "System prompt");
  cmd->add_option("--max-tokens", a->max_tokens, "Tokens per reply at most")->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "Sampling temperature (default: generation_config.json)");
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass");
  cmd->add_option("--seed", a->seed, "Random seed");
  add_engine_options(cmd, a->engine);
  add_dist_options(cmd, a->engine);
  cmd->callback([a, &result] { result.exit_code = run_chat(*a); });
}

}  // namespace fathom::cli
