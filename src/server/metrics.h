// The api_server's Prometheus metrics (GET /metrics): request and token counters, latency histograms, and the
// engine's schedule and cache gauges read at scrape time. Names follow LMDeploy's (`lmdeploy:` → `fathom:`).
// Counters are atomics: updated from any thread without a lock.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "engine/engine.h"

namespace fathom::server {

class Histogram {
 public:
  static constexpr std::array<double, 16> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0, 300.0};
  void observe(double seconds);
  void render(std::string& out, const char* name, const char* help) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};  // the last one is +Inf
  std::atomic<uint64_t> sum_micros_{0};
};

class ServerMetrics {
 public:
  std::atomic<int64_t> n_requests_success{0};   // finished with stop or length
  std::atomic<int64_t> n_requests_failed{0};    // 4xx/5xx answers and mid-stream errors
  std::atomic<int64_t> n_requests_aborted{0};   // client disconnects
  std::atomic<int64_t> n_http_in_flight{0};     // generation requests being served
  std::atomic<int64_t> prompt_tokens{0};
  std::atomic<int64_t> generation_tokens{0};
  std::atomic<int64_t> cached_tokens{0};
  Histogram ttft;  // request arrival → first token
  Histogram tpot;  // mean time per output token after the first
  Histogram e2e;   // request arrival → last token

  // The exposition text; `stats` is the engine's latest snapshot (null while loading); `n_admission_waiting`
  // counts requests held back by the server's admission gate.
  std::string render(const EngineStats* stats, const std::string& model_name, int64_t n_admission_waiting = 0) const;
};

}  // namespace fathom::server
