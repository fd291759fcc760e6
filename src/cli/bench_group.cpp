#include "cli/commands.h"

namespace fathom::cli {

CLI::App* bench_group(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App* s) { return s->get_name() == "bench"; })) return sub;
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (serve: against a server; throughput: in-process engine)");
  bench->require_subcommand(1);
  return bench;
}

}  // namespace fathom::cli
