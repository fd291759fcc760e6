// fathom logits [MODEL] --ids 1,2,3 [--all-positions] [--out FILE.json]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "model/deepseek.h"
#include "dist/comm.h"
#include "dist/config_check.h"
#include "model/model_dir.h"

namespace fathom::cli {

namespace {

struct LogitsArgs {
  std::string model;
  std::string ids;
  bool all_positions = false;
  std::string out;
  int threads = 0;
  int tp = 1;
  LoadOptions load;
};

Expected<std::vector<int32_t>> parse_ids(const std::string& s, int64_t vocab) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0') return Status::error("--ids: '" + item + "' is not an integer");
    if (v < 0 || v >= vocab) return Status::error("--ids: " + item + " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) return Status::error("--ids: no token ids given");
  return ids;
}

int run_logits(const LogitsArgs& a) {
  auto fail = [](const std::string& m) {
    std::fprintf(stderr, "error: %s\n", m.c_str());
    return 1;
  };
  std::unique_ptr<Comm> comm = a.tp > 1 ? make_world_comm() : make_local_comm();
  if (comm->size() != a.tp)
    return fail("--tp " + std::to_string(a.tp) + " needs exactly " + std::to_string(a.tp) +
                " ranks (run under mpirun -np " + std::to_string(a.tp) + "); this job has " +
                std::to_string(comm->size()) + (mpi_available() ? "" : " (this build has no MPI)"));
  auto dir = resolve_model_dir(a.model);
  if (!dir) comm->abort_job(dir.error());
  Status same = check_same_config(*comm, *dir + "/config.json");
  if (!same) comm->abort_job(same.message());
  auto model = DeepseekModel::load(*dir, ShardSpec{comm->rank(), comm->size()}, a.load);
  if (!model) comm->abort_job(model.error());
  const ModelConfig& c = (*model)->config();
  auto ids = parse_ids(a.ids, c.vocab_size);
  if (!ids) return fail(ids.error());
  const int64_t T = static_cast<int64_t>(ids->size()), bs = 64, n_blocks = (T + bs - 1) / bs;
  LatentCache cache = (*model)->make_cache(n_blocks, bs);
  ThreadPool pool(a.threads);
  Workspace ws(c, T, T, pool.n_threads());
  std::vector<int32_t> pos(T), seq(T, 0), table(n_blocks), rows;
  for (int64_t t = 0; t < T; ++t) pos[t] = static_cast<int32_t>(t);
  for (int64_t b = 0; b < n_blocks; ++b) table[b] = static_cast<int32_t>(b);
  if (a.all_positions) {
    for (int64_t t = 0; t < T; ++t) rows.push_back(static_cast<int32_t>(t));
  } else {
    rows.push_back(static_cast<int32_t>(T - 1));
  }
  ForwardBatch batch{*ids, pos, seq, table, static_cast<int32_t>(n_blocks), rows};
  std::vector<float> logits(rows.size() * c.vocab_size);
  (*model)->forward(batch, cache, ws, logits.data(), &pool, comm.get());
  if (comm->rank() != 0) return 0;  // every rank holds the same logits; rank 0 prints them
  nlohmann::json out;
  out["ids"] = *ids;
  out["logits"] = nlohmann::json::array();
  for (size_t r = 0; r < rows.size(); ++r)
    out["logits"].push_back(std::vector<float>(logits.begin() + r * c.vocab_size, logits.begin() + (r + 1) * c.vocab_size));
  if (a.out.empty()) {
    std::cout << out.dump() << "\n";
  } else {
    std::ofstream f(a.out);
    if (!f) return fail(a.out + ": cannot create");
    f << out.dump() << "\n";
  }
  return 0;
}

}  // namespace

void add_logits_command(CLI::App& app, RunResult& result) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* cmd = app.add_subcommand("logits", "Print the model's logits for a sequence of token ids (JSON)");
  cmd->add_option("model", args->model, "Model folder (default: the embedded tiny model)");
  cmd->add_option("--ids", args->ids, "Comma-separated token ids")->required();
  cmd->add_flag("--all-positions", args->all_positions, "Logits for every position (default: last only)");
  cmd->add_option("--out", args->out, "Write the JSON here instead of stdout");
  cmd->add_option("--threads", args->threads, "Worker threads (default: all cores)");
  cmd->add_option("--tp", args->tp, "Tensor-parallel ranks (under mpirun)");
  add_load_options(cmd, args->load);
  cmd->callback([args, &result] { result.exit_code = run_logits(*args); });
}

}  // namespace fathom::cli
