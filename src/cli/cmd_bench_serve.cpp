// fathom bench serve: profile_restful_api.py's flags against any OpenAI-compatible server (DESIGN.md §1), plus
// --max-concurrency, --nodes (per-node figures), output-length sweeps (--random-output-len 1024,2048,4096) and
// an HTML report. The work is in src/bench (serve_benchmark.h); this file maps flags to options.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench/runner.h"
#include "bench/serve_benchmark.h"
#include "cli/commands.h"
#include "model/model_dir.h"
#include "tokenizer/tokenizer.h"

namespace fathom::cli {

namespace {

struct ServeArgs {
  std::string backend = "lmdeploy";
  std::string base_url;
  std::string host = "0.0.0.0";
  int port = -1;
  std::string dataset_name = "sharegpt";
  std::string dataset_path;
  std::string model, model_path, tokenizer;
  int num_prompts = 1000;
  int sharegpt_output_len = -1;
  std::string random_input_len, random_output_len;
  double random_range_ratio = 0.0;
  std::string request_rate = "inf";
  int max_concurrency = 0;
  uint64_t seed = 1;
  int nodes = 1;
  std::string max_bsz;
  bool disable_tqdm = false, disable_stream = false, disable_ignore_eos = false, disable_warmup = false;
  bool trust_remote_code = false;
  std::string extra_request_body;
  int client_threads = 2;
  std::string output_json, report, output_markdown;
};

Expected<std::vector<int>> parse_int_list(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  if (text.empty()) return out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > (1 << 24)) {
      return Status::error(flag + ": expected positive integers separated by commas, got '" + text + "'");
    }
    out.push_back(static_cast<int>(v));
  }
  return out;
}

int fail_with(const std::string& msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  return 2;
}

int run_bench_serve(const ServeArgs& a) {
  bench::ServeBenchOptions o;
  auto backend = bench::parse_backend(a.backend);
  if (!backend) return fail_with(backend.error());
  o.backend = *backend;
  if (!a.base_url.empty()) {
    o.base_url = a.base_url;
  } else {
    const bool lmdeploy = o.backend == bench::Backend::kLmdeploy || o.backend == bench::Backend::kLmdeployChat;
    o.base_url = "http://" + a.host + ":" + std::to_string(a.port > 0 ? a.port : lmdeploy ? 23333 : 8000);
  }
  if (const char* key = std::getenv("OPENAI_API_KEY")) o.api_key = key;
  o.model = a.model;
  o.dataset_name = a.dataset_name;
  o.dataset_path = a.dataset_path;
  o.num_prompts = a.num_prompts;
  o.sharegpt_output_len = a.sharegpt_output_len;
  auto in = parse_int_list("--random-input-len", a.random_input_len);
  if (!in) return fail_with(in.error());
  auto out = parse_int_list("--random-output-len", a.random_output_len);
  if (!out) return fail_with(out.error());
  o.random_input_lens = *in;
  o.random_output_lens = *out;
  o.random_range_ratio = a.random_range_ratio;
  if (a.request_rate == "inf") {
    o.request_rate = std::numeric_limits<double>::infinity();
  } else {
    char* end = nullptr;
    o.request_rate = std::strtod(a.request_rate.c_str(), &end);
    if (*end != '\0' || !(o.request_rate > 0)) return fail_with("--request-rate: expected inf or a positive number");
  }
  o.max_concurrency = a.max_concurrency;
  o.seed = a.seed;
  o.nodes = a.nodes;
  o.max_bsz = a.max_bsz;
  o.stream = !a.disable_stream;
  o.ignore_eos = !a.disable_ignore_eos;
  o.warmup = !a.disable_warmup;
  o.progress = !a.disable_tqdm;
  o.client_threads = a.client_threads;
  if (!a.extra_request_body.empty()) {
    o.extra_body = nlohmann::json::parse(a.extra_request_body, nullptr, false);
    if (o.extra_body.is_discarded() || !o.extra_body.is_object()) {
      return fail_with("--extra-request-body: expected a JSON object");
    }
  }
  o.output_json = a.output_json;
  o.report_html = a.report;
  o.output_markdown = a.output_markdown;

  std::string tok_dir = !a.tokenizer.empty() ? a.tokenizer : a.model_path;
  if (tok_dir.empty()) {
    auto assets = assets_dir();
    if (!assets) return fail_with(assets.error());
    tok_dir = *assets;
  }
  auto tok = Tokenizer::load(tok_dir);
  if (!tok) return fail_with("--tokenizer: " + tok.error());
  bench::raise_open_file_limit();
  Status st = bench::run_serve_benchmark(o, **tok, stdout);
  if (!st) return fail_with(st.message());
  return 0;
}

}  // namespace

void add_bench_serve_command(CLI::App& app, RunResult& result) {
  CLI::App* bench = bench_group(app);
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = bench->add_subcommand("serve", "Online serving benchmark against an OpenAI-compatible server "
                                                 "(profile_restful_api.py flags and metrics)");
  cmd->add_option("--backend", a->backend, "lmdeploy | lmdeploy-chat | openai | openai-chat")->capture_default_str();
  cmd->add_option("--base-url", a->base_url, "Server URL, e.g. http://127.0.0.1:23333 (overrides --host/--port)");
  cmd->add_option("--host", a->host, "Server host")->capture_default_str();
  cmd->add_option("--port", a->port, "Server port (default 23333 for lmdeploy backends, 8000 for openai)");
  cmd->add_option("--dataset-name", a->dataset_name, "random | sharegpt")->capture_default_str();
  cmd->add_option("--dataset-path", a->dataset_path, "ShareGPT-format JSON (also the random dataset's source text)");
  cmd->add_option("--model", a->model, "Served model name (default: the first of GET /v1/models)");
  cmd->add_option("--model-path", a->model_path, "Folder with tokenizer.json (if --tokenizer is not given)");
  cmd->add_option("--tokenizer", a->tokenizer, "Folder with tokenizer.json (default: Fathom's DeepSeek-V3 one)");
  cmd->add_option("--num-prompts", a->num_prompts, "Requests to send")->capture_default_str();
  cmd->add_option("--sharegpt-output-len", a->sharegpt_output_len, "Fixed output length for sharegpt");
  cmd->add_option("--random-input-len", a->random_input_len, "Input tokens; a list (1024,2048) sweeps");
  cmd->add_option("--random-output-len", a->random_output_len, "Output tokens; a list (1024,2048,4096) sweeps");
  cmd->add_option("--random-range-ratio", a->random_range_ratio,
                  "Lengths uniform in [max(L*r,1), L] (LMDeploy/SGLang; 1 = fixed)")->capture_default_str();
  cmd->add_option("--request-rate", a->request_rate, "Poisson arrivals per second, or inf")->capture_default_str();
  cmd->add_option("--max-concurrency", a->max_concurrency, "Requests in flight at most (default: no limit)");
  cmd->add_option("--seed", a->seed, "Dataset and arrival seed")->capture_default_str();
  cmd->add_option("--nodes", a->nodes, "Nodes behind the URL: throughput is also shown per node")
      ->capture_default_str();
  cmd->add_option("--max-bsz", a->max_bsz, "The markdown row's 'max bsz' column (the server's batch size)");
  cmd->add_flag("--disable-tqdm", a->disable_tqdm, "No progress bar");
  cmd->add_flag("--disable-stream", a->disable_stream, "Non-streaming requests (TTFT = latency)");
  cmd->add_flag("--disable-ignore-eos", a->disable_ignore_eos, "Do not send ignore_eos: true");
  cmd->add_option("--extra-request-body", a->extra_request_body, "JSON object merged into every request body");
  cmd->add_flag("--disable-warmup", a->disable_warmup, "Skip the warm-up request");
  cmd->add_flag("--trust-remote-code", a->trust_remote_code, "Accepted for compatibility (no effect)");
  cmd->add_option("--client-threads", a->client_threads, "Client io threads")->capture_default_str();
  cmd->add_option("--output-json", a->output_json, "Write results (vLLM --save-result keys)");
  cmd->add_option("--report", a->report, "Write an HTML report with SVG charts");
  cmd->add_option("--output-markdown", a->output_markdown, "Write the markdown table rows");
  cmd->callback([a, &result] { result.exit_code = run_bench_serve(*a); });
}

}  // namespace fathom::cli
