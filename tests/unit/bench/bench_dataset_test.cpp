// Datasets (random lengths and exact re-tokenized prompt lengths, ShareGPT filters), request payloads and the
// report formats.
#include <gtest/gtest.h>

#include <set>

#include "bench/backend.h"
#include "bench/dataset.h"
#include "bench/report.h"
#include "bench/svg_chart.h"

namespace fathom::bench {
namespace {

const Tokenizer& tokenizer() {
  static auto tok = Tokenizer::load(std::string(FATHOM_TEST_DATA) + "/../assets");
  EXPECT_TRUE(tok.has_value()) << tok.error();
  return **tok;
}

TEST(BenchDataset, RangeRatioFollowsLmdeploy) {
  EXPECT_EQ(random_length_range(1024, 0.0), std::make_pair(1, 1024));
  EXPECT_EQ(random_length_range(1024, 1.0), std::make_pair(1024, 1024));
  EXPECT_EQ(random_length_range(1000, 0.5), std::make_pair(500, 1000));
  EXPECT_EQ(random_length_range(3, 0.1), std::make_pair(1, 3));
}

TEST(BenchDataset, RandomPromptsEncodeToExactlyTheTargetLength) {
  RandomOptions o;
  o.num_prompts = 40;
  o.input_len = 300;
  o.output_len = 64;
  o.range_ratio = 1.0;
  auto reqs = sample_random(builtin_source_texts(), tokenizer(), o);
  ASSERT_TRUE(reqs.has_value()) << reqs.error();
  ASSERT_EQ(reqs->size(), 40u);
  for (const BenchRequest& r : *reqs) {
    EXPECT_EQ(r.prompt_len, 300);
    EXPECT_EQ(r.output_len, 64);
    EXPECT_EQ(tokenizer().encode(r.prompt, false).size(), 300u) << r.prompt.substr(0, 80);
  }
}

TEST(BenchDataset, RandomLengthsSpanTheRangeAndFollowTheSeed) {
  RandomOptions o;
  o.num_prompts = 200;
  o.input_len = 64;
  o.output_len = 32;
  o.range_ratio = 0.5;
  auto a = sample_random(builtin_source_texts(), tokenizer(), o);
  ASSERT_TRUE(a.has_value());
  std::set<int> ins, outs;
  for (const BenchRequest& r : *a) {
    EXPECT_GE(r.prompt_len, 32);
    EXPECT_LE(r.prompt_len, 64);
    EXPECT_GE(r.output_len, 16);
    EXPECT_LE(r.output_len, 32);
    ins.insert(r.prompt_len);
    outs.insert(r.output_len);
  }
  EXPECT_GT(ins.size(), 25u);  // 33 possible values, 200 draws
  EXPECT_GT(outs.size(), 12u);
  EXPECT_TRUE(ins.count(32) && ins.count(64));  // both ends are reachable
  auto b = sample_random(builtin_source_texts(), tokenizer(), o);
  o.seed = 2;
  auto c = sample_random(builtin_source_texts(), tokenizer(), o);
  bool same_b = true, same_c = true;
  for (size_t i = 0; i < a->size(); ++i) {
    same_b &= (*a)[i].prompt == (*b)[i].prompt && (*a)[i].output_len == (*b)[i].output_len;
    same_c &= (*a)[i].prompt_len == (*c)[i].prompt_len && (*a)[i].output_len == (*c)[i].output_len;
  }
  EXPECT_TRUE(same_b);
  EXPECT_FALSE(same_c);
  o.range_ratio = 1.5;
  EXPECT_FALSE(sample_random(builtin_source_texts(), tokenizer(), o).has_value());
}

TEST(BenchDataset, SharegptSampleIsFilteredAsLmdeployDoes) {
  auto convs = load_sharegpt(std::string(FATHOM_TEST_DATA) + "/golden/bench/sharegpt_sample.json");
  ASSERT_TRUE(convs.has_value()) << convs.error();
  EXPECT_EQ(convs->size(), 13u);  // the single-turn entry is skipped
  SharegptOptions o;
  o.num_prompts = 12;
  auto reqs = sample_sharegpt(*convs, tokenizer(), o);
  ASSERT_TRUE(reqs.has_value()) << reqs.error();
  for (const BenchRequest& r : *reqs) {
    EXPECT_NE(r.prompt, "Thanks!");  // "ok" is under 4 tokens
    EXPECT_EQ(static_cast<size_t>(r.prompt_len), tokenizer().encode(r.prompt, true).size());
    EXPECT_GE(r.output_len, 4);
  }
  o.num_prompts = 13;  // one is filtered: not enough
  auto too_many = sample_sharegpt(*convs, tokenizer(), o);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.error().find("12 conversations"), std::string::npos) << too_many.error();
  o.num_prompts = 3;
  o.fixed_output_len = 77;
  auto fixed = sample_sharegpt(*convs, tokenizer(), o);
  ASSERT_TRUE(fixed.has_value());
  for (const BenchRequest& r : *fixed) EXPECT_EQ(r.output_len, 77);
  EXPECT_FALSE(parse_sharegpt("{\"a\":1}", "x.json").has_value());
  EXPECT_FALSE(load_sharegpt("/nonexistent/file.json").has_value());
}

TEST(BenchPayload, BodiesMatchTheBenchmarkAdapters) {
  BenchRequest r{"hi", 3, 16};
  PayloadOptions o;
  o.model = "m";
  auto lm = nlohmann::json::parse(build_payload(Backend::kLmdeploy, r, o));
  EXPECT_EQ(lm["prompt"], "hi");
  EXPECT_EQ(lm["max_tokens"], 16);
  EXPECT_EQ(lm["best_of"], 1);
  EXPECT_EQ(lm["temperature"], 0.0);
  EXPECT_EQ(lm["ignore_eos"], true);
  EXPECT_EQ(lm["stream"], true);
  EXPECT_FALSE(lm.contains("stream_options"));
  auto chat = nlohmann::json::parse(build_payload(Backend::kOpenaiChat, r, o));
  EXPECT_EQ(chat["messages"][0]["content"], "hi");
  EXPECT_EQ(chat["messages"][0]["role"], "user");
  EXPECT_EQ(chat["max_completion_tokens"], 16);
  EXPECT_EQ(chat["stream_options"]["include_usage"], true);
  o.ignore_eos = false;
  o.extra = {{"temperature", 0.7}, {"top_p", 0.9}};
  auto extra = nlohmann::json::parse(build_payload(Backend::kLmdeployChat, r, o));
  EXPECT_EQ(extra["temperature"], 0.7);
  EXPECT_EQ(extra["top_p"], 0.9);
  EXPECT_FALSE(extra.contains("ignore_eos"));
  EXPECT_STREQ(backend_path(Backend::kLmdeployChat), "/v1/chat/completions");
  EXPECT_STREQ(backend_path(Backend::kOpenai), "/v1/completions");
  EXPECT_FALSE(parse_backend("tgi").has_value());
}

SweepPoint sample_point() {
  SweepPoint p;
  p.info.backend = "lmdeploy";
  p.info.dataset_name = "random";
  p.info.request_rate = std::numeric_limits<double>::infinity();
  p.info.num_prompts = 3;
  p.info.random_input_len = 2048;
  p.info.random_output_len = 1024;
  p.info.nodes = 2;
  p.info.max_bsz = "256";
  RequestResult ok;
  ok.success = true;
  ok.prompt_len = 2048;
  ok.output_len = 1024;
  ok.ttft = 0.5;
  ok.latency = 10;
  ok.itl = {0.01, 0.02};
  RequestResult bad;
  bad.error = "HTTP 500: <boom>";
  p.results = {ok, ok, bad};
  p.metrics = compute_metrics(p.results, 20.0);
  return p;
}

TEST(BenchReport, ConsoleBlockUsesTheLmdeployLabels) {
  const std::string s = format_console(sample_point());
  EXPECT_EQ(s.rfind("============ Serving Benchmark Result ============\n", 0), 0u) << s;
  EXPECT_NE(s.find("Backend:                                 lmdeploy  \n"), std::string::npos) << s;
  EXPECT_NE(s.find("Traffic request rate:                    inf"), std::string::npos);
  EXPECT_NE(s.find("Successful requests:                     2"), std::string::npos);
  EXPECT_NE(s.find("Failed requests:                         1"), std::string::npos);
  EXPECT_NE(s.find("Output token throughput (tok/s):         102.40"), std::string::npos) << s;
  EXPECT_NE(s.find("Per-node output token throughput (tok/s): 51.20"), std::string::npos) << s;
  EXPECT_NE(s.find("-----Time per Output Token (excl. 1st token)------\n"), std::string::npos);
  EXPECT_NE(s.find("---------------Time to First Token----------------\n"), std::string::npos);
  EXPECT_NE(s.find("Mean TTFT (ms):                          500.00"), std::string::npos);
  EXPECT_NE(s.find("1 x HTTP 500: <boom>"), std::string::npos);
}

TEST(BenchReport, JsonHasTheSaveResultKeysAndMarkdownTheSeedRow) {
  const nlohmann::json j = to_json(sample_point());
  for (const char* k : {"duration", "completed", "failed", "total_input_tokens", "total_output_tokens",
                        "request_throughput", "input_throughput", "output_throughput", "mean_ttft_ms",
                        "median_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "p99_tpot_ms",
                        "mean_itl_ms", "median_itl_ms", "p99_itl_ms", "mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms",
                        "input_lens", "output_lens", "ttfts", "itls", "errors"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["errors"][2], "HTTP 500: <boom>");
  EXPECT_EQ(j["output_lens"][2], 0);
  EXPECT_EQ(j["itls"][0].size(), 2u);
  EXPECT_EQ(markdown_row(sample_point()), "| 256 | 3 | 2048 | 1024 | 102 | 51 |\n");
  EXPECT_EQ(markdown_header().rfind("| max bsz | prompt no | input-len | output-len | per node input token thr "
                                    "(tok/s) | per node output token thr (tok/s) |\n",
                                    0),
            0u);
}

TEST(BenchReport, HtmlIsSelfContainedWithCharts) {
  const std::string h = render_html({sample_point()});
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  size_t n_svg = 0;
  for (size_t at = h.find("<svg"); at != std::string::npos; at = h.find("<svg", at + 1)) ++n_svg;
  EXPECT_EQ(n_svg, 4u);
  EXPECT_NE(h.find("HTTP 500: &lt;boom&gt;"), std::string::npos);  // escaped
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("http://"), h.find("http://www.w3.org/2000/svg"));  // nothing fetched from elsewhere
  const std::string hist = svg_histogram({1, 2, 2, 3}, 3, {"t", "x", "y"});
  size_t bars = 0;
  for (size_t at = hist.find("class=\"bar\""); at != std::string::npos; at = hist.find("class=\"bar\"", at + 1)) ++bars;
  EXPECT_EQ(bars, 3u);
}

}  // namespace
}  // namespace fathom::bench
