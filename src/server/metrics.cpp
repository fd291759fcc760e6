#include "server/metrics.h"

#include <cstdio>

namespace fathom::server {

void Histogram::observe(double seconds) {
  size_t k = 0;
  while (k < kBounds.size() && seconds > kBounds[k]) ++k;
  counts_[k].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds > 0 ? seconds * 1e6 : 0), std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const char* name, const char* help) const {
  char line[256];
  std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  out += line;
  uint64_t cumulative = 0;
  for (size_t k = 0; k <= kBounds.size(); ++k) {
    cumulative += counts_[k].load(std::memory_order_relaxed);
    if (k < kBounds.size()) {
      std::snprintf(line, sizeof line, "%s_bucket{le=\"%g\"} %llu\n", name, kBounds[k],
                    static_cast<unsigned long long>(cumulative));
    } else {
      std::snprintf(line, sizeof line, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                    static_cast<unsigned long long>(cumulative));
    }
    out += line;
  }
  std::snprintf(line, sizeof line, "%s_sum %.6f\n%s_count %llu\n", name,
                static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6, name,
                static_cast<unsigned long long>(cumulative));
  out += line;
}

std::string ServerMetrics::render(const EngineStats* stats, const std::string& model_name,
                                  int64_t n_admission_waiting) const {
  std::string out;
  char line[320];
  auto one = [&](const char* name, const char* type, const char* help, double value) {
    std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
    out += line;
  };
  std::snprintf(line, sizeof line, "# HELP fathom:model_info The served model.\n# TYPE fathom:model_info gauge\n");
  out += line;
  std::string label = model_name;
  for (char& c : label)
    if (c == '"' || c == '\\' || c == '\n') c = '_';
  out += "fathom:model_info{model_name=\"" + label + "\"} 1\n";
  const auto ld = [](const std::atomic<int64_t>& a) { return static_cast<double>(a.load(std::memory_order_relaxed)); };
  one("fathom:request_success_total", "counter", "Requests that finished (stop or length).", ld(n_requests_success));
  one("fathom:num_requests_failed", "counter", "Requests answered with an error.", ld(n_requests_failed));
  one("fathom:num_requests_aborted", "counter", "Requests whose client went away before the end.",
      ld(n_requests_aborted));
  one("fathom:num_api_requests_in_flight", "gauge", "Generation requests being served over HTTP.", ld(n_http_in_flight));
  one("fathom:prompt_tokens_total", "counter", "Prompt tokens processed.", ld(prompt_tokens));
  one("fathom:generation_tokens_total", "counter", "Tokens generated.", ld(generation_tokens));
  one("fathom:cached_tokens_total", "counter", "Prompt tokens served from the prefix cache.", ld(cached_tokens));
  const double p = ld(prompt_tokens);
  one("fathom:prefix_cache_hit_rate", "gauge", "cached_tokens_total / prompt_tokens_total.",
      p > 0 ? ld(cached_tokens) / p : 0.0);
  if (stats) {
    one("fathom:num_requests_running", "gauge", "Sequences in the running batch.", stats->n_running);
    one("fathom:num_requests_waiting", "gauge", "Sequences waiting in the engine's queue.", stats->n_waiting);
    one("fathom:num_api_requests_waiting", "gauge", "Requests held by the server until the engine has room.",
        static_cast<double>(n_admission_waiting));
    one("fathom:cache_pages_total", "gauge", "Latent-cache pages.", stats->pages_total);
    one("fathom:cache_pages_in_use", "gauge", "Latent-cache pages referenced by live sequences.", stats->pages_in_use);
    one("fathom:cache_pages_cached", "gauge", "Unreferenced pages kept for prefix hits.", stats->pages_cached);
    one("fathom:gpu_cache_usage_perc", "gauge", "Fraction of cache pages in use (LMDeploy's name; CPU cache here).",
        stats->pages_total > 0 ? static_cast<double>(stats->pages_in_use) / stats->pages_total : 0.0);
    one("fathom:engine_steps_total", "counter", "Engine steps run.", static_cast<double>(stats->n_steps));
    one("fathom:num_preemptions_total", "counter", "Sequences preempted for lack of cache pages.",
        static_cast<double>(stats->n_preemptions));
  }
  ttft.render(out, "fathom:time_to_first_token_seconds", "Request arrival to first token.");
  tpot.render(out, "fathom:time_per_output_token_seconds", "Mean time per output token after the first.");
  e2e.render(out, "fathom:e2e_request_latency_seconds", "Request arrival to last token.");
  return out;
}

}  // namespace fathom::server
