// `fathom serve api_server [MODEL]`: LMDeploy's `lmdeploy serve api_server` flags (DESIGN.md §1) over
// server/api_server.h. Prints "fathom api_server listening on http://HOST:PORT" as soon as the port is bound
// (/health answers 503 while the model loads), then "ready" once requests are served; SIGINT/SIGTERM drain and stop.
#include <sys/resource.h>

#include <cstdio>

#include "cli/commands.h"
#include "engine/engine_factory.h"
#include "http/io_runtime.h"
#include "model/model_dir.h"
#include "server/api_server.h"

namespace fathom::cli {

void add_engine_options(CLI::App* cmd, EngineOptions& o);  // cmd_generate.cpp

namespace {

struct ApiServerArgs {
  std::string model;
  server::ApiServerOptions o;
  int port = 23333;
  int tp = 1, dp = 1, ep = 1;
  std::string speculative_algorithm;
  int speculative_num_draft_tokens = 1;
  std::string backend = "pytorch";
  std::string log_level = "WARNING";
  double shutdown_grace = 10.0;
  double header_timeout = 30.0;
  double body_timeout = 60.0;
};

// Thousands of open streams need as many descriptors: raise the soft limit to the hard one.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int run_api_server(ApiServerArgs& a) {
  raise_fd_limit();
  if (!a.speculative_algorithm.empty()) {
    std::fprintf(stderr, "error: --speculative-algorithm %s is not supported yet\n", a.speculative_algorithm.c_str());
    return 2;
  }
  auto dir = resolve_model_dir(a.model);
  if (!dir) {
    std::fprintf(stderr, "error: %s\n", dir.error().c_str());
    return 1;
  }
  a.o.model_dir = *dir;
  // Under mpirun: --tp N → rank 0 serves HTTP, the other ranks replay its steps; --dp N --ep N → every rank is
  // an api_server on base port + 10 × rank with its own scheduler, experts shared (docs/distributed.md).
  a.o.engine.tp = a.tp;
  a.o.engine.dp = a.dp;
  a.o.engine.ep = a.ep;
  if (Status st = init_dist(a.o.engine); !st) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 2;
  }
  if (!rank_serves(a.o.engine)) return run_dist_worker(*dir, a.o.engine);
  if (a.o.engine.dp > 1 && a.port != 0) a.port += 10 * a.o.engine.comm->rank();
  if (a.o.model_name.empty()) a.o.model_name = a.model.empty() ? "fathom-tiny" : a.model;
  a.o.port = static_cast<uint16_t>(a.port);
  auto ms = [](double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000)); };
  a.o.shutdown_grace = ms(a.shutdown_grace);
  a.o.header_timeout = ms(a.header_timeout);
  a.o.body_timeout = ms(a.body_timeout);
  auto srv = server::ApiServer::listen(a.o);
  if (!srv) {
    std::fprintf(stderr, "error: %s\n", srv.error().c_str());
    return 1;
  }
  std::printf("fathom api_server listening on http://%s:%u\n", a.o.host.c_str(), static_cast<unsigned>((*srv)->port()));
  std::fflush(stdout);
  if (Status st = (*srv)->load(); !st) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    (*srv)->stop();
    return 1;
  }
  std::printf("ready: model %s\n", a.o.model_name.c_str());
  std::fflush(stdout);
  http::wait_for_termination_signal();
  (*srv)->stop();
  return 0;
}

}  // namespace

void add_serve_api_server(CLI::App& serve, RunResult& result) {
  auto a = std::make_shared<ApiServerArgs>();
  CLI::App* cmd = serve.add_subcommand("api_server", "Serve a model behind an OpenAI-compatible API (LMDeploy flags)");
  cmd->add_option("model", a->model, "HF-format model folder (default: the embedded tiny model)");
  cmd->add_option("--server-name", a->o.host, "Bind address (also the address registered with --proxy-url)")
      ->capture_default_str();
  cmd->add_option("--server-port", a->port, "Bind port (0: any free port, printed)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--model-name", a->o.model_name, "Name served by /v1/models and required in requests");
  cmd->add_option("--api-keys", a->o.api_keys, "Accepted bearer keys (none: no authentication)");
  cmd->add_option("--allow-origins", a->o.allow_origins, "CORS origins ('*': any)")->capture_default_str();
  cmd->add_flag("--allow-credentials", a->o.allow_credentials, "CORS: allow credentials");
  cmd->add_option("--proxy-url", a->o.proxy_url, "Register with this proxy (/nodes/add) once ready");
  cmd->add_option("--reasoning-parser", a->o.reasoning_parser, "deepseek-r1: <think>…</think> → reasoning_content");
  cmd->add_option("--tool-call-parser", a->o.tool_call_parser, "deepseek-v3: tool-call tokens → tool_calls");
  cmd->add_option("--tp", a->tp, "Tensor parallel ranks")->capture_default_str();
  cmd->add_option("--dp", a->dp, "Data parallel ranks")->capture_default_str();
  cmd->add_option("--ep", a->ep, "Expert parallel ranks")->capture_default_str();
  cmd->add_option("--speculative-algorithm", a->speculative_algorithm, "deepseek_mtp (not yet supported)");
  cmd->add_option("--speculative-num-draft-tokens", a->speculative_num_draft_tokens, "Draft tokens per step");
  cmd->add_option("--backend", a->backend, "Accepted for LMDeploy compatibility (one backend)");
  cmd->add_option("--log-level", a->log_level, "Accepted for LMDeploy compatibility");
  cmd->add_option("--io-threads", a->o.n_io_threads, "HTTP io threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--prepare-threads", a->o.n_prepare_threads, "Threads that parse and tokenize requests")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", a->o.max_body_bytes, "Largest request body (413 above)")->capture_default_str();
  cmd->add_option("--shutdown-grace", a->shutdown_grace, "Seconds in-flight requests get to finish on SIGTERM")
      ->capture_default_str();
  cmd->add_option("--header-timeout", a->header_timeout, "Seconds a client gets to send a request's headers")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--body-timeout", a->body_timeout, "Seconds a client gets to send a request's body")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_engine_options(cmd, a->o.engine);
  for (CLI::Option* opt : cmd->get_options()) {
    const std::string& n = opt->get_name();
    if (n != "--api-keys" && n != "--allow-origins") opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  cmd->callback([a, &result] { result.exit_code = run_api_server(*a); });
}

}  // namespace fathom::cli
