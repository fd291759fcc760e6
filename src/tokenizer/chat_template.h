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

 private:
  std::shared_ptr<const jinja::Program> program_;
};

}  // namespace fathom
