// Builds the AST from tokens with jinja2's grammar and operator precedence. Anything outside the supported subset
// (extends, include, import, call blocks, filter blocks, recursive loops, *args...) fails here with a message that
// names the construct and its line.
#pragma once
#include <memory>
#include <string>

#include "tokenizer/jinja/ast.h"

namespace fathom::jinja {

// Throws TemplateError.
std::unique_ptr<Program> parse_template(const std::string& source);

}  // namespace fathom::jinja
