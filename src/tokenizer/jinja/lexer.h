// Splits a template into text and tag tokens exactly as jinja2's lexer does with HF's settings: newlines
// normalised to "\n", one trailing newline dropped, `{%-`/`-%}`/`{{-`/`-}}`/`{#-`/`-#}` whitespace control,
// trim_blocks (the newline after a block or comment tag), lstrip_blocks (spaces and tabs before a block or comment
// tag on its own line; `{%+` opts out), comments dropped, `{% raw %}` kept verbatim.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fathom::jinja {

enum class TokKind : uint8_t { kText, kBlockBegin, kBlockEnd, kVarBegin, kVarEnd, kName, kString, kInt, kFloat, kOp, kEof };

struct Token {
  TokKind kind;
  std::string text;  // text, name, operator, or the decoded value of a string literal
  int line;
  int64_t int_value = 0;
  double float_value = 0;
};

// Throws TemplateError on a malformed template (unterminated tag, comment, string or raw block; bad character).
std::vector<Token> tokenize(const std::string& source);

}  // namespace fathom::jinja
