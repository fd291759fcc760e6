// fathom: one binary, LMDeploy-shaped subcommands (DESIGN.md §1).
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Fathom: serve DeepSeek-V3-architecture models", "fathom"};
  app.require_subcommand(1);
  fathom::cli::RunResult result;
  fathom::cli::add_model_commands(app, result);
  fathom::cli::add_logits_command(app, result);
  fathom::cli::add_serve_commands(app, result);
  fathom::cli::add_generate_command(app, result);
  fathom::cli::add_tokenizer_commands(app, result);
  fathom::cli::add_bench_serve_command(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return result.exit_code;
}
