// Console block, JSON and markdown row (report.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "bench/report.h"

namespace fathom::bench {

namespace {

constexpr int kWidth = 50;

// Python's '{s:{c}^{n}}'.format(...): the left side gets the smaller half of the padding.
std::string center(const std::string& s, char fill) {
  if (static_cast<int>(s.size()) >= kWidth) return s;
  const size_t pad = kWidth - s.size();
  return std::string(pad / 2, fill) + s + std::string(pad - pad / 2, fill);
}

// '{:<40} {:<10}'.
std::string line(const std::string& label, const std::string& value) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-40s %-10s\n", label.c_str(), value.c_str());
  return buf;
}

std::string f2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string rate_text(double r) { return std::isfinite(r) ? f2(r) : "inf"; }

void latency_block(std::string& out, const char* title, const char* name, const LatencyStats& s, bool full) {
  out += center(title, '-') + "\n";
  out += line(std::string("Mean ") + name + " (ms):", f2(s.mean));
  out += line(std::string("Median ") + name + " (ms):", f2(s.median));
  if (full) out += line(std::string("P95 ") + name + " (ms):", f2(s.p95));
  out += line(std::string("P99 ") + name + " (ms):", f2(s.p99));
  if (full) out += line(std::string("Max ") + name + " (ms):", f2(s.max));
}

void stats_json(const LatencyStats& s, const std::string& name, nlohmann::json& j) {
  j["mean_" + name + "_ms"] = s.mean;
  j["median_" + name + "_ms"] = s.median;
  j["std_" + name + "_ms"] = s.std;
  j["p90_" + name + "_ms"] = s.p90;
  j["p95_" + name + "_ms"] = s.p95;
  j["p99_" + name + "_ms"] = s.p99;
  j["max_" + name + "_ms"] = s.max;
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> failure_summary(const std::vector<RequestResult>& results) {
  std::map<std::string, int64_t> by_error;
  for (const RequestResult& r : results) {
    if (!r.success) ++by_error[r.error.substr(0, 200)];
  }
  std::vector<std::pair<std::string, int64_t>> out(by_error.begin(), by_error.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

std::string format_console(const SweepPoint& p) {
  const RunInfo& i = p.info;
  const Metrics& m = p.metrics;
  std::string out = center(" Serving Benchmark Result ", '=') + "\n";
  out += line("Backend:", i.backend);
  out += line("Traffic request rate:", rate_text(i.request_rate));
  out += line("Max request concurrency:", i.max_concurrency > 0 ? std::to_string(i.max_concurrency) : "not set");
  out += line("Successful requests:", std::to_string(m.completed));
  out += line("Failed requests:", std::to_string(m.failed));
  out += line("Benchmark duration (s):", f2(m.duration));
  out += line("Total input tokens:", std::to_string(m.total_input));
  out += line("Total input text tokens:", std::to_string(m.total_input));
  out += line("Total input vision tokens:", "0");
  out += line("Total generated tokens:", std::to_string(m.total_output));
  out += line("Total generated tokens (retokenized):",
              m.total_output_retokenized >= 0 ? std::to_string(m.total_output_retokenized) : "n/a");
  out += line("Request throughput (req/s):", f2(m.request_throughput));
  out += line("Input token throughput (tok/s):", f2(m.input_throughput));
  out += line("Output token throughput (tok/s):", f2(m.output_throughput));
  out += line("Total token throughput (tok/s):", f2(m.total_token_throughput));
  out += line("Peak output token throughput (tok/s):", f2(m.max_output_tokens_per_s));
  out += line("Peak concurrent requests:", std::to_string(m.max_concurrent_requests));
  out += line("Concurrency:", f2(m.concurrency));
  if (i.nodes > 1) {
    out += line("Nodes:", std::to_string(i.nodes));
    out += line("Per-node input token throughput (tok/s):", f2(m.input_throughput / i.nodes));
    out += line("Per-node output token throughput (tok/s):", f2(m.output_throughput / i.nodes));
  }
  const double n_req = static_cast<double>(m.completed + m.failed);
  out += line("Client CPU per request (us):", f2(n_req > 0 ? i.client_cpu_s / n_req * 1e6 : 0.0));
  latency_block(out, "End-to-End Latency", "E2E Latency", m.e2el, false);
  latency_block(out, "Time to First Token", "TTFT", m.ttft, false);
  latency_block(out, "Time per Output Token (excl. 1st token)", "TPOT", m.tpot, false);
  latency_block(out, "Inter-token Latency", "ITL", m.itl, true);
  out += std::string(kWidth, '=') + "\n";
  auto failures = failure_summary(p.results);
  if (!failures.empty()) {
    out += "Failed requests by error:\n";
    size_t shown = 0;
    for (const auto& [err, n] : failures) {
      if (++shown > 10) {
        out += "  ... " + std::to_string(failures.size() - 10) + " more distinct errors (see --output-json)\n";
        break;
      }
      out += "  " + std::to_string(n) + " x " + err + "\n";
    }
  }
  return out;
}

nlohmann::json to_json(const SweepPoint& p) {
  const RunInfo& i = p.info;
  const Metrics& m = p.metrics;
  nlohmann::json j;
  j["backend"] = i.backend;
  j["base_url"] = i.base_url;
  j["model_id"] = i.model;
  j["dataset_name"] = i.dataset_name;
  j["num_prompts"] = i.num_prompts;
  j["random_input_len"] = i.random_input_len;
  j["random_output_len"] = i.random_output_len;
  j["random_range_ratio"] = i.random_range_ratio;
  j["request_rate"] = std::isfinite(i.request_rate) ? nlohmann::json(i.request_rate) : nlohmann::json("inf");
  j["max_concurrency"] = i.max_concurrency > 0 ? nlohmann::json(i.max_concurrency) : nlohmann::json(nullptr);
  j["nodes"] = i.nodes;
  j["duration"] = m.duration;
  j["completed"] = m.completed;
  j["failed"] = m.failed;
  j["total_input_tokens"] = m.total_input;
  j["total_output_tokens"] = m.total_output;
  j["total_output_tokens_retokenized"] = m.total_output_retokenized;
  j["request_throughput"] = m.request_throughput;
  j["input_throughput"] = m.input_throughput;
  j["output_throughput"] = m.output_throughput;
  j["total_token_throughput"] = m.total_token_throughput;
  j["per_node_input_throughput"] = m.input_throughput / std::max(1, i.nodes);
  j["per_node_output_throughput"] = m.output_throughput / std::max(1, i.nodes);
  j["max_output_tokens_per_s"] = m.max_output_tokens_per_s;
  j["max_concurrent_requests"] = m.max_concurrent_requests;
  j["concurrency"] = m.concurrency;
  stats_json(m.ttft, "ttft", j);
  stats_json(m.tpot, "tpot", j);
  stats_json(m.itl, "itl", j);
  stats_json(m.e2el, "e2el", j);
  const double n_req = static_cast<double>(m.completed + m.failed);
  j["client_cpu_s"] = i.client_cpu_s;
  j["client_cpu_per_request_us"] = n_req > 0 ? i.client_cpu_s / n_req * 1e6 : 0.0;
  j["client_connections_opened"] = i.n_connects;
  j["monotonic_t0"] = i.monotonic_t0;
  nlohmann::json input_lens = nlohmann::json::array(), output_lens = nlohmann::json::array(),
                 ttfts = nlohmann::json::array(), itls = nlohmann::json::array(), e2els = nlohmann::json::array(),
                 starts = nlohmann::json::array(), texts = nlohmann::json::array(), errors = nlohmann::json::array();
  for (const RequestResult& r : p.results) {
    input_lens.push_back(r.prompt_len);
    output_lens.push_back(r.success ? std::max<int64_t>(0, r.output_len) : 0);
    ttfts.push_back(r.success ? r.ttft : 0.0);
    itls.push_back(r.itl);
    e2els.push_back(r.latency);
    starts.push_back(r.start_time);
    texts.push_back(r.generated_text);
    errors.push_back(r.error);
  }
  j["input_lens"] = std::move(input_lens);
  j["output_lens"] = std::move(output_lens);
  j["ttfts"] = std::move(ttfts);
  j["itls"] = std::move(itls);
  j["e2els"] = std::move(e2els);
  j["start_times"] = std::move(starts);
  j["generated_texts"] = std::move(texts);
  j["errors"] = std::move(errors);
  return j;
}

std::string markdown_header() {
  return "| max bsz | prompt no | input-len | output-len | per node input token thr (tok/s) | "
         "per node output token thr (tok/s) |\n|---|---|---|---|---|---|\n";
}

std::string markdown_row(const SweepPoint& p) {
  const RunInfo& i = p.info;
  const int nodes = std::max(1, i.nodes);
  char buf[256];
  std::snprintf(buf, sizeof buf, "| %s | %d | %d | %d | %.0f | %.0f |\n", i.max_bsz.c_str(), i.num_prompts,
                i.random_input_len, i.random_output_len, p.metrics.input_throughput / nodes,
                p.metrics.output_throughput / nodes);
  return buf;
}

}  // namespace fathom::bench
