// One fuzz iteration for the chat-template interpreter, shared by the libFuzzer target (fuzz_chat_template.cpp)
// and the gtest smoke run (tests/unit/tokenizer/chat_template_fuzz_smoke_test.cpp).
// Input: template source, optionally followed by a NUL byte and a JSON render context; without one (or with
// invalid JSON) a fixed conversation is used. Any input must parse or fail cleanly, then render or fail cleanly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/parser.h"

namespace fathom::fuzz {

inline const nlohmann::ordered_json& default_context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Hi <think>x</think> ✨"},
      {"role": "assistant", "content": null, "tool_calls": [{"type": "function",
        "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
      {"role": "tool", "content": "42"},
      {"role": "assistant", "content": "<think>r</think>done", "reasoning_content": "r"}],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
      "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "thinking": true})");
  return ctx;
}

// Returns 0 when the input rendered, 1 when it was refused with a TemplateError; never throws.
inline int run_one(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string source = input.substr(0, nul);
  nlohmann::ordered_json context = default_context();
  if (nul != std::string::npos) {
    auto parsed = nlohmann::ordered_json::parse(input.substr(nul + 1), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) context = std::move(parsed);
  }
  jinja::RenderLimits limits;  // small, so that a fuzz iteration stays fast
  limits.max_output_bytes = size_t{1} << 20;
  limits.max_steps = 200'000;
  limits.max_call_depth = 50;
  try {
    auto program = jinja::parse_template(source);
    jinja::render_program(*program, jinja::from_json(context), limits);
    return 0;
  } catch (const jinja::TemplateError&) {
    return 1;
  }
}

}  // namespace fathom::fuzz
