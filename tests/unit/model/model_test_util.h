// Shared helpers for model tests: create a preset checkpoint in a temporary folder, run a forward pass.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/deepseek.h"
#include "model/presets.h"

namespace fathom::test {

// A temporary folder removed when the object goes away.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/fathom-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// CreateOptions from `fathom model create` arguments (--preset, --seed, --dtype, --override).
inline CreateOptions create_options(const std::vector<std::string>& args, const std::string& out) {
  CreateOptions o;
  o.out_dir = out;
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--preset") o.preset = args[i + 1];
    else if (args[i] == "--seed") o.seed = std::stoull(args[i + 1]);
    else if (args[i] == "--dtype") o.fp8 = args[i + 1] == "fp8";
    else if (args[i] == "--override") o.override_json = args[i + 1];
  }
  return o;
}

// Runs one sequence's tokens through `model` in chunks of `chunk` tokens (0: all at once) and returns the
// logits of every position: [n, vocab].
inline std::vector<float> run_sequence(const DeepseekModel& model, const std::vector<int32_t>& ids, int64_t chunk,
                                       ThreadPool* pool) {
  const ModelConfig& c = model.config();
  const int64_t n = static_cast<int64_t>(ids.size()), bs = 16, n_blocks = (n + bs - 1) / bs;
  if (chunk <= 0) chunk = n;
  LatentCache cache = model.make_cache(n_blocks + 3, bs);
  // Pages deliberately not in order, so the block table matters.
  std::vector<int32_t> table(n_blocks);
  for (int64_t b = 0; b < n_blocks; ++b) table[b] = static_cast<int32_t>(n_blocks + 2 - b);
  Workspace ws(c, chunk, n, pool ? pool->n_threads() : 1);
  std::vector<float> logits(n * c.vocab_size);
  for (int64_t s = 0; s < n; s += chunk) {
    const int64_t e = std::min(n, s + chunk);
    std::vector<int32_t> tok(ids.begin() + s, ids.begin() + e), pos, seq(e - s, 0), rows;
    for (int64_t t = s; t < e; ++t) pos.push_back(static_cast<int32_t>(t)), rows.push_back(static_cast<int32_t>(t - s));
    ForwardBatch b{tok, pos, seq, table, static_cast<int32_t>(n_blocks), rows};
    model.forward(b, cache, ws, logits.data() + s * c.vocab_size, pool);
  }
  return logits;
}

}  // namespace fathom::test
