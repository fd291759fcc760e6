// fathom generate [MODEL] --prompt TEXT [--max-tokens N] [--temperature T] [--seed S] [--chat]
// Also registers `fathom chat` (cmd_chat.cpp) and `fathom bench throughput` (cmd_bench_throughput.cpp), and
// holds what the three share: the engine flags, chat-template rendering and streaming a reply to the terminal.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/engine_factory.h"
#include "engine/stop_matcher.h"
#include "model/model_dir.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace fathom::cli {

// Defined in cmd_chat.cpp and cmd_bench_throughput.cpp.
void add_chat_command(CLI::App& app, RunResult& result);
void add_bench_throughput_command(CLI::App& app, RunResult& result);

// Load-time choices, shared by every command that loads a model.
void add_load_options(CLI::App* cmd, LoadOptions& o) {
  cmd->add_option_function<std::string>(
         "--lm-head-dtype", [&o](const std::string& v) { o.lm_head_fp8 = v == "fp8"; },
         "checkpoint (default): lm_head as stored; fp8: quantized at load to e4m3 with 128x128 block scales "
         "(fewer bytes per decoded token; logits move by about 1%)")
      ->check(CLI::IsMember({"checkpoint", "fp8"}));
  cmd->add_flag("--mmap-weights", o.mmap_weights,
                "Read weights straight from the checkpoint's memory mapping (no copy: shared page cache, less load "
                "time) instead of copying them into huge-page memory at load (default; decode ~10% faster)");
  cmd->add_flag("--plain-weights", o.plain_weights,
                "Keep copied bf16 weights in plain 16-bit panels instead of the default lossless 12-bit coding "
                "(same results bit for bit; coding streams ~25% fewer bytes per token, costs some load time)");
}

// The LMDeploy engine flags, shared by generate, chat and bench throughput.
void add_engine_options(CLI::App* cmd, EngineOptions& o) {
  cmd->add_option("--max-batch-size", o.max_batch_size, "Running sequences at most")->capture_default_str();
  cmd->add_option("--cache-max-entry-count", o.cache_max_entry_count,
                  "Fraction of the memory free after weights given to the latent cache (used without --cache-tokens)")
      ->capture_default_str();
  cmd->add_option("--cache-tokens", o.cache_tokens, "Latent cache size in tokens (overrides the fraction)")
      ->capture_default_str();
  cmd->add_option("--cache-block-seq-len", o.cache_block_seq_len, "Tokens per cache page")->capture_default_str();
  cmd->add_option("--max-prefill-token-num", o.max_prefill_token_num, "Prefill tokens per step at most")
      ->capture_default_str();
  cmd->add_option("--session-len", o.session_len, "Prompt + output tokens at most (0: the model's maximum)");
  cmd->add_flag("--enable-prefix-caching", o.enable_prefix_caching, "Reuse cache pages of identical prefixes");
  cmd->add_option("--threads", o.n_threads, "Compute threads (0: one per hardware thread)");
  add_load_options(cmd, o.load);
  cmd->add_option("--dist-timeout", o.dist_timeout_s,
                  "Under mpirun: end the job when a rank has not been heard from for this many seconds")
      ->capture_default_str();
  cmd->add_option("--dist-step-timeout", o.dist_step_timeout_s,
                  "Under mpirun: end the job when one step has not completed within this many seconds")
      ->capture_default_str();
}

// --tp / --dp / --ep for the in-process commands (serve api_server declares its own).
void add_dist_options(CLI::App* cmd, EngineOptions& o) {
  cmd->add_option("--tp", o.tp, "Tensor-parallel ranks (under mpirun -np N; rank 0 prints)")->capture_default_str();
  cmd->add_option("--dp", o.dp, "Data-parallel ranks (with --ep N, under mpirun -np N)")->capture_default_str();
  cmd->add_option("--ep", o.ep, "Expert-parallel ranks (with --dp N)")->capture_default_str();
}


// Prints "error: ..." and returns exit code 1.
int fail(const std::string& msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  return 1;
}

// After init_dist: a failure on one rank of a job must end the whole job (the others would wait for it).
int fail_job(const EngineOptions& o, const std::string& msg) {
  if (o.comm && o.comm->size() > 1) o.comm->abort_job(msg);
  return fail(msg);
}

// messages: [{"role": ..., "content": ...}, ...] → ids of the rendered template (BOS written by the template).
Expected<std::vector<int32_t>> encode_chat(const Tokenizer& tok, const nlohmann::json& messages) {
  if (tok.chat_template().empty()) return Status::error("tokenizer_config.json has no chat_template");
  auto tmpl = ChatTemplate::parse(tok.chat_template());
  if (!tmpl) return Status::error("chat_template: " + tmpl.error());
  nlohmann::json ctx = {{"messages", messages},
                        {"add_generation_prompt", true},
                        {"bos_token", tok.bos_token()},
                        {"eos_token", tok.eos_token()}};
  auto text = tmpl->render(ctx);
  if (!text) return Status::error("chat_template: " + text.error());
  return tok.encode(*text, /*add_special_tokens=*/false);
}

// Streams a request's reply to `out` as tokens arrive (stop strings held back and cut); returns the final event
// (all tokens merged) and the reply text. A matched stop string aborts the request.
GenerationEvent stream_reply(Engine& engine, const std::shared_ptr<ResultChannel>& ch,
                             std::shared_ptr<const Tokenizer> tok, const std::vector<std::string>& stops, FILE* out,
                             std::string* text) {
  IncrementalDetokenizer detok(std::move(tok), /*skip_special_tokens=*/true);
  StopMatcher matcher(stops);
  GenerationEvent all, ev;
  auto emit = [&](const std::string& s) {
    if (s.empty()) return;
    if (out) {
      std::fwrite(s.data(), 1, s.size(), out);
      std::fflush(out);
    }
    if (text) *text += s;
  };
  while (!all.finished()) {
    if (!ch->next(ev, std::chrono::milliseconds(100))) continue;
    for (int32_t id : ev.token_ids) {
      all.token_ids.push_back(id);
      if (!matcher.stopped()) emit(matcher.feed(detok.push(id)));
    }
    if (matcher.stopped() && !ev.finished()) engine.abort(ch->request_id());
    all.usage = ev.usage;
    all.finish = ev.finish;
    all.error = ev.error;
  }
  if (matcher.stopped()) {
    all.finish = FinishReason::STOP;
  } else {
    emit(matcher.feed(detok.finish()));
    emit(matcher.flush());
  }
  return all;
}

namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt;
  int32_t max_tokens = 128;
  float temperature = -1.0f;  // < 0: the model's default
  float top_p = -1.0f;
  int32_t top_k = -1;
  int64_t seed = -1;
  bool chat = false;
  bool ignore_eos = false;
  std::vector<std::string> stop;
  EngineOptions engine;
};

int run_generate(GenerateArgs& a) {
  if (Status st = init_dist(a.engine); !st) return fail(st.message());
  auto dir = resolve_model_dir(a.model);
  if (!dir) return fail_job(a.engine, dir.error());
  auto tok = Tokenizer::load(*dir);
  if (!tok) return fail_job(a.engine, tok.error());
  std::vector<int32_t> ids;
  if (a.chat) {
    auto enc = encode_chat(**tok, nlohmann::json::array({{{"role", "user"}, {"content", a.prompt}}}));
    if (!enc) return fail_job(a.engine, enc.error());
    ids = std::move(enc.value());
  } else {
    ids = (*tok)->encode(a.prompt, /*add_special_tokens=*/true);
  }
  if (a.engine.cache_tokens == 0) a.engine.cache_tokens = static_cast<int64_t>(ids.size()) + a.max_tokens;
  if (!rank_serves(a.engine)) return run_dist_worker(*dir, a.engine);  // --tp: ranks > 0 replay rank 0's steps
  auto le = load_engine(*dir, a.engine);
  if (!le) return fail(le.error());
  // --dp/--ep: rank 0 generates; the other ranks host their experts for it until it is done.
  if (a.engine.comm && a.engine.comm->rank() != 0) return 0;

  GenerateRequest req;
  req.prompt_ids = ids;
  req.sampling.max_tokens = a.max_tokens;
  if (a.temperature >= 0) req.sampling.temperature = a.temperature;
  if (a.top_p > 0) req.sampling.top_p = a.top_p;
  if (a.top_k >= 0) req.sampling.top_k = a.top_k;
  if (a.seed >= 0) req.sampling.seed = static_cast<uint64_t>(a.seed);
  req.sampling.ignore_eos = a.ignore_eos;
  auto ch = le->engine->submit(std::move(req));
  const GenerationEvent ev = stream_reply(*le->engine, ch, *tok, a.stop, stdout, nullptr);
  std::printf("\n");
  if (ev.finish == FinishReason::ERROR) return fail(ev.error);
  std::fprintf(stderr, "[finish: %s, prompt tokens: %lld, completion tokens: %lld]\n", finish_reason_name(ev.finish),
               static_cast<long long>(ev.usage.prompt_tokens), static_cast<long long>(ev.usage.completion_tokens));
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, RunResult& result) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate a completion for one prompt, streamed to stdout");
  cmd->add_option("model", a->model, "HF-format model folder (default: the embedded tiny model)");
  cmd->add_option("--prompt", a->prompt, "Prompt text")->required();
  cmd->add_option("--max-tokens", a->max_tokens, "Tokens to generate at most")->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "Sampling temperature (0: greedy; default: generation_config.json)");
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass");
  cmd->add_option("--top-k", a->top_k, "Sample among the k most likely tokens (0: off)");
  cmd->add_option("--seed", a->seed, "Random seed (same seed, same output)");
  cmd->add_flag("--chat", a->chat, "Wrap the prompt as one user message with the chat template");
  cmd->add_flag("--ignore-eos", a->ignore_eos, "Keep generating past end-of-sequence tokens");
  cmd->add_option("--stop", a->stop, "Stop strings (not printed)");
  add_engine_options(cmd, a->engine);
  add_dist_options(cmd, a->engine);
  cmd->callback([a, &result] { result.exit_code = run_generate(*a); });
  add_chat_command(app, result);
  add_bench_throughput_command(app, result);
}

}  // namespace fathom::cli
