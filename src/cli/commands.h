// One function per subcommand group; each adds its subcommands (and their handlers) to the app.
// Handlers return the process exit code; errors are printed as one line naming the file or field.
#pragma once
#include <CLI/CLI.hpp>

namespace fathom {
struct LoadOptions;
}

namespace fathom::cli {

// --lm-head-dtype, for every command that loads a model (cmd_generate.cpp).
void add_load_options(CLI::App* cmd, LoadOptions& o);

// Set by a handler when it ran; main() returns it.
struct RunResult {
  int exit_code = 0;
};

// The `bench` group (serve, throughput), created by whichever command registers first.
CLI::App* bench_group(CLI::App& app);

void add_model_commands(CLI::App& app, RunResult& result);     // model create | model inspect
void add_logits_command(CLI::App& app, RunResult& result);     // logits
void add_generate_command(CLI::App& app, RunResult& result);   // generate
void add_tokenizer_commands(CLI::App& app, RunResult& result); // tokenize | detokenize
void add_serve_commands(CLI::App& app, RunResult& result);     // serve proxy | serve api_server
void add_bench_serve_command(CLI::App& app, RunResult& result); // bench serve

}  // namespace fathom::cli
