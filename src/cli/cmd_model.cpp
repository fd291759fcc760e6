// fathom model create | model inspect
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/sysinfo.h"
#include "model/inspect.h"
#include "model/model_dir.h"
#include "model/presets.h"
#include "model/safetensors.h"

namespace fathom::cli {

namespace {

struct CreateArgs {
  CreateOptions opt;
  std::string dtype = "bf16";
};

struct InspectArgs {
  std::string model;
  double memory = 0;         // bytes; 0 → this machine's RAM
  int64_t cache_tokens = 32768;
  bool json = false;
};

std::string human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[u]);
  return buf;
}

std::string billions(int64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
  return buf;
}

int run_create(CreateArgs& a) {
  if (a.dtype != "bf16" && a.dtype != "fp8") {
    std::fprintf(stderr, "error: --dtype must be bf16 or fp8 (got '%s')\n", a.dtype.c_str());
    return 2;
  }
  a.opt.fp8 = a.dtype == "fp8";
  Status st = create_model(a.opt);
  if (!st) {
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("created %s (%s)\n", a.opt.out_dir.c_str(), a.opt.preset.c_str());
  return 0;
}

int run_inspect(const InspectArgs& a) {
  auto dir = resolve_model_dir(a.model);
  if (!dir) {
    std::fprintf(stderr, "error: %s\n", dir.error().c_str());
    return 1;
  }
  auto cfg = load_model_config(*dir + "/config.json");
  if (!cfg) {
    std::fprintf(stderr, "error: %s\n", cfg.error().c_str());
    return 1;
  }
  const ModelAccounting acc = account(*cfg);
  nlohmann::json out;
  out["model"] = *dir;
  out["model_type"] = cfg->model_type;
  out["params_total"] = acc.params_total;
  out["params_active"] = acc.params_active;
  out["params_mtp"] = acc.params_mtp;
  out["cache_values_per_token_per_layer"] = acc.cache_values_per_token_per_layer;
  out["cache_bytes_per_token"] = acc.cache_bytes_per_token;
  int64_t weight_bytes = acc.weight_bytes;
  std::map<std::string, int64_t> by_dtype = acc.weight_bytes_by_dtype;
  std::string weight_source = "predicted from config.json";
  std::error_code ec;
  const bool has_ckpt = std::filesystem::exists(*dir + "/model.safetensors", ec) ||
                        std::filesystem::exists(*dir + "/model.safetensors.index.json", ec);
  if (has_ckpt) {
    auto ck = Checkpoint::open(*dir);
    if (!ck) {
      std::fprintf(stderr, "error: %s\n", ck.error().c_str());
      return 1;
    }
    by_dtype.clear();
    weight_bytes = 0;
    for (const auto& [name, t] : ck->tensors()) {
      by_dtype[dtype_name(t.dtype)] += static_cast<int64_t>(t.n_bytes);
      weight_bytes += static_cast<int64_t>(t.n_bytes);
    }
    weight_source = "read from the checkpoint";
  }
  out["weight_bytes"] = weight_bytes;
  out["weight_bytes_by_dtype"] = by_dtype;
  out["weight_source"] = weight_source;
  const int64_t memory = a.memory > 0 ? static_cast<int64_t>(a.memory) : total_memory_bytes();
  const int64_t cache_bytes = a.cache_tokens * acc.cache_bytes_per_token;
  const int64_t left = memory - weight_bytes;
  out["memory_bytes"] = memory;
  out["cache_tokens"] = a.cache_tokens;
  out["cache_bytes"] = cache_bytes;
  out["fits"] = weight_bytes + cache_bytes <= memory;
  out["max_cache_tokens"] = left > 0 ? left / acc.cache_bytes_per_token : 0;
  if (a.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("model:        %s (%s)\n", dir->c_str(), cfg->model_type.c_str());
  std::printf("parameters:   %s total, %s activated per token", billions(acc.params_total).c_str(),
              billions(acc.params_active).c_str());
  if (acc.params_mtp) std::printf(" (+ %s in MTP modules)", billions(acc.params_mtp).c_str());
  std::printf("\nweights:      %s (%s)\n", human(static_cast<double>(weight_bytes)).c_str(), weight_source.c_str());
  for (const auto& [k, v] : by_dtype) std::printf("              %-14s %s\n", k.c_str(), human(static_cast<double>(v)).c_str());
  std::printf("latent cache: %lld values per token per layer (kv_lora_rank %lld + qk_rope_head_dim %lld), "
              "%lld bytes per token (bf16, %lld layers)\n",
              static_cast<long long>(acc.cache_values_per_token_per_layer), static_cast<long long>(cfg->kv_lora_rank),
              static_cast<long long>(cfg->qk_rope_head_dim), static_cast<long long>(acc.cache_bytes_per_token),
              static_cast<long long>(cfg->num_hidden_layers));
  std::printf("memory:       %s; weights + cache for %lld tokens (%s) %s; room for %lld cached tokens\n",
              human(static_cast<double>(memory)).c_str(), static_cast<long long>(a.cache_tokens),
              human(static_cast<double>(cache_bytes)).c_str(), out["fits"].get<bool>() ? "fit" : "DO NOT FIT",
              static_cast<long long>(out["max_cache_tokens"].get<int64_t>()));
  return 0;
}

}  // namespace

void add_model_commands(CLI::App& app, RunResult& result) {
  CLI::App* model = app.add_subcommand("model", "Create random preset checkpoints; inspect a model's memory needs");
  model->require_subcommand(1);

  auto create = std::make_shared<CreateArgs>();
  CLI::App* c = model->add_subcommand("create", "Write a preset model (config, random weights, tokenizer)");
  c->add_option("--preset", create->opt.preset, "tiny | small | v2-lite | v3-671b")->required();
  c->add_option("--out", create->opt.out_dir, "Output folder")->required();
  c->add_option("--seed", create->opt.seed, "Random seed (same seed, same bytes)");
  c->add_option("--dtype", create->dtype, "bf16 | fp8 (e4m3 with 128x128 block scales)");
  c->add_option("--override", create->opt.override_json, "JSON object merged into the preset's config.json");
  c->add_flag("--config-only", create->opt.config_only, "Write only config.json, generation_config.json, tokenizer");
  c->add_option("--max-shard-bytes", create->opt.max_shard_bytes, "Split the checkpoint into shards of this size");
  c->callback([create, &result] { result.exit_code = run_create(*create); });

  auto inspect = std::make_shared<InspectArgs>();
  CLI::App* i = model->add_subcommand("inspect", "Parameters, weight bytes, latent-cache size, fit in memory");
  i->add_option("model", inspect->model, "Model folder (default: the embedded tiny model)");
  i->add_option("--memory", inspect->memory, "Memory budget in bytes (default: this machine's RAM)");
  i->add_option("--cache-tokens", inspect->cache_tokens, "Cached tokens to plan for (default 32768)");
  i->add_flag("--json", inspect->json, "Print JSON");
  i->callback([inspect, &result] { result.exit_code = run_inspect(*inspect); });
}

}  // namespace fathom::cli
