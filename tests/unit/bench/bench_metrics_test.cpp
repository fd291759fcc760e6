// Metric definitions against hand-computed values: StreamTimer replays scripted chunk arrival times; metrics
// aggregate known per-request values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "bench/metrics.h"
#include "bench/runner.h"
#include "bench/stream_timer.h"

namespace fathom::bench {
namespace {

std::string sse(const std::string& json) { return "data: " + json + "\n\n"; }
std::string text_chunk(const std::string& t) { return sse(R"({"choices":[{"index":0,"text":")" + t + R"("}]})"); }

BenchRequest req(int prompt_len, int output_len) { return {"hello", prompt_len, output_len}; }

TEST(BenchStreamTimer, CompletionsTimesEachTextChunk) {
  StreamTimer t(Backend::kLmdeploy, true, true, req(10, 4), 1.0);
  t.on_status(200);
  t.on_data(1.100, text_chunk("a"));
  t.on_data(1.150, text_chunk("b"));
  t.on_data(1.250, text_chunk("cd"));
  t.on_data(1.260, "data: [DONE]\n\n");
  RequestResult r = t.finish(1.270, "");
  ASSERT_TRUE(r.success) << r.error;
  EXPECT_NEAR(r.ttft, 0.100, 1e-12);
  ASSERT_EQ(r.itl.size(), 2u);
  EXPECT_NEAR(r.itl[0], 0.050, 1e-12);
  EXPECT_NEAR(r.itl[1], 0.100, 1e-12);
  EXPECT_NEAR(r.latency, 0.260, 1e-12);  // the [DONE] event, not the end of the body
  EXPECT_EQ(r.output_len, 4);            // requested, under ignore_eos, with no usage sent
  EXPECT_EQ(r.generated_text, "abcd");
  EXPECT_EQ(r.prompt_len, 10);
}

TEST(BenchStreamTimer, UsageWinsOverRequestedLength) {
  StreamTimer t(Backend::kOpenai, true, true, req(10, 4), 0.0);
  t.on_status(200);
  t.on_data(0.1, text_chunk("x"));
  t.on_data(0.2, sse(R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":7}})"));
  t.on_data(0.2, "data: [DONE]\n\n");
  RequestResult r = t.finish(0.3, "");
  ASSERT_TRUE(r.success) << r.error;  // a usage-only chunk (choices: []) is not an error
  EXPECT_EQ(r.output_len, 7);
  EXPECT_EQ(r.usage_completion_tokens, 7);
  EXPECT_TRUE(r.itl.empty());
}

TEST(BenchStreamTimer, ChatIgnoresRoleAndReasoningChunks) {
  StreamTimer t(Backend::kLmdeployChat, true, true, req(3, 8), 0.0);
  t.on_status(200);
  t.on_data(0.05, sse(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"));
  t.on_data(0.07, sse(R"({"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]})"));
  t.on_data(0.20, sse(R"({"choices":[{"index":0,"delta":{"content":"Hi"}}]})"));
  t.on_data(0.23, sse(R"({"choices":[{"index":0,"delta":{"content":null}}]})"));
  t.on_data(0.26, sse(R"({"choices":[{"index":0,"delta":{"content":" there"}}]})"));
  RequestResult r = t.finish(0.30, "");
  ASSERT_TRUE(r.success) << r.error;
  EXPECT_NEAR(r.ttft, 0.20, 1e-12);
  ASSERT_EQ(r.itl.size(), 1u);
  EXPECT_NEAR(r.itl[0], 0.06, 1e-12);
  EXPECT_EQ(r.generated_text, "Hi there");
  EXPECT_NEAR(r.latency, 0.26, 1e-12);
}

TEST(BenchStreamTimer, EventSplitAcrossReadsIsTimedWhenComplete) {
  StreamTimer t(Backend::kLmdeploy, true, true, req(1, 2), 0.0);
  t.on_status(200);
  const std::string a = text_chunk("p"), b = text_chunk("q");
  t.on_data(0.10, a.substr(0, 7));
  t.on_data(0.30, a.substr(7) + b.substr(0, 3));
  t.on_data(0.45, b.substr(3));
  RequestResult r = t.finish(0.5, "");
  ASSERT_TRUE(r.success);
  EXPECT_NEAR(r.ttft, 0.30, 1e-12);
  ASSERT_EQ(r.itl.size(), 1u);
  EXPECT_NEAR(r.itl[0], 0.15, 1e-12);
}

TEST(BenchStreamTimer, FailuresKeepTheirReason) {
  {
    StreamTimer t(Backend::kLmdeploy, true, true, req(1, 2), 0.0);
    t.on_status(500);
    t.on_data(0.1, R"({"error":{"message":"engine exploded"}})");
    RequestResult r = t.finish(0.1, "");
    EXPECT_FALSE(r.success);
    EXPECT_NE(r.error.find("HTTP 500"), std::string::npos);
    EXPECT_NE(r.error.find("engine exploded"), std::string::npos);
  }
  {
    StreamTimer t(Backend::kLmdeploy, true, true, req(1, 2), 0.0);
    t.on_status(200);
    t.on_data(0.1, text_chunk("a"));
    RequestResult r = t.finish(0.2, "connection closed: reading the body: end of stream");
    EXPECT_FALSE(r.success);
    EXPECT_NE(r.error.find("connection closed"), std::string::npos);
  }
  {
    StreamTimer t(Backend::kLmdeploy, true, true, req(1, 2), 0.0);
    t.on_status(200);
    t.on_data(0.1, "data: {not json\n\n");
    RequestResult r = t.finish(0.2, "");
    EXPECT_FALSE(r.success);
    EXPECT_NE(r.error.find("malformed"), std::string::npos);
  }
  {
    StreamTimer t(Backend::kLmdeploy, true, true, req(1, 2), 0.0);
    t.on_status(200);
    t.on_data(0.1, "data: [DONE]\n\n");
    RequestResult r = t.finish(0.2, "");
    EXPECT_FALSE(r.success);  // nothing to time a first token by
  }
}

TEST(BenchStreamTimer, NonStreamedTtftIsTheWholeLatency) {
  StreamTimer t(Backend::kOpenaiChat, false, false, req(5, 9), 2.0);
  t.on_status(200);
  t.on_data(2.3, R"({"choices":[{"index":0,"message":{"role":"assistant","con)");
  t.on_data(2.4, R"(tent":"done"}}],"usage":{"completion_tokens":3}})");
  RequestResult r = t.finish(2.5, "");
  ASSERT_TRUE(r.success) << r.error;
  EXPECT_NEAR(r.ttft, 0.5, 1e-12);
  EXPECT_NEAR(r.latency, 0.5, 1e-12);
  EXPECT_EQ(r.output_len, 3);
}

TEST(BenchStreamTimer, WithoutUsageOrIgnoreEosTheLengthIsLeftToRetokenizing) {
  StreamTimer t(Backend::kLmdeploy, true, false, req(1, 50), 0.0);
  t.on_status(200);
  t.on_data(0.1, text_chunk("a"));
  EXPECT_EQ(t.finish(0.2, "").output_len, -1);
}

TEST(BenchMetrics, PercentileMatchesNumpyLinear) {
  // numpy.percentile([1, 2, 3, 4, 10], q): q=50 → 3, q=99 → 9.76, q=90 → 7.6
  const std::vector<double> v = {1, 2, 3, 4, 10};
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 50), 3.0);
  EXPECT_NEAR(percentile_sorted(v, 99), 9.76, 1e-12);
  EXPECT_NEAR(percentile_sorted(v, 90), 7.6, 1e-12);
  EXPECT_DOUBLE_EQ(percentile_sorted({7.0}, 99), 7.0);
}

TEST(BenchMetrics, HandComputedAggregates) {
  RequestResult a;  // 0.0 → 1.0: ttft 0.2, 5 tokens in 3 chunks
  a.success = true;
  a.prompt_len = 100;
  a.output_len = 5;
  a.start_time = 0.0;
  a.ttft = 0.2;
  a.latency = 1.0;
  a.itl = {0.3, 0.5};
  RequestResult b;  // 0.5 → 2.0: ttft 0.4, 2 tokens in 2 chunks
  b.success = true;
  b.prompt_len = 50;
  b.output_len = 2;
  b.start_time = 0.5;
  b.ttft = 0.4;
  b.latency = 1.5;
  b.itl = {1.1};
  RequestResult c;  // failed: counted, never in the totals
  c.success = false;
  c.error = "HTTP 503: busy";
  c.prompt_len = 1000;
  c.output_len = 0;
  c.start_time = 0.1;
  c.latency = 0.05;
  c.ttft = 9.0;
  const Metrics m = compute_metrics({a, b, c}, 2.0);
  EXPECT_EQ(m.completed, 2);
  EXPECT_EQ(m.failed, 1);
  EXPECT_EQ(m.total_input, 150);
  EXPECT_EQ(m.total_output, 7);
  EXPECT_DOUBLE_EQ(m.request_throughput, 1.0);
  EXPECT_DOUBLE_EQ(m.input_throughput, 75.0);
  EXPECT_DOUBLE_EQ(m.output_throughput, 3.5);
  EXPECT_DOUBLE_EQ(m.total_token_throughput, 78.5);
  EXPECT_DOUBLE_EQ(m.concurrency, 1.25);  // (1.0 + 1.5) / 2
  // TTFT: {0.2, 0.4} s
  EXPECT_NEAR(m.ttft.mean, 300.0, 1e-9);
  EXPECT_NEAR(m.ttft.median, 300.0, 1e-9);
  EXPECT_NEAR(m.ttft.p99, 398.0, 1e-9);
  EXPECT_NEAR(m.ttft.std, 100.0, 1e-9);
  // TPOT: a (1.0-0.2)/4 = 0.2, b (1.5-0.4)/1 = 1.1
  EXPECT_NEAR(m.tpot.mean, 650.0, 1e-9);
  EXPECT_NEAR(m.tpot.p99, 200 + 0.99 * 900, 1e-9);
  // ITL pooled: {0.3, 0.5, 1.1}
  EXPECT_NEAR(m.itl.mean, 633.3333333333, 1e-6);
  EXPECT_NEAR(m.itl.median, 500.0, 1e-9);
  EXPECT_NEAR(m.itl.p99, 500 + 0.98 * 600, 1e-9);
  EXPECT_NEAR(m.itl.max, 1100.0, 1e-9);
  EXPECT_NEAR(m.e2el.mean, 1250.0, 1e-9);
  // In flight: c [0.1,0.15], a [0,1], b [0.5,2]: at most 2 at once.
  EXPECT_EQ(m.max_concurrent_requests, 2);
  // Chunks: a at 0.2, 0.5, 1.0 (5/3 each); b at 0.9, 2.0 (1 each). Buckets [0,1): 10/3 + 1, [1,2]: 5/3 + 1.
  EXPECT_NEAR(m.max_output_tokens_per_s, 10.0 / 3 + 1, 1e-9);
}

TEST(BenchMetrics, OutputLengthOneHasNoTpot) {
  RequestResult a;
  a.success = true;
  a.output_len = 1;
  a.ttft = 0.1;
  a.latency = 0.1;
  const Metrics m = compute_metrics({a}, 1.0);
  EXPECT_EQ(m.tpot.mean, 0.0);
  EXPECT_NEAR(m.ttft.mean, 100.0, 1e-9);
}

TEST(BenchArrivals, InfiniteRateStartsAllAtOnceAndPoissonHasTheRightMean) {
  for (double t : arrival_offsets(5, std::numeric_limits<double>::infinity(), 1)) EXPECT_EQ(t, 0.0);
  const auto t = arrival_offsets(20001, 50.0, 7);
  EXPECT_EQ(t[0], 0.0);
  EXPECT_NEAR(t.back() / 20000, 1.0 / 50, 0.03 / 50);  // mean gap 20 ms within 3%
  // Exponential gaps: about e^-1 of them exceed the mean.
  int longer = 0;
  for (size_t i = 1; i < t.size(); ++i) longer += (t[i] - t[i - 1]) > 1.0 / 50;
  EXPECT_NEAR(longer / 20000.0, std::exp(-1.0), 0.015);
  EXPECT_EQ(arrival_offsets(10, 50.0, 7), arrival_offsets(10, 50.0, 7));
  EXPECT_NE(arrival_offsets(10, 50.0, 7), arrival_offsets(10, 50.0, 8));
}

}  // namespace
}  // namespace fathom::bench
