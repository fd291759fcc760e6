// The HTML report (report.h): one self-contained page, a section per sweep point with the key figures, the
// failures, and SVG charts of TTFT and ITL distributions and of output throughput and requests in flight over time.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bench/report.h"
#include "bench/svg_chart.h"

namespace fathom::bench {

namespace {

std::string f2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string row(const std::string& k, const std::string& v) {
  return "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(v) + "</td></tr>";
}

// Requests in flight sampled at each bucket start.
std::vector<double> in_flight_over_time(const std::vector<RequestResult>& results, double width, size_t n) {
  std::vector<double> out(n, 0.0);
  for (const RequestResult& r : results) {
    const double end = r.start_time + r.latency;
    for (size_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) * width;
      if (r.start_time <= t && t < end) out[i] += 1;
    }
  }
  return out;
}

std::string section(const SweepPoint& p, size_t index) {
  const RunInfo& i = p.info;
  const Metrics& m = p.metrics;
  std::string s = "<section class=\"point\"><h2>Run " + std::to_string(index + 1) + ": " + html_escape(i.dataset_name) +
                  ", input " + std::to_string(i.random_input_len) + ", output " + std::to_string(i.random_output_len) +
                  "</h2>";
  s += "<table class=\"figures\">";
  s += row("Backend", i.backend) + row("Base URL", i.base_url) + row("Model", i.model);
  s += row("Request rate (req/s)", std::isfinite(i.request_rate) ? f2(i.request_rate) : "inf");
  s += row("Max concurrency", i.max_concurrency > 0 ? std::to_string(i.max_concurrency) : "not set");
  s += row("Successful / failed requests", std::to_string(m.completed) + " / " + std::to_string(m.failed));
  s += row("Benchmark duration (s)", f2(m.duration));
  s += row("Total input / generated tokens", std::to_string(m.total_input) + " / " + std::to_string(m.total_output));
  s += row("Request throughput (req/s)", f2(m.request_throughput));
  s += row("Input token throughput (tok/s)", f2(m.input_throughput));
  s += row("Output token throughput (tok/s)", f2(m.output_throughput));
  if (i.nodes > 1) {
    s += row("Per-node input / output token throughput (tok/s)",
             f2(m.input_throughput / i.nodes) + " / " + f2(m.output_throughput / i.nodes));
  }
  s += row("TTFT mean / median / P99 (ms)", f2(m.ttft.mean) + " / " + f2(m.ttft.median) + " / " + f2(m.ttft.p99));
  s += row("TPOT mean / median / P99 (ms)", f2(m.tpot.mean) + " / " + f2(m.tpot.median) + " / " + f2(m.tpot.p99));
  s += row("ITL mean / median / P99 (ms)", f2(m.itl.mean) + " / " + f2(m.itl.median) + " / " + f2(m.itl.p99));
  s += row("E2E mean / median / P99 (ms)", f2(m.e2el.mean) + " / " + f2(m.e2el.median) + " / " + f2(m.e2el.p99));
  s += "</table>";
  auto failures = failure_summary(p.results);
  if (!failures.empty()) {
    s += "<h3 class=\"failures\">Failed requests</h3><ul class=\"failures\">";
    for (size_t k = 0; k < failures.size() && k < 20; ++k) {
      s += "<li>" + std::to_string(failures[k].second) + " &times; " + html_escape(failures[k].first) + "</li>";
    }
    s += "</ul>";
  }
  std::vector<double> ttfts, itls;
  for (const RequestResult& r : p.results) {
    if (!r.success) continue;
    ttfts.push_back(r.ttft * 1000);
    for (double g : r.itl) itls.push_back(g * 1000);
  }
  s += "<div class=\"charts\">";
  s += svg_histogram(ttfts, 40, {"Time to first token", "TTFT (ms)", "requests"});
  s += svg_histogram(itls, 40, {"Inter-token latency", "ITL (ms)", "gaps"});
  const double width = std::max(0.05, m.duration / 100.0);
  const std::vector<double> buckets = output_tokens_over_time(p.results, width, m.duration);
  std::vector<double> xs(buckets.size()), tput(buckets.size());
  for (size_t k = 0; k < buckets.size(); ++k) {
    xs[k] = static_cast<double>(k) * width;
    tput[k] = buckets[k] / width;
  }
  s += svg_line_chart(xs, tput, {"Output throughput over time", "time (s)", "tok/s"});
  s += svg_line_chart(xs, in_flight_over_time(p.results, width, xs.size()),
                      {"Requests in flight", "time (s)", "requests"});
  s += "</div></section>";
  return s;
}

}  // namespace

std::string render_html(const std::vector<SweepPoint>& points) {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>fathom bench serve report</title>"
      "<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}"
      "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f4f4f4;font-weight:normal}"
      ".charts svg{margin:6px;border:1px solid #ddd}.failures{color:#a00}</style></head><body>"
      "<h1>Serving benchmark</h1>";
  s += "<table class=\"summary\"><tr><th>max bsz</th><th>prompt no</th><th>input-len</th><th>output-len</th>"
       "<th>per node input token thr (tok/s)</th><th>per node output token thr (tok/s)</th><th>failed</th></tr>";
  for (const SweepPoint& p : points) {
    const int nodes = std::max(1, p.info.nodes);
    s += "<tr><td>" + html_escape(p.info.max_bsz) + "</td><td>" + std::to_string(p.info.num_prompts) + "</td><td>" +
         std::to_string(p.info.random_input_len) + "</td><td>" + std::to_string(p.info.random_output_len) +
         "</td><td>" + f2(p.metrics.input_throughput / nodes) + "</td><td>" + f2(p.metrics.output_throughput / nodes) +
         "</td><td>" + std::to_string(p.metrics.failed) + "</td></tr>";
  }
  s += "</table>";
  for (size_t k = 0; k < points.size(); ++k) s += section(points[k], k);
  s += "</body></html>\n";
  return s;
}

}  // namespace fathom::bench
