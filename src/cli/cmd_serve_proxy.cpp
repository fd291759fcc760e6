// `fathom serve proxy`: LMDeploy's `lmdeploy serve proxy` flags (--server-name, --server-port, --strategy, also
// spelled --routing-strategy, --api-keys) plus the health and timeout knobs LMDeploy lacks.
#include <cstdio>

#include "cli/commands.h"
#include "http/io_runtime.h"
#include "proxy/proxy_server.h"

namespace fathom::cli {

namespace {

struct ProxyArgs {
  std::string host = "0.0.0.0";
  int port = 8000;
  std::string strategy = "min_expected_latency";
  std::vector<std::string> api_keys;
  int threads = 2;
  uint64_t seed = 0;
  double health_interval = 1.0;
  double health_timeout = 1.0;
  double connect_timeout = 2.0;
  double request_timeout = 600.0;
  int breaker_failures = 3;
  double breaker_cooldown = 5.0;
  std::string log_level = "WARNING";
};

std::chrono::milliseconds ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

int run_proxy(const ProxyArgs& a) {
  auto kind = proxy::parse_strategy(a.strategy);
  if (!kind) {
    std::fprintf(stderr, "error: %s\n", kind.error().c_str());
    return 2;
  }
  proxy::ProxyOptions o;
  o.host = a.host;
  o.port = static_cast<uint16_t>(a.port);
  o.strategy = *kind;
  o.api_keys = a.api_keys;
  o.n_threads = a.threads;
  o.seed = a.seed;
  o.health_interval = ms(a.health_interval);
  o.health_timeout = ms(a.health_timeout);
  o.forward.connect_timeout = ms(a.connect_timeout);
  o.forward.request_timeout = ms(a.request_timeout);
  o.health.breaker_failures = a.breaker_failures;
  o.health.breaker_cooldown = ms(a.breaker_cooldown);
  auto proxy = proxy::ProxyServer::start(o);
  if (!proxy) {
    std::fprintf(stderr, "error: %s\n", proxy.error().c_str());
    return 1;
  }
  std::printf("fathom proxy listening on http://%s:%u (strategy %s)\n", a.host.c_str(),
              static_cast<unsigned>((*proxy)->port()), std::string(proxy::strategy_name(*kind)).c_str());
  std::fflush(stdout);
  http::wait_for_termination_signal();
  (*proxy)->stop(std::chrono::milliseconds(5000));
  return 0;
}

}  // namespace

void add_serve_proxy(CLI::App& serve, RunResult& result) {
  auto args = std::make_shared<ProxyArgs>();
  CLI::App* cmd = serve.add_subcommand("proxy", "Route requests over many api_servers (LMDeploy-compatible)");
  cmd->add_option("--server-name", args->host, "Bind address")->capture_default_str();
  cmd->add_option("--server-port", args->port, "Bind port (0: any free port, printed)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--strategy,--routing-strategy", args->strategy,
                  "random | min_expected_latency | min_observed_latency | round_robin | cache_aware")
      ->capture_default_str();
  cmd->add_option("--api-keys", args->api_keys, "Accepted bearer keys (none: no authentication)");
  cmd->add_option("--threads", args->threads, "io threads")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the random strategies (0: from the clock)");
  cmd->add_option("--health-interval", args->health_interval, "Seconds between /health probes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--health-timeout", args->health_timeout, "Seconds a probe may take")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--connect-timeout", args->connect_timeout, "Seconds to connect to a node")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--request-timeout", args->request_timeout,
                  "Seconds to a node's response head, and between two body reads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--breaker-failures", args->breaker_failures, "Consecutive failures that take a node out")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--breaker-cooldown", args->breaker_cooldown, "Seconds before such a node is tried again")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--log-level", args->log_level, "Accepted for LMDeploy compatibility");
  for (CLI::Option* opt : cmd->get_options()) {
    if (opt->get_name() != "--api-keys") opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // last wins
  }
  cmd->callback([args, &result] { result.exit_code = run_proxy(*args); });
}

}  // namespace fathom::cli
