// Executes a parsed template against a context, with jinja2's scoping (a for loop has its own scope; `if` does
// not; namespaces carry values out of loops), loop variables, break/continue, macros and HF's globals.
#pragma once
#include <cstdint>
#include <string>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace fathom::jinja {

// Bounds that keep a hostile template from exhausting memory or time; exceeding one is a render error.
struct RenderLimits {
  size_t max_output_bytes = size_t{256} << 20;  // also bounds any single string or list built while rendering
  int64_t max_steps = 5'000'000;  // statements + loop iterations + expressions (a 1000-message chat takes ~50k)
  int max_call_depth = 100;                     // nested macro calls
};

// `context` must be a dict: its keys are the template's variables. Throws TemplateError.
std::string render_program(const Program& program, const Value& context, const RenderLimits& limits);

}  // namespace fathom::jinja
