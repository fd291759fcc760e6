#include "bench/metrics.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/check.h"

namespace fathom::bench {

double percentile_sorted(const std::vector<double>& v, double q) {
  FATHOM_CHECK(!v.empty());
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

LatencyStats latency_stats_ms(std::vector<double> v) {
  LatencyStats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  s.mean = mean * 1000;
  s.std = std::sqrt(var / static_cast<double>(v.size())) * 1000;
  s.median = percentile_sorted(v, 50) * 1000;
  s.p90 = percentile_sorted(v, 90) * 1000;
  s.p95 = percentile_sorted(v, 95) * 1000;
  s.p99 = percentile_sorted(v, 99) * 1000;
  s.max = v.back() * 1000;
  return s;
}

namespace {

// Text-chunk arrival times of one request (start + ttft, then + each ITL).
template <typename F>
void for_each_chunk_time(const RequestResult& r, F&& f) {
  double t = r.start_time + r.ttft;
  f(t);
  for (double gap : r.itl) f(t += gap);
}

}  // namespace

std::vector<double> output_tokens_over_time(const std::vector<RequestResult>& results, double width,
                                            double duration) {
  FATHOM_CHECK(width > 0);
  const size_t n = static_cast<size_t>(std::ceil(std::max(duration, width) / width));
  std::vector<double> buckets(n, 0.0);
  for (const RequestResult& r : results) {
    if (!r.success || r.output_len <= 0) continue;
    const double per_chunk = static_cast<double>(r.output_len) / static_cast<double>(r.itl.size() + 1);
    for_each_chunk_time(r, [&](double t) {
      const size_t i = std::min(n - 1, static_cast<size_t>(std::max(0.0, t) / width));
      buckets[i] += per_chunk;
    });
  }
  return buckets;
}

Metrics compute_metrics(const std::vector<RequestResult>& results, double duration) {
  Metrics m;
  m.duration = duration;
  std::vector<double> ttfts, tpots, itls, e2els;
  std::vector<std::pair<double, int>> edges;  // (time, +1 start / -1 end) of every request
  for (const RequestResult& r : results) {
    edges.emplace_back(r.start_time, +1);
    edges.emplace_back(r.start_time + r.latency, -1);
    if (!r.success) {
      ++m.failed;
      continue;
    }
    ++m.completed;
    m.total_input += r.prompt_len;
    m.total_output += std::max<int64_t>(0, r.output_len);
    ttfts.push_back(r.ttft);
    e2els.push_back(r.latency);
    if (r.output_len > 1) tpots.push_back((r.latency - r.ttft) / static_cast<double>(r.output_len - 1));
    itls.insert(itls.end(), r.itl.begin(), r.itl.end());
  }
  if (duration > 0) {
    m.request_throughput = static_cast<double>(m.completed) / duration;
    m.input_throughput = static_cast<double>(m.total_input) / duration;
    m.output_throughput = static_cast<double>(m.total_output) / duration;
    m.total_token_throughput = static_cast<double>(m.total_input + m.total_output) / duration;
    double sum_e2e = 0;
    for (double x : e2els) sum_e2e += x;
    m.concurrency = sum_e2e / duration;
  }
  if (duration > 0) {
    for (double b : output_tokens_over_time(results, 1.0, duration)) {
      m.max_output_tokens_per_s = std::max(m.max_output_tokens_per_s, b);
    }
  }
  std::sort(edges.begin(), edges.end());  // at equal times ends (-1) come first
  int64_t in_flight = 0;
  for (const auto& e : edges) {
    in_flight += e.second;
    m.max_concurrent_requests = std::max(m.max_concurrent_requests, in_flight);
  }
  m.ttft = latency_stats_ms(std::move(ttfts));
  m.tpot = latency_stats_ms(std::move(tpots));
  m.itl = latency_stats_ms(std::move(itls));
  m.e2el = latency_stats_ms(std::move(e2els));
  return m;
}

}  // namespace fathom::bench
