// `fathom serve`: the group that holds `serve proxy` (cmd_serve_proxy.cpp) and, later, `serve api_server`. Each
// member adds itself through its own add_serve_<name>() so that the two live in separate files.
#include "cli/commands.h"

namespace fathom::cli {

void add_serve_proxy(CLI::App& serve, RunResult& result);  // cmd_serve_proxy.cpp
void add_serve_api_server(CLI::App& serve, RunResult& result);  // cmd_serve_api_server.cpp

void add_serve_commands(CLI::App& app, RunResult& result) {
  CLI::App* serve = app.add_subcommand("serve", "Serve a model (api_server) or route between servers (proxy)");
  serve->require_subcommand(1);
  add_serve_proxy(*serve, result);
  add_serve_api_server(*serve, result);
}

}  // namespace fathom::cli
