// Prefill and decode throughput of the forward pass on the presets (creates them under /tmp on first run).
//   build/model_forward_bench [--benchmark_repetitions=5]
// small_fp8: decode B=1 on the small preset written with fp8 (e4m3) linear weights; small_fp8_head: the same
// with --lm-head-dtype fp8 (lm_head quantized to e4m3 at load); small_mmap: the small preset loaded with
// --mmap-weights, against `small` (weights copied into huge-page memory, in packed panels where the kernel reads
// them, bf16 ones coded: the default); small_plain / small_fp8_plain: loaded with --plain-weights (bf16 panels not
// coded).
// Prefill: one sequence of 512 tokens from position 0 (small also 128: a serving prompt, where every expert is
// streamed for only ≈ 12 rows). Decode: one token at a time for a batch of B sequences,
// each with a 128-token context, a new random token per sequence each step. Counters: tok/s.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>

#include "model/deepseek.h"
#include "model/presets.h"

namespace fathom {
namespace {

const DeepseekModel& model_for(const std::string& preset) {
  static std::map<std::string, std::unique_ptr<DeepseekModel>> models;  // bench-local cache
  auto it = models.find(preset);
  if (it != models.end()) return *it->second;
  // "small-fp8": the small preset with e4m3 linear weights (128x128 block scales). Suffixes: "+head": loaded with
  // --lm-head-dtype fp8; "+mmap": with --mmap-weights (weights read from the file mapping, 4 KiB pages); "+plain":
  // with --plain-weights (bf16 in plain pair panels, not coded).
  auto ends_with = [](const std::string& s, const std::string& t) {
    return s.size() > t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  std::string name = preset;
  LoadOptions load;
  for (bool more = true; more;) {
    more = false;
    for (auto [suffix, flag] : {std::pair{"+head", &load.lm_head_fp8}, std::pair{"+mmap", &load.mmap_weights},
                                std::pair{"+plain", &load.plain_weights}}) {
      if (!ends_with(name, suffix)) continue;
      name.resize(name.size() - std::string(suffix).size());
      *flag = more = true;
    }
  }
  const bool fp8 = ends_with(name, "-fp8");
  const std::string dir = "/tmp/fathom-bench-" + name;
  if (!std::filesystem::exists(dir + "/model.safetensors")) {
    CreateOptions o;
    o.preset = fp8 ? name.substr(0, name.size() - 4) : name;
    o.fp8 = fp8;
    o.out_dir = dir;
    if (!create_model(o)) std::abort();
  }
  auto m = DeepseekModel::load(dir, {}, load);
  if (!m) std::abort();
  return *(models[preset] = std::move(*m));
}

void BM_Prefill(benchmark::State& state, const std::string& preset) {
  const DeepseekModel& m = model_for(preset);
  const int64_t T = state.range(0), bs = 64, nb = (T + bs - 1) / bs;
  ThreadPool pool(0);
  Workspace ws(m.config(), T, T, pool.n_threads());
  LatentCache cache = m.make_cache(nb, bs);
  std::vector<int32_t> ids(T), pos(T), seq(T, 0), table(nb), rows{static_cast<int32_t>(T - 1)};
  for (int64_t t = 0; t < T; ++t) ids[t] = static_cast<int32_t>(100 + t), pos[t] = static_cast<int32_t>(t);
  for (int64_t b = 0; b < nb; ++b) table[b] = static_cast<int32_t>(b);
  std::vector<float> logits(m.config().vocab_size);
  for (auto _ : state) m.forward({ids, pos, seq, table, static_cast<int32_t>(nb), rows}, cache, ws, logits.data(), &pool);
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(T), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Decode(benchmark::State& state, const std::string& preset) {
  const DeepseekModel& m = model_for(preset);
  const int64_t B = state.range(0), ctx = 128, bs = 64, nb = (ctx + 1 + bs - 1) / bs + 1;
  ThreadPool pool(0);
  Workspace ws(m.config(), std::max<int64_t>(B, ctx), ctx + 1, pool.n_threads());
  LatentCache cache = m.make_cache(B * nb, bs);
  std::vector<int32_t> table(B * nb);
  for (int64_t i = 0; i < B * nb; ++i) table[i] = static_cast<int32_t>(i);
  std::vector<float> logits(B * m.config().vocab_size);
  // Fill each sequence's context once.
  for (int64_t s = 0; s < B; ++s) {
    std::vector<int32_t> ids(ctx), pos(ctx), seq(ctx, static_cast<int32_t>(s)), rows{0};
    for (int64_t t = 0; t < ctx; ++t) ids[t] = static_cast<int32_t>(7 + t + s), pos[t] = static_cast<int32_t>(t);
    m.forward({ids, pos, seq, table, static_cast<int32_t>(nb), rows}, cache, ws, logits.data(), &pool);
  }
  std::vector<int32_t> ids(B, 42), pos(B, static_cast<int32_t>(ctx)), seq(B), rows(B);
  for (int64_t s = 0; s < B; ++s) seq[s] = static_cast<int32_t>(s), rows[s] = static_cast<int32_t>(s);
  // A different token every step (as llama-bench's tg does), so the routed experts change from step to step.
  uint32_t next = 12345;
  for (auto _ : state) {
    for (auto& id : ids) id = static_cast<int32_t>((next = next * 1664525u + 1013904223u) % m.config().vocab_size);
    m.forward({ids, pos, seq, table, static_cast<int32_t>(nb), rows}, cache, ws, logits.data(), &pool);
  }
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(B), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_Prefill, tiny, std::string("tiny"))->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decode, tiny, std::string("tiny"))->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Prefill, small, std::string("small"))->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decode, small, std::string("small"))->Arg(1)->Arg(16)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Prefill, small_fp8, std::string("small-fp8"))->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decode, small_fp8, std::string("small-fp8"))->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Prefill, small_plain, std::string("small+plain"))->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decode, small_plain, std::string("small+plain"))->Arg(1)->Arg(16)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decode, small_fp8_plain, std::string("small-fp8+plain"))->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Decode, small_mmap, std::string("small+mmap"))
    ->Arg(1)
    ->Arg(16)
    ->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Decode, small_fp8_head, std::string("small-fp8+head"))
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace fathom

BENCHMARK_MAIN();
