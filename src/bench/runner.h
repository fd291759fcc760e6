// Drives one benchmark run over the async HTTP client: requests leave at Poisson arrival times (all at t = 0 when
// the rate is infinite), at most max_concurrency in flight, each timed by a StreamTimer from the io thread that
// receives its bytes. The dispatching thread never touches a response; io threads never block.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bench/backend.h"
#include "bench/bench_types.h"
#include "core/status.h"
#include "http/client.h"

namespace fathom::bench {

struct Endpoint {
  std::string host;
  uint16_t port = 23333;
  std::string prefix;  // path before /v1/... (from --base-url), no trailing '/'
  std::string api_key;  // sent as "Authorization: Bearer <key>" when not empty
};
// "http://host[:port][/prefix]".
Expected<Endpoint> parse_endpoint(const std::string& base_url);

struct RunOptions {
  Backend backend = Backend::kLmdeploy;
  PayloadOptions payload;
  double request_rate = std::numeric_limits<double>::infinity();  // req/s; inf: all at once
  int max_concurrency = 0;  // 0: unlimited
  uint64_t seed = 1;        // of the arrival process
  bool progress = false;
  std::string progress_label = "bench";
};

struct RunOutput {
  std::vector<RequestResult> results;  // in request order
  double duration = 0;                 // s: first dispatch → last completion
  double client_cpu_s = 0;             // user + system CPU this process spent during the run
  uint64_t n_connects = 0;             // TCP connections opened during the run
  double monotonic_t0 = 0;             // the run's time 0 on CLOCK_MONOTONIC (s), to line up with server logs
};

// The dispatch offsets (s from the start) for n requests: 0 for all when rate is infinite, else request i leaves
// after i exponential gaps of mean 1/rate (profile_restful_api.py sleeps one gap after each request).
std::vector<double> arrival_offsets(size_t n, double rate, uint64_t seed);

RunOutput run_requests(http::HttpClient& client, const Endpoint& ep, const std::vector<BenchRequest>& requests,
                       const RunOptions& o);

// GET /v1/models → data[0].id (what profile_restful_api.py uses when --model is not given).
Expected<std::string> query_model_name(http::HttpClient& client, const Endpoint& ep);

// Raises the soft limit on open files to the hard limit (each stream holds a socket); returns the new soft limit.
uint64_t raise_open_file_limit();

}  // namespace fathom::bench
