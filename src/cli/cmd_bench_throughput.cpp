// fathom bench throughput [MODEL] [--num-prompts N] [--input-len I] [--output-len O] [-c C] [--output-json F]
// The profile_throughput.py analogue: an in-process engine driven closed-loop by C clients (each submits its
// next prompt when the previous one finishes). Prints request/s, input and output tokens/s, TTFT, TPOT, ITL and
// end-to-end latency statistics; --output-json uses vLLM's --save-result key names (DESIGN.md §1).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "dist/comm_counting.h"
#include "engine/engine_factory.h"
#include "model/model_dir.h"
#include "tokenizer/tokenizer.h"

namespace fathom::cli {

void add_engine_options(CLI::App* cmd, EngineOptions& o);  // cmd_generate.cpp
void add_dist_options(CLI::App* cmd, EngineOptions& o);
int fail(const std::string& msg);
int fail_job(const EngineOptions& o, const std::string& msg);

namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string model;
  std::string dataset_name = "random";
  std::string dataset_path;
  int num_prompts = 64;
  int input_len = 256;
  int output_len = 128;
  double range_ratio = 0.0;
  int concurrency = 8;
  uint32_t seed = 0;
  std::string output_json;
  EngineOptions engine;
};

struct Prompt {
  std::vector<int32_t> ids;
  int32_t output_len = 0;
};

struct Outcome {
  bool ok = false;
  std::string error;
  int64_t n_output = 0;
  double ttft = 0, e2el = 0;  // seconds
  std::vector<double> itls;   // seconds between tokens
};

std::vector<Prompt> random_prompts(const BenchArgs& a, int64_t vocab) {
  std::mt19937 rng(a.seed);
  auto len = [&](int n) {
    const int lo = std::max(1, static_cast<int>(std::lround(n * (1 - a.range_ratio))));
    const int hi = std::max(lo, static_cast<int>(std::lround(n * (1 + a.range_ratio))));
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  std::uniform_int_distribution<int32_t> tok(100, static_cast<int32_t>(std::min<int64_t>(vocab, 100000)) - 1);
  std::vector<Prompt> out(a.num_prompts);
  for (Prompt& p : out) {
    p.ids.resize(len(a.input_len));
    for (int32_t& t : p.ids) t = tok(rng);
    p.output_len = len(a.output_len);
  }
  return out;
}

// ShareGPT format: [{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", "value": ...}]}, ...];
// the first turn is the prompt, the second's token count the output length (pairs too short or long skipped).
Expected<std::vector<Prompt>> sharegpt_prompts(const BenchArgs& a, const Tokenizer& tok) {
  std::ifstream in(a.dataset_path);
  if (!in) return Status::error(a.dataset_path + ": cannot open");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Status::error(a.dataset_path + ": expected a JSON array");
  std::vector<Prompt> out;
  for (const auto& e : j) {
    if (static_cast<int>(out.size()) == a.num_prompts) break;
    auto c = e.find("conversations");
    if (c == e.end() || !c->is_array() || c->size() < 2) continue;
    if (!(*c)[0].contains("value") || !(*c)[1].contains("value")) continue;
    Prompt p;
    p.ids = tok.encode((*c)[0]["value"].get<std::string>(), true);
    p.output_len = static_cast<int32_t>(tok.encode((*c)[1]["value"].get<std::string>(), false).size());
    if (p.ids.size() < 4 || p.output_len < 4 || p.ids.size() > 1024 || p.ids.size() + p.output_len > 2048) continue;
    out.push_back(std::move(p));
  }
  if (out.empty()) return Status::error(a.dataset_path + ": no usable conversations");
  return out;
}

Outcome run_one(Engine& engine, const Prompt& p) {
  Outcome o;
  GenerateRequest req;
  req.prompt_ids = p.ids;
  req.sampling.max_tokens = p.output_len;
  req.sampling.ignore_eos = true;
  req.sampling.temperature = 0.0f;
  const auto t0 = Clock::now();
  auto last = t0;
  auto ch = engine.submit(std::move(req));
  GenerationEvent ev;
  for (;;) {
    if (!ch->next(ev, std::chrono::milliseconds(1000))) continue;
    const auto now = Clock::now();
    const int64_t k = static_cast<int64_t>(ev.token_ids.size());
    if (k > 0) {
      const double dt = std::chrono::duration<double>(now - last).count();
      if (o.n_output == 0) {
        o.ttft = std::chrono::duration<double>(now - t0).count();
        for (int64_t i = 1; i < k; ++i) o.itls.push_back(0.0);
      } else {
        for (int64_t i = 0; i < k; ++i) o.itls.push_back(dt / k);
      }
      o.n_output += k;
      last = now;
    }
    if (ev.finished()) break;
  }
  o.e2el = std::chrono::duration<double>(Clock::now() - t0).count();
  o.ok = ev.finish == FinishReason::LENGTH || ev.finish == FinishReason::STOP;
  if (!o.ok) o.error = ev.error.empty() ? finish_reason_name(ev.finish) : ev.error;
  return o;
}

struct Stats {
  double mean = 0, median = 0, std = 0, p99 = 0;
};

Stats stats_ms(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / v.size();
  double var = 0;
  for (double x : v) var += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(var / v.size());
  auto pct = [&](double q) {  // linear interpolation, as numpy.percentile
    const double pos = q * (v.size() - 1);
    const size_t lo = static_cast<size_t>(pos);
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - lo);
  };
  s.median = pct(0.5);
  s.p99 = pct(0.99);
  s.mean *= 1000, s.median *= 1000, s.std *= 1000, s.p99 *= 1000;
  return s;
}

// One request's result as it travels from a data-parallel rank to rank 0.
nlohmann::json to_json(int64_t n_in, const Outcome& o) {
  return {{"n_in", n_in}, {"ok", o.ok}, {"error", o.error}, {"n_output", o.n_output}, {"ttft", o.ttft},
          {"e2el", o.e2el}, {"itls", o.itls}};
}

Outcome from_json(const nlohmann::json& j, int64_t& n_in) {
  Outcome o;
  n_in = j["n_in"];
  o.ok = j["ok"];
  o.error = j["error"];
  o.n_output = j["n_output"];
  o.ttft = j["ttft"];
  o.e2el = j["e2el"];
  o.itls = j["itls"].get<std::vector<double>>();
  return o;
}

// Every rank's JSON value, on every rank (collective; the engine thread must have stopped).
std::vector<nlohmann::json> allgather_json(Comm& comm, const nlohmann::json& mine) {
  const std::string text = mine.dump();
  const int n = comm.size();
  int64_t len = static_cast<int64_t>(text.size());
  std::vector<int64_t> lens(n);
  comm.allgather(&len, sizeof(len), lens.data());
  const int64_t max_len = *std::max_element(lens.begin(), lens.end());
  std::string padded = text;
  padded.resize(static_cast<size_t>(max_len));
  std::string all(static_cast<size_t>(max_len) * n, '\0');
  comm.allgather(padded.data(), max_len, all.data());
  std::vector<nlohmann::json> out;
  for (int r = 0; r < n; ++r) out.push_back(nlohmann::json::parse(all.substr(static_cast<size_t>(r) * max_len, lens[r])));
  return out;
}

int run_bench(BenchArgs& a) {
  if (a.num_prompts < 1 || a.concurrency < 1 || a.input_len < 1 || a.output_len < 1)
    return fail("--num-prompts, -c, --input-len and --output-len must be at least 1");
  if (Status st = init_dist(a.engine); !st) return fail(st.message());
  AlltoallvCounters a2a;
  const bool dp = a.engine.ep > 1;
  if (dp) a.engine.comm = make_counting_comm(a.engine.comm, &a2a);
  const int rank = a.engine.comm ? a.engine.comm->rank() : 0, world = a.engine.comm ? a.engine.comm->size() : 1;
  auto dir = resolve_model_dir(a.model);
  if (!dir) return fail_job(a.engine, dir.error());

  std::vector<Prompt> prompts;
  if (a.dataset_name == "sharegpt") {
    auto tok = Tokenizer::load(*dir);
    if (!tok) return fail_job(a.engine, tok.error());
    auto p = sharegpt_prompts(a, **tok);
    if (!p) return fail_job(a.engine, p.error());
    prompts = std::move(p.value());
  } else if (a.dataset_name != "random") {
    return fail_job(a.engine, "--dataset-name must be random or sharegpt");
  }
  int64_t longest = 0;
  if (a.dataset_name == "random")
    longest = std::lround(a.input_len * (1 + a.range_ratio)) + std::lround(a.output_len * (1 + a.range_ratio));
  for (const Prompt& p : prompts) longest = std::max<int64_t>(longest, p.ids.size() + p.output_len);
  // By default the cache holds every client's longest request (plus a page each), not 80% of the machine.
  if (a.engine.cache_tokens == 0 && a.engine.cache_max_entry_count == EngineOptions{}.cache_max_entry_count)
    a.engine.cache_tokens = a.concurrency * (longest + a.engine.cache_block_seq_len);
  // --dp N: -c and --num-prompts are totals; rank r runs prompts r, r + N, ... with its share of the clients.
  const int n_clients = dp ? std::max(1, (a.concurrency + world - 1 - rank) / world) : a.concurrency;
  a.engine.max_batch_size = std::max(a.engine.max_batch_size, a.concurrency);

  if (!rank_serves(a.engine)) return run_dist_worker(*dir, a.engine);  // --tp: ranks > 0 replay rank 0's steps
  auto le = load_engine(*dir, a.engine);
  if (!le) return fail(le.error());
  Engine& engine = *le->engine;
  if (a.dataset_name == "random") prompts = random_prompts(a, engine.vocab_size());
  if (rank == 0) {
    // Weights copied at load take what the buffer holds (coded bf16 panels: ~3/4 of the checkpoint's bytes).
    const ModelWeights& mw = le->model->weights();
    std::fprintf(stderr,
                 "model %s: %d prompts, concurrency %d, %d rank(s), cache %d pages (%.1f MiB) per rank, weights "
                 "%.1f MiB in memory for %.1f MiB of the checkpoint's\n",
                 dir->c_str(), static_cast<int>(prompts.size()), a.concurrency, world, le->n_blocks,
                 le->cache_bytes / 1048576.0, mw.n_buffer_bytes / 1048576.0, mw.n_in_memory_bytes / 1048576.0);
  }
  std::vector<size_t> mine;
  for (size_t i = 0; i < prompts.size(); ++i)
    if (!dp || static_cast<int>(i % world) == rank) mine.push_back(i);

  const Prompt warm{std::vector<int32_t>(16, 1000), 2};
  run_one(engine, warm);  // warm-up: fault in the mapped weights

  std::vector<Outcome> outcomes(prompts.size());
  std::atomic<size_t> next{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < n_clients; ++c)
    clients.emplace_back([&] {
      for (size_t k; (k = next++) < mine.size();) outcomes[mine[k]] = run_one(engine, prompts[mine[k]]);
    });
  for (auto& t : clients) t.join();
  double duration = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<int64_t> in_lens;
  for (const Prompt& p : prompts) in_lens.push_back(static_cast<int64_t>(p.ids.size()));
  const int64_t n_moe_layers = [&] {
    int64_t k = 0;
    for (int64_t l = 0; l < le->model->config().num_hidden_layers; ++l) k += le->model->config().is_moe_layer(l);
    return k;
  }();
  const int64_t K = le->model->config().num_experts_per_tok, H = le->model->config().hidden_size;
  if (dp) {
    le->engine.reset();  // waits until every rank is done; then this thread may use the comm
    nlohmann::json j = {{"duration", duration}, {"bytes_remote", a2a.bytes_remote.load()},
                        {"bytes_local", a2a.bytes_local.load()}, {"outcomes", nlohmann::json::array()}};
    for (size_t i : mine) j["outcomes"].push_back(to_json(in_lens[i], outcomes[i]));
    const std::vector<nlohmann::json> all = allgather_json(*a.engine.comm, j);
    if (rank != 0) return 0;
    int64_t remote = 0, local = 0, fwd_tokens = 0;
    for (int r = 0; r < world; ++r) {
      duration = std::max(duration, all[r]["duration"].get<double>());
      remote += all[r]["bytes_remote"].get<int64_t>();
      local += all[r]["bytes_local"].get<int64_t>();
      size_t k = 0;
      for (size_t i = static_cast<size_t>(r); i < prompts.size(); i += world, ++k)
        outcomes[i] = from_json(all[r]["outcomes"][k], in_lens[i]);
      fwd_tokens += static_cast<int64_t>(warm.ids.size()) + warm.output_len - 1;
    }
    for (size_t i = 0; i < prompts.size(); ++i) fwd_tokens += in_lens[i] + std::max<int64_t>(0, outcomes[i].n_output - 1);
    // Uniform routing: each of a token's K hidden rows goes out and comes back (4-byte floats) unless its expert
    // is local (1/N of them), plus one 4-byte expert id per row.
    const double arith = (2.0 * K * H * 4 + K * 4) * (world - 1) / world;
    const double measured = static_cast<double>(remote) / std::max<int64_t>(1, fwd_tokens) / std::max<int64_t>(1, n_moe_layers);
    std::printf("alltoallv: %lld bytes to other ranks, %lld kept local, %lld tokens through %lld MoE layers\n",
                static_cast<long long>(remote), static_cast<long long>(local), static_cast<long long>(fwd_tokens),
                static_cast<long long>(n_moe_layers));
    std::printf("alltoallv bytes per token per MoE layer: measured %.0f, uniform-routing arithmetic %.0f\n", measured,
                arith);
  }

  int64_t completed = 0, n_in = 0, n_out = 0;
  std::vector<double> ttfts, tpots, itls, e2els;
  nlohmann::json input_lens = nlohmann::json::array(), output_lens = nlohmann::json::array(),
                 ttft_list = nlohmann::json::array(), itl_list = nlohmann::json::array(),
                 errors = nlohmann::json::array();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    input_lens.push_back(in_lens[i]);
    output_lens.push_back(o.n_output);
    ttft_list.push_back(o.ttft);
    itl_list.push_back(o.itls);
    errors.push_back(o.error);
    if (!o.ok) continue;
    ++completed;
    n_in += in_lens[i];
    n_out += o.n_output;
    ttfts.push_back(o.ttft);
    e2els.push_back(o.e2el);
    if (o.n_output > 1) tpots.push_back((o.e2el - o.ttft) / (o.n_output - 1));
    itls.insert(itls.end(), o.itls.begin(), o.itls.end());
  }
  nlohmann::json r;
  r["backend"] = "fathom";
  r["model_id"] = *dir;
  r["num_prompts"] = prompts.size();
  r["max_concurrency"] = a.concurrency;
  r["world_size"] = world;
  r["duration"] = duration;
  r["completed"] = completed;
  r["failed"] = static_cast<int64_t>(prompts.size()) - completed;
  r["total_input_tokens"] = n_in;
  r["total_output_tokens"] = n_out;
  r["request_throughput"] = completed / duration;
  r["input_throughput"] = n_in / duration;
  r["output_throughput"] = n_out / duration;
  r["total_token_throughput"] = (n_in + n_out) / duration;
  std::printf("============ fathom bench throughput ============\n");
  std::printf("%-34s %d / %d\n", "Successful requests:", static_cast<int>(completed), static_cast<int>(prompts.size()));
  std::printf("%-34s %d\n", "Concurrency:", a.concurrency);
  std::printf("%-34s %.2f\n", "Benchmark duration (s):", duration);
  std::printf("%-34s %lld\n", "Total input tokens:", static_cast<long long>(n_in));
  std::printf("%-34s %lld\n", "Total generated tokens:", static_cast<long long>(n_out));
  std::printf("%-34s %.3f\n", "Request throughput (req/s):", completed / duration);
  std::printf("%-34s %.2f\n", "Input token throughput (tok/s):", n_in / duration);
  std::printf("%-34s %.2f\n", "Output token throughput (tok/s):", n_out / duration);
  const std::pair<const char*, std::vector<double>*> series[] = {
      {"ttft", &ttfts}, {"tpot", &tpots}, {"itl", &itls}, {"e2el", &e2els}};
  for (const auto& [name, v] : series) {
    const Stats s = stats_ms(*v);
    const std::string n = name;
    r["mean_" + n + "_ms"] = s.mean;
    r["median_" + n + "_ms"] = s.median;
    r["std_" + n + "_ms"] = s.std;
    r["p99_" + n + "_ms"] = s.p99;
    std::printf("%-34s mean %.2f  median %.2f  p99 %.2f\n", (n + " (ms):").c_str(), s.mean, s.median, s.p99);
  }
  r["input_lens"] = input_lens;
  r["output_lens"] = output_lens;
  r["ttfts"] = ttft_list;
  r["itls"] = itl_list;
  r["errors"] = errors;
  if (!a.output_json.empty()) {
    std::ofstream f(a.output_json);
    if (!f) return fail(a.output_json + ": cannot create");
    f << r.dump(2) << "\n";
  }
  return completed == static_cast<int64_t>(prompts.size()) ? 0 : 1;
}

}  // namespace

void add_bench_throughput_command(CLI::App& app, RunResult& result) {
  CLI::App* bench = bench_group(app);
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench->add_subcommand("throughput", "Closed-loop throughput of the in-process engine");
  cmd->add_option("model", a->model, "HF-format model folder (default: the embedded tiny model)");
  cmd->add_option("--dataset-name", a->dataset_name, "random | sharegpt")->capture_default_str();
  cmd->add_option("--dataset-path", a->dataset_path, "ShareGPT JSON file");
  cmd->add_option("--num-prompts", a->num_prompts, "Requests to run")->capture_default_str();
  cmd->add_option("--input-len", a->input_len, "Prompt tokens (random dataset)")->capture_default_str();
  cmd->add_option("--output-len", a->output_len, "Output tokens (random dataset)")->capture_default_str();
  cmd->add_option("--random-range-ratio", a->range_ratio, "Lengths uniform in [L(1-r), L(1+r)]")->capture_default_str();
  cmd->add_option("-c,--concurrency", a->concurrency, "Clients, each with one request in flight")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Dataset seed")->capture_default_str();
  cmd->add_option("--output-json", a->output_json, "Write the results (vLLM --save-result keys)");
  add_engine_options(cmd, a->engine);
  add_dist_options(cmd, a->engine);
  cmd->callback([a, &result] { result.exit_code = run_bench(*a); });
}

}  // namespace fathom::cli
