// Shared helpers for the engine tests: building an engine over the fake model, and the oracle (what a request
// must produce, computed from the fake model's cache-free reference logits and a fresh Sampler).
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "engine/engine.h"
#include "engine/fake_executor.h"
#include "engine/generation_config.h"
#include "engine/sampler.h"

namespace fathom::test {

constexpr int64_t kVocab = 512;
constexpr int32_t kEos = 7;

inline EngineConfig fake_config(int32_t max_batch = 16, int32_t max_prefill = 256, bool prefix = false) {
  EngineConfig c;
  c.max_batch_size = max_batch;
  c.max_prefill_tokens = max_prefill;
  c.enable_prefix_caching = prefix;
  c.defaults.temperature = 0.0f;
  c.defaults.eos_token_ids = {kEos};
  return c;
}

inline std::unique_ptr<Engine> fake_engine(const EngineConfig& c, int32_t n_blocks, int32_t block_size,
                                           FakeExecutor** exec_out = nullptr) {
  auto exec = std::make_unique<FakeExecutor>(kVocab, n_blocks, block_size,
                                             static_cast<int64_t>(c.max_prefill_tokens) + c.max_batch_size);
  if (exec_out) *exec_out = exec.get();
  return std::make_unique<Engine>(std::move(exec), c);
}

inline std::vector<int32_t> random_prompt(std::mt19937& rng, int n) {
  std::uniform_int_distribution<int32_t> d(10, kVocab - 1);  // never the EOS id
  std::vector<int32_t> p(n);
  for (auto& t : p) t = d(rng);
  return p;
}

// What the engine must return for this request (seed must be set when sampling).
inline std::vector<int32_t> oracle(const GenerateRequest& req, const GenerationDefaults& d) {
  auto rs = resolve_sampling(req.sampling, d, kVocab, 1 << 20);
  Sampler sampler(kVocab);
  std::vector<int32_t> hist = req.prompt_ids, out;
  std::vector<float> logits(kVocab);
  for (;;) {
    FakeExecutor::reference_logits(hist, kVocab, logits.data());
    const int32_t t = sampler.sample(logits.data(), *rs, hist, static_cast<int32_t>(req.prompt_ids.size()),
                                     d.eos_token_ids, nullptr);
    hist.push_back(t);
    out.push_back(t);
    const bool eos = !rs->ignore_eos && t == kEos;
    bool stop = eos;
    for (int32_t s : rs->stop_token_ids) stop |= t == s;
    if (stop || static_cast<int32_t>(out.size()) >= rs->max_tokens) return out;
  }
}

}  // namespace fathom::test
