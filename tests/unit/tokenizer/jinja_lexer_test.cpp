// The lexer's whitespace handling, token by token: jinja2 with trim_blocks and lstrip_blocks.
#include "tokenizer/jinja/lexer.h"

#include <gtest/gtest.h>

#include "tokenizer/jinja/error.h"

namespace fathom::jinja {
namespace {

// The text tokens only, joined with '|'.
std::string texts(const std::string& src) {
  std::string out;
  for (const Token& t : tokenize(src)) {
    if (t.kind == TokKind::kText) out += (out.empty() ? "" : "|") + t.text;
  }
  return out;
}

TEST(JinjaLexer, TrimBlocksDropsOneNewlineAfterBlockAndCommentTags) {
  EXPECT_EQ(texts("{% if x %}\nA\n{% endif %}\n\nB"), "A\n|\nB");
  EXPECT_EQ(texts("{# c #}\nA"), "A");
  EXPECT_EQ(texts("{{ x }}\nA"), "\nA");  // not after {{ }}
  EXPECT_EQ(texts("{% if x +%}\nA"), "\nA");
}

TEST(JinjaLexer, LstripBlocksRemovesIndentOfTagLines) {
  EXPECT_EQ(texts("A\n    {% if x %}B"), "A\n|B");
  EXPECT_EQ(texts("A\n \t {# c #}B"), "A\n|B");
  EXPECT_EQ(texts("A\n  x {% if x %}B"), "A\n  x |B");  // not alone on its line
  EXPECT_EQ(texts("A\n  {%+ if x %}B"), "A\n  |B");
  EXPECT_EQ(texts("A\n  {{ x }}B"), "A\n  |B");  // never before {{ }}
  EXPECT_EQ(texts("   {% if x %}B"), "B");        // start of template counts as a line start
}

TEST(JinjaLexer, MinusStripsAllWhitespaceIncludingUnicode) {
  EXPECT_EQ(texts("A \n\t\u3000{%- if x -%} \n B"), "A|B");
  EXPECT_EQ(texts("A  {{- x -}}  B"), "A|B");
  EXPECT_EQ(texts("A {#- c -#} B"), "A|B");
}

TEST(JinjaLexer, NewlinesAreNormalisedAndOneTrailingNewlineDropped) {
  EXPECT_EQ(texts("A\r\nB\rC\n"), "A\nB\nC");
  EXPECT_EQ(texts("A\n\n"), "A\n");
}

TEST(JinjaLexer, StringLiteralsDecodeLikePython) {
  const auto toks = tokenize("{{ 'a\\n\\t\\x41\\u00e9\\U0001F600\\101\\q' \"it's\" }}");
  ASSERT_EQ(toks[1].kind, TokKind::kString);
  EXPECT_EQ(toks[1].text, "a\n\tA\xc3\xa9\xf0\x9f\x98\x80" "A\\q");
  EXPECT_EQ(toks[2].text, "it's");
}

TEST(JinjaLexer, NumbersAndLineNumbers) {
  const auto toks = tokenize("\n\n{{ 1_000 + 0x1F + 2.5e3 + x.0 }}");
  EXPECT_EQ(toks[1].line, 3);
  EXPECT_EQ(toks[2].int_value, 1000);
  EXPECT_EQ(toks[4].int_value, 31);
  EXPECT_DOUBLE_EQ(toks[6].float_value, 2500.0);
  EXPECT_EQ(toks[10].kind, TokKind::kInt);  // `.0` after a name is an index, not a float
}

TEST(JinjaLexer, RawBlocksAreText) { EXPECT_EQ(texts("{% raw %}{{ x }}{% endraw %}"), "{{ x }}"); }

TEST(JinjaLexer, ErrorsCarryTheLine) {
  try {
    tokenize("a\nb\n{{ 'open }}");
    FAIL() << "expected a TemplateError";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.line(), 3);
  }
}

}  // namespace
}  // namespace fathom::jinja
