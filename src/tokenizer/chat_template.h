// Chat templates: a Jinja2-subset interpreter that renders a model's `chat_template` exactly as HF
// `apply_chat_template` does (jinja2 sandbox, trim_blocks, lstrip_blocks, loopcontrols, raise_exception,
// tojson without ASCII escaping). Parsing fails with a message naming the unsupported construct.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace fathom {

namespace jinja {
struct Program;  // parsed template (implementation detail)
}

class ChatTemplate {
 public:
  static Expected<ChatTemplate> parse(const std::string& source);

  // Renders with `context` as the template's variables, e.g. {"messages": [...], "add_generation_prompt": true,
  // "bos_token": "...", "eos_token": "...", "tools": [...]}. Errors (raise_exception, type errors) name the cause.
  Expected<std::string> render(const nlohmann::json& context) const;
  // The same with the context's key order kept: `tojson` prints dict keys in insertion order as Python does, and
  // nlohmann::json sorts them, so a caller that wants HF's byte-exact tool schemas passes an ordered_json.
  Expected<std::string> render(const nlohmann::ordered_json& context) const;

 private:
  std::shared_ptr<const jinja::Program> program_;
};

}  // namespace fathom
