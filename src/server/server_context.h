// What the api_server's routes share: options, the tokenizer and chat template, the engine (once loaded), the
// stream pump and the metrics. Built by ApiServer; routes hold it through a shared_ptr.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/cors.h"
#include "server/metrics.h"
#include "server/prepare_queue.h"
#include "server/request_parser.h"
#include "server/stream_pump.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace fathom::server {

struct ServerConfig {
  std::string model_name;
  std::vector<std::string> api_keys;
  CorsPolicy cors;
  bool reasoning_parser = false;   // deepseek-r1
  bool tool_call_parser = false;   // deepseek-v3
  size_t max_stream_backlog = 1u << 20;  // bytes queued to a slow client before its stream pauses
};

struct ServerContext {
  ServerConfig cfg;
  ServerMetrics metrics;
  // Set once by the loader before `ready` is stored (release); read only after `ready` is seen (acquire).
  std::shared_ptr<const Tokenizer> tokenizer;
  std::optional<ChatTemplate> chat_template;
  Engine* engine = nullptr;
  StreamPump* pump = nullptr;
  PrepareQueue* prepare = nullptr;  // set before the listener starts
  ParseLimits limits;
  std::atomic<bool> ready{false};
  std::atomic<bool> shutting_down{false};
  std::atomic<bool> load_failed{false};  // stored (release) after load_error is written
  std::string load_error;
  std::atomic<uint64_t> id_counter{0};

  // "chatcmpl-" + 24 hex digits, unique in this process and unlikely to repeat across processes.
  std::string make_id(const char* prefix);
};

}  // namespace fathom::server
