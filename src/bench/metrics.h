// Aggregates of a run, defined as vLLM's `calculate_metrics` and LMDeploy's profile_restful_api.py define them.
// Only successful requests contribute to the token totals and latency statistics; failures are counted (and their
// errors kept) in `failed`. All latency statistics are in milliseconds; empty lists give 0.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_types.h"

namespace fathom::bench {

struct LatencyStats {
  double mean = 0, median = 0, std = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;  // ms
};

// Mean, median, population std, percentiles by linear interpolation (numpy.percentile's default), in ms from
// values in seconds.
LatencyStats latency_stats_ms(std::vector<double> seconds);
// numpy.percentile(values, q) with linear interpolation; values must be sorted ascending and non-empty.
double percentile_sorted(const std::vector<double>& sorted, double q);

struct Metrics {
  int64_t completed = 0;
  int64_t failed = 0;
  double duration = 0;  // s: first dispatch → last completion
  int64_t total_input = 0;              // Σ nominal prompt_len
  int64_t total_output = 0;             // Σ output_len (usage, else requested under ignore_eos, else retokenized)
  int64_t total_output_retokenized = -1;  // Σ tokens of the generated text; -1 when not computed
  double request_throughput = 0, input_throughput = 0, output_throughput = 0, total_token_throughput = 0;
  double concurrency = 0;  // SGLang's "Concurrency": Σ E2E / duration
  double max_output_tokens_per_s = 0;  // the busiest whole second (vLLM's peak output throughput)
  int64_t max_concurrent_requests = 0;  // most requests in flight at once
  LatencyStats ttft, tpot, itl, e2el;
};

// duration: seconds from the first dispatch to the last completion.
Metrics compute_metrics(const std::vector<RequestResult>& results, double duration);

// Output tokens per time bucket over the run (each request's tokens spread evenly over its text chunks);
// bucket i covers [i*width, (i+1)*width).
std::vector<double> output_tokens_over_time(const std::vector<RequestResult>& results, double width,
                                            double duration);

}  // namespace fathom::bench
