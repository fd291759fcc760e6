// ChatTemplate behaviour that the jinja2 golden files do not pin down: error messages (construct and line),
// key order of the two JSON context types, resource limits and hostile inputs.
#include "tokenizer/chat_template.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/parser.h"

namespace fathom {
namespace {

using ::testing::HasSubstr;

std::string render(const std::string& source, const nlohmann::json& ctx = nlohmann::json::object()) {
  auto t = ChatTemplate::parse(source);
  if (!t) return "PARSE ERROR: " + t.error();
  auto out = t->render(ctx);
  return out ? *out : "RENDER ERROR: " + out.error();
}

std::string parse_error(const std::string& source) {
  auto t = ChatTemplate::parse(source);
  return t ? std::string("(parsed)") : t.error();
}

TEST(ChatTemplate, RendersMessages) {
  const nlohmann::json ctx = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"add_generation_prompt", true}};
  EXPECT_EQ(render("{% for m in messages %}<{{ m.role }}>{{ m['content'] }}{% endfor %}"
                   "{% if add_generation_prompt %}<a>{% endif %}", ctx),
            "<user>hi<a>");
}

TEST(ChatTemplate, UnsupportedStatementsFailAtParseNamingConstructAndLine) {
  EXPECT_THAT(parse_error("ok\n{% include 'x' %}"), HasSubstr("line 2"));
  EXPECT_THAT(parse_error("ok\n{% include 'x' %}"), HasSubstr("'{% include %}'"));
  EXPECT_THAT(parse_error("{% extends 'base' %}"), HasSubstr("unsupported construct: '{% extends %}'"));
  EXPECT_THAT(parse_error("{% call foo() %}{% endcall %}"), HasSubstr("'{% call %}'"));
  EXPECT_THAT(parse_error("{% filter upper %}x{% endfilter %}"), HasSubstr("'{% filter %}'"));
  EXPECT_THAT(parse_error("{% for x in y recursive %}{% endfor %}"), HasSubstr("recursive for loop"));
  EXPECT_THAT(parse_error("{{ f(*args) }}"), HasSubstr("*args"));
  EXPECT_THAT(parse_error("{% bogus %}"), HasSubstr("unknown statement '{% bogus %}'"));
  EXPECT_THAT(parse_error("a\nb\n{{ x | nosuch }}"), HasSubstr("line 3: unknown filter 'nosuch'"));
  EXPECT_THAT(parse_error("{{ x is nosuch }}"), HasSubstr("unknown test 'nosuch'"));
  EXPECT_THAT(parse_error("{% break %}"), HasSubstr("'break' outside of a for loop"));
}

TEST(ChatTemplate, MalformedTemplatesFailAtParse) {
  EXPECT_THAT(parse_error("{% if x %}never closed"), HasSubstr("looking for '{% endif %}'"));
  EXPECT_THAT(parse_error("{{ 'unterminated }}"), HasSubstr("unterminated string"));
  EXPECT_THAT(parse_error("{# no end"), HasSubstr("missing end of comment"));
  EXPECT_THAT(parse_error("{{ (1 }}"), HasSubstr("unexpected '}', expected ')'"));
  EXPECT_THAT(parse_error("{{ 1 +"), HasSubstr("unexpected end of template"));
  EXPECT_THAT(parse_error("{% raw %}no end"), HasSubstr("missing end of raw"));
  EXPECT_THAT(parse_error("{{ 99999999999999999999 }}"), HasSubstr("too large"));
  EXPECT_THAT(parse_error("{{ '\\N{BULLET}' }}"), HasSubstr("\\N{...}"));
}

TEST(ChatTemplate, RenderErrorsNameTheCauseAndLine) {
  EXPECT_EQ(render("\n{{ raise_exception('Only user and assistant roles are supported!') }}"),
            "RENDER ERROR: chat template line 2: raise_exception: Only user and assistant roles are supported!");
  EXPECT_THAT(render("{{ missing.attr }}"), HasSubstr("'missing' is undefined"));
  EXPECT_THAT(render("{{ 1 + 'a' }}"), HasSubstr("unsupported operand type(s) for +: 'int' and 'str'"));
  EXPECT_THAT(render("{{ 'a' + 1 }}"), HasSubstr("can only concatenate str (not \"int\") to str"));
  EXPECT_THAT(render("{{ [1].append(2) }}"), HasSubstr("unsafe"));
  EXPECT_THAT(render("{{ 1 // 0 }}"), HasSubstr("division or modulo by zero"));
  EXPECT_THAT(render("{% set x = 1 %}{% set x.a = 2 %}"), HasSubstr("non-namespace"));
  EXPECT_THAT(render("{{ x|tojson }}"), HasSubstr("not JSON serializable"));
  EXPECT_THAT(render("{{ '%s' % 1 }}"), HasSubstr("printf-style"));
  EXPECT_THAT(render("{{ 9223372036854775807 + 1 }}"), HasSubstr("integer overflow"));
}

TEST(ChatTemplate, UndefinedBehavesLikeJinja2DefaultUndefined) {
  EXPECT_EQ(render("[{{ nope }}][{{ nope is defined }}][{{ nope|length }}][{{ nope|default('d') }}]"
                   "[{% for x in nope %}x{% else %}empty{% endfor %}][{{ 'a' in nope }}][{{ not nope }}]"),
            "[][False][0][d][empty][False][True]");
  EXPECT_EQ(render("{{ d.missing is defined }}|{{ d['missing'] }}|{{ d.missing ~ 'x' }}", {{"d", {{"k", 1}}}}),
            "False||x");
  EXPECT_THAT(render("{{ nope + 'x' }}"), HasSubstr("'nope' is undefined"));
  EXPECT_THAT(render("{{ d.missing.deeper }}", {{"d", nlohmann::json::object()}}), HasSubstr("has no attribute 'missing'"));
}

TEST(ChatTemplate, TojsonKeepsInsertionOrderWithOrderedJson) {
  auto t = ChatTemplate::parse("{{ tools|tojson }}");
  ASSERT_TRUE(t);
  const auto ordered = nlohmann::ordered_json::parse(R"({"tools": {"zeta": 1, "alpha": "é"}})");
  EXPECT_EQ(*t->render(ordered), R"({"zeta": 1, "alpha": "é"})");
  // nlohmann::json is a sorted map: the keys come out sorted.
  EXPECT_EQ(*t->render(nlohmann::json::parse(R"({"tools": {"zeta": 1, "alpha": "é"}})")), R"({"alpha": "é", "zeta": 1})");
}

TEST(ChatTemplate, ContextMustBeAnObject) {
  auto t = ChatTemplate::parse("x");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->render(nlohmann::json::array()));
  EXPECT_TRUE(t->render(nlohmann::json::object()));
}

TEST(ChatTemplate, DefaultConstructedTemplateRefusesToRenderAndCopiesShareTheProgram) {
  ChatTemplate empty;
  EXPECT_FALSE(empty.render(nlohmann::json::object()));
  auto t = ChatTemplate::parse("x");
  ASSERT_TRUE(t);
  ChatTemplate copy = *t;
  EXPECT_EQ(*copy.render(nlohmann::json::object()), "x");
}

TEST(ChatTemplate, HostileTemplatesHitLimitsInsteadOfExhaustingResources) {
  EXPECT_THAT(render("{% for i in range(100001) %}{% endfor %}"), HasSubstr("range too big"));
  EXPECT_THAT(render("{{ 'x' * 100000000000 }}"), HasSubstr("too large"));
  EXPECT_THAT(render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), HasSubstr("nested too deeply"));
  EXPECT_THAT(parse_error("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"), HasSubstr("nesting is too deep"));
  EXPECT_THAT(render("{% set ns = namespace(v=[]) %}{% for i in range(2000) %}{% set ns.v = [ns.v] %}{% endfor %}"),
              HasSubstr("nest deeper than"));
  // A namespace that holds itself: printing stops, and the cycle is broken after rendering (no leak, no crash).
  EXPECT_THAT(render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"), HasSubstr("<Namespace {'me': <Namespace"));
}

TEST(ChatTemplate, StepBudgetStopsRunawayLoops) {
  auto program = jinja::parse_template("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}");
  jinja::RenderLimits limits;
  limits.max_steps = 100000;
  try {
    jinja::render_program(*program, jinja::Value::dict({}), limits);
    FAIL() << "expected the step budget to stop the loop";
  } catch (const jinja::TemplateError& e) {
    EXPECT_THAT(e.what(), HasSubstr("step budget"));
  }
}

TEST(ChatTemplate, DeeplyNestedContextIsRefused) {
  nlohmann::json deep = 1;
  for (int i = 0; i < 2000; ++i) deep = nlohmann::json::array({deep});
  auto t = ChatTemplate::parse("{{ x }}");
  ASSERT_TRUE(t);
  auto out = t->render(nlohmann::json{{"x", deep}});
  ASSERT_FALSE(out);
  EXPECT_THAT(out.error(), HasSubstr("nests deeper"));
}

TEST(ChatTemplate, InvalidUtf8IsHandledBytewise) {
  // Bytes that are not UTF-8 are kept as they are; length and slicing count each bad byte as one character.
  EXPECT_EQ(render("{{ s|length }}|{{ s[::-1]|length }}", {{"s", "ok"}}), "2|2");
  const std::string bad = "a\xff\xfe" "b";
  EXPECT_EQ(render("x" + bad + "{{ 1 }}"), "x" + bad + "1");
}

}  // namespace
}  // namespace fathom
