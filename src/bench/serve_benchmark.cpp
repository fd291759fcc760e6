#include "bench/serve_benchmark.h"

#include <cmath>

#include "bench/dataset.h"
#include "bench/metrics.h"
#include "bench/report.h"
#include "bench/runner.h"
#include "core/file_io.h"
#include "http/io_runtime.h"

namespace fathom::bench {

namespace {

struct PointSpec {
  int input_len = 0, output_len = 0;
};

Expected<std::vector<BenchRequest>> make_dataset(const ServeBenchOptions& o, const Tokenizer& tok,
                                                 const PointSpec& spec) {
  std::vector<Conversation> convs;
  if (!o.dataset_path.empty()) {
    auto loaded = load_sharegpt(o.dataset_path);
    if (!loaded) return loaded.status();
    convs = std::move(*loaded);
  }
  if (o.dataset_name == "sharegpt") {
    if (o.dataset_path.empty()) return Status::error("--dataset-path: required for --dataset-name sharegpt");
    return sample_sharegpt(std::move(convs), tok, {o.num_prompts, o.sharegpt_output_len, o.seed});
  }
  std::vector<std::string> texts;
  if (convs.empty()) {
    texts = builtin_source_texts();
  } else {
    for (Conversation& c : convs) texts.push_back(std::move(c.prompt));
  }
  return sample_random(texts, tok, {o.num_prompts, spec.input_len, spec.output_len, o.random_range_ratio, o.seed});
}

// Output lengths the server did not report are counted by re-tokenizing the text (not under the clock).
int64_t count_retokenized(std::vector<RequestResult>& results, const Tokenizer& tok) {
  int64_t total = 0;
  for (RequestResult& r : results) {
    if (!r.success) continue;
    const auto n = static_cast<int64_t>(tok.encode(r.generated_text, false).size());
    total += n;
    if (r.output_len < 0) r.output_len = n;
  }
  return total;
}

}  // namespace

Status run_serve_benchmark(const ServeBenchOptions& o, const Tokenizer& tok, std::FILE* out) {
  if (o.num_prompts < 1) return Status::error("--num-prompts: must be at least 1");
  if (o.dataset_name != "random" && o.dataset_name != "sharegpt") {
    return Status::error("--dataset-name: expected random or sharegpt, got '" + o.dataset_name + "'");
  }
  if (o.nodes < 1) return Status::error("--nodes: must be at least 1");
  if (!(o.request_rate > 0)) return Status::error("--request-rate: must be positive (or inf)");
  if (o.max_concurrency < 0) return Status::error("--max-concurrency: must be positive");
  std::vector<PointSpec> specs;
  if (o.dataset_name == "random") {
    if (o.random_input_lens.empty() || o.random_output_lens.empty()) {
      return Status::error("--random-input-len and --random-output-len: required for --dataset-name random");
    }
    for (int in : o.random_input_lens) {
      for (int outl : o.random_output_lens) specs.push_back({in, outl});
    }
  } else {
    specs.push_back({0, 0});
  }
  auto endpoint = parse_endpoint(o.base_url);
  if (!endpoint) return endpoint.status();
  endpoint->api_key = o.api_key;

  http::IoRuntime runtime(std::max(1, o.client_threads));
  http::ClientOptions copts;
  copts.max_idle_per_host = 1u << 16;  // every finished stream's connection may be reused by the next request
  http::HttpClient client(runtime, copts);

  std::string model = o.model;
  if (model.empty()) {
    auto m = query_model_name(client, *endpoint);
    if (!m) return m.status();
    model = *m;
  }
  RunOptions ro;
  ro.backend = o.backend;
  ro.payload.model = model;
  ro.payload.stream = o.stream;
  ro.payload.ignore_eos = o.ignore_eos;
  ro.payload.extra = o.extra_body;
  ro.request_rate = o.request_rate;
  ro.max_concurrency = o.max_concurrency;
  ro.seed = o.seed;

  std::vector<SweepPoint> points;
  for (size_t k = 0; k < specs.size(); ++k) {
    const PointSpec& spec = specs[k];
    auto requests = make_dataset(o, tok, spec);
    if (!requests) return requests.status();
    if (o.warmup) {
      RunOptions wo = ro;
      wo.progress = false;
      wo.request_rate = std::numeric_limits<double>::infinity();
      RunOutput w = run_requests(client, *endpoint, {requests->front()}, wo);
      if (!w.results[0].success) {
        return Status::error("warm-up request to " + o.base_url + " failed: " + w.results[0].error);
      }
    }
    ro.progress = o.progress;
    ro.progress_label = specs.size() > 1 ? "point " + std::to_string(k + 1) + "/" + std::to_string(specs.size())
                                         : std::string("bench");
    RunOutput run = run_requests(client, *endpoint, *requests, ro);

    SweepPoint p;
    p.info.backend = std::string(backend_name(o.backend));
    p.info.base_url = o.base_url;
    p.info.model = model;
    p.info.dataset_name = o.dataset_name;
    p.info.request_rate = o.request_rate;
    p.info.max_concurrency = o.max_concurrency;
    p.info.num_prompts = o.num_prompts;
    p.info.random_input_len = spec.input_len;
    p.info.random_output_len = spec.output_len;
    p.info.random_range_ratio = o.random_range_ratio;
    if (o.dataset_name == "random") {
      p.info.input_range = random_length_range(spec.input_len, o.random_range_ratio);
      p.info.output_range = random_length_range(spec.output_len, o.random_range_ratio);
    } else {
      int64_t in_sum = 0, out_sum = 0;
      for (const BenchRequest& r : *requests) in_sum += r.prompt_len, out_sum += r.output_len;
      p.info.random_input_len = static_cast<int>(in_sum / static_cast<int64_t>(requests->size()));
      p.info.random_output_len = static_cast<int>(out_sum / static_cast<int64_t>(requests->size()));
    }
    p.info.nodes = o.nodes;
    p.info.max_bsz = !o.max_bsz.empty() ? o.max_bsz : o.max_concurrency > 0 ? std::to_string(o.max_concurrency) : "-";
    p.info.client_cpu_s = run.client_cpu_s;
    p.info.n_connects = run.n_connects;
    p.info.monotonic_t0 = run.monotonic_t0;
    const int64_t retok = count_retokenized(run.results, tok);
    p.metrics = compute_metrics(run.results, run.duration);
    p.metrics.total_output_retokenized = retok;
    p.results = std::move(run.results);
    if (o.dataset_name == "random") {
      std::fprintf(out, "random dataset: input lengths uniform in [%d, %d], output lengths in [%d, %d] (ratio %.2f)\n",
                   p.info.input_range.first, p.info.input_range.second, p.info.output_range.first,
                   p.info.output_range.second, o.random_range_ratio);
    }
    std::fputs(format_console(p).c_str(), out);
    std::fflush(out);
    points.push_back(std::move(p));
  }

  std::string md = markdown_header();
  for (const SweepPoint& p : points) md += markdown_row(p);
  std::fputs("\n", out);
  std::fputs(md.c_str(), out);
  std::fflush(out);

  if (!o.output_json.empty()) {
    nlohmann::json j;
    if (points.size() == 1) {
      j = to_json(points[0]);
    } else {
      j = nlohmann::json::array();
      for (const SweepPoint& p : points) j.push_back(to_json(p));
    }
    FATHOM_TRY(write_text_file(o.output_json, j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace)));
  }
  if (!o.report_html.empty()) FATHOM_TRY(write_text_file(o.report_html, render_html(points)));
  if (!o.output_markdown.empty()) FATHOM_TRY(write_text_file(o.output_markdown, md));
  return Status::ok();
}

}  // namespace fathom::bench
