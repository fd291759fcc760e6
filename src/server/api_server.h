// `fathom serve api_server`: the OpenAI-compatible server around one engine. listen() binds at once so that
// /health answers 503 while load() reads the model; stop() drains in-flight requests (up to a grace period),
// withdraws the node from its proxy, then stops the engine.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/engine_factory.h"

namespace fathom::server {

struct ApiServerOptions {
  std::string model_dir;   // resolved HF folder
  std::string host = "0.0.0.0";
  uint16_t port = 23333;   // 0: any free port
  std::string model_name;  // "" → model_dir as given
  std::vector<std::string> api_keys;
  std::vector<std::string> allow_origins = {"*"};
  bool allow_credentials = false;
  std::string proxy_url;
  std::string reasoning_parser;  // "" | deepseek-r1
  std::string tool_call_parser;  // "" | deepseek-v3
  int n_io_threads = 2;
  int n_prepare_threads = 1;  // parse + template + tokenize, off the io threads
  size_t max_body_bytes = 8u << 20;
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  EngineOptions engine;
};

// Checks the option values that need no model (parser names, port); errors name the flag.
Status validate_options(const ApiServerOptions& o);

class ApiServer {
 public:
  static Expected<std::unique_ptr<ApiServer>> listen(const ApiServerOptions& options);
  ~ApiServer();  // stop()

  // Loads tokenizer, chat template and engine; then the generation routes open and, with --proxy-url, the node
  // is registered. On failure /health reports it (503) and the error is returned.
  Status load();
  uint16_t port() const;
  void stop();

  struct Impl;

 private:
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fathom::server
