// `fathom bench serve` end to end: build the dataset, optionally warm up, run every sweep point (each
// --random-input-len × --random-output-len pair, or one ShareGPT run), print the console block per point and the
// markdown table at the end, and write the JSON and HTML reports.
#pragma once
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/backend.h"
#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace fathom::bench {

struct ServeBenchOptions {
  Backend backend = Backend::kLmdeploy;
  std::string base_url;  // http://host:port[/prefix]
  std::string api_key;
  std::string model;     // empty: GET /v1/models
  std::string dataset_name = "sharegpt";
  std::string dataset_path;
  int num_prompts = 1000;
  int sharegpt_output_len = -1;
  std::vector<int> random_input_lens, random_output_lens;
  double random_range_ratio = 0.0;
  double request_rate = std::numeric_limits<double>::infinity();
  int max_concurrency = 0;
  uint64_t seed = 1;
  int nodes = 1;
  std::string max_bsz;  // markdown column; empty: --max-concurrency or "-"
  bool stream = true;
  bool ignore_eos = true;
  nlohmann::json extra_body = nlohmann::json::object();
  bool warmup = true;
  bool progress = true;
  int client_threads = 2;
  std::string output_json;
  std::string report_html;
  std::string output_markdown;
};

// Prints to `out` (console blocks and the markdown table) and progress to stderr. Errors name the flag or file.
Status run_serve_benchmark(const ServeBenchOptions& o, const Tokenizer& tok, std::FILE* out);

}  // namespace fathom::bench
