#include "bench/backend.h"

namespace fathom::bench {

Expected<Backend> parse_backend(std::string_view name) {
  if (name == "lmdeploy") return Backend::kLmdeploy;
  if (name == "lmdeploy-chat") return Backend::kLmdeployChat;
  if (name == "openai" || name == "vllm") return Backend::kOpenai;
  if (name == "openai-chat" || name == "vllm-chat") return Backend::kOpenaiChat;
  return Status::error("--backend: unknown backend '" + std::string(name) +
                       "' (expected lmdeploy, lmdeploy-chat, openai or openai-chat)");
}

std::string_view backend_name(Backend b) {
  switch (b) {
    case Backend::kLmdeploy: return "lmdeploy";
    case Backend::kLmdeployChat: return "lmdeploy-chat";
    case Backend::kOpenai: return "openai";
    case Backend::kOpenaiChat: return "openai-chat";
  }
  return "?";
}

bool is_chat(Backend b) { return b == Backend::kLmdeployChat || b == Backend::kOpenaiChat; }

const char* backend_path(Backend b) { return is_chat(b) ? "/v1/chat/completions" : "/v1/completions"; }

std::string build_payload(Backend b, const BenchRequest& r, const PayloadOptions& o) {
  nlohmann::json j;
  j["model"] = o.model;
  if (is_chat(b)) {
    j["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", r.prompt}}});
    j["temperature"] = 0.0;
    j["max_completion_tokens"] = r.output_len;
  } else {
    j["prompt"] = r.prompt;
    j["temperature"] = 0.0;
    j["best_of"] = 1;
    j["max_tokens"] = r.output_len;
  }
  j["stream"] = o.stream;
  if (o.ignore_eos) j["ignore_eos"] = true;
  if (o.stream && (b == Backend::kOpenai || b == Backend::kOpenaiChat)) {
    j["stream_options"] = {{"include_usage", true}};
  }
  if (o.extra.is_object()) {
    for (auto it = o.extra.begin(); it != o.extra.end(); ++it) j[it.key()] = it.value();
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Expected<ChunkContent> parse_chunk(Backend b, std::string_view text, bool streamed) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::error("malformed JSON chunk: " + std::string(text.substr(0, 200)));
  }
  ChunkContent out;
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    if (auto c = u->find("completion_tokens"); c != u->end() && c->is_number_integer()) {
      out.completion_tokens = c->get<int64_t>();
    }
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return out;
  const nlohmann::json& c0 = (*choices)[0];
  const nlohmann::json* field = nullptr;
  if (!is_chat(b)) {
    if (auto t = c0.find("text"); t != c0.end()) field = &*t;
  } else {
    auto holder = c0.find(streamed ? "delta" : "message");
    if (holder != c0.end() && holder->is_object()) {
      if (auto t = holder->find("content"); t != holder->end()) field = &*t;
    }
  }
  if (field && field->is_string()) out.text = field->get<std::string>();
  return out;
}

}  // namespace fathom::bench
