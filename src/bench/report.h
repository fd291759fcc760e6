// The outputs of a serving benchmark: the LMDeploy/SGLang console block (same labels, plus vLLM's failed and peak
// lines), a JSON object with vLLM's --save-result keys, the seed report's markdown row, and a self-contained HTML
// page with SVG charts.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_types.h"
#include "bench/metrics.h"

namespace fathom::bench {

// What was run (stated in every report beside the numbers).
struct RunInfo {
  std::string backend;
  std::string base_url;
  std::string model;
  std::string dataset_name;
  double request_rate = 0;  // inf when all requests start at once
  int max_concurrency = 0;  // 0: not set
  int num_prompts = 0;
  int random_input_len = 0, random_output_len = 0;  // the sweep point (random dataset)
  double random_range_ratio = 0;
  std::pair<int, int> input_range{0, 0}, output_range{0, 0};  // effective [low, high] of sampled lengths
  int nodes = 1;
  std::string max_bsz;   // the markdown row's first column
  double client_cpu_s = 0;
  uint64_t n_connects = 0;
  double monotonic_t0 = 0;  // steady clock (CLOCK_MONOTONIC) seconds at the run's time 0
};

struct SweepPoint {
  RunInfo info;
  Metrics metrics;
  std::vector<RequestResult> results;
};

std::string format_console(const SweepPoint& p);
nlohmann::json to_json(const SweepPoint& p);
std::string markdown_header();
std::string markdown_row(const SweepPoint& p);
std::string render_html(const std::vector<SweepPoint>& points);

// Failed requests grouped by error text (the first 200 characters), most frequent first.
std::vector<std::pair<std::string, int64_t>> failure_summary(const std::vector<RequestResult>& results);

}  // namespace fathom::bench
