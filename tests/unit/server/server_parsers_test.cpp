// Request parsing (values, precedence, field-naming errors) and the streaming reasoning / tool-call parsers
// (any split of the text gives the one-shot result).
#include <gtest/gtest.h>

#include "server/reasoning_parser.h"
#include "server/request_parser.h"
#include "server/tool_call_parser.h"

namespace fathom::server {
namespace {

ApiRequest parse_ok(Endpoint ep, const std::string& body) {
  ApiRequest r;
  auto e = parse_request(ep, body, ParseLimits{}, r);
  EXPECT_FALSE(e.has_value()) << (e ? e->message : "");
  return r;
}

ApiError parse_err(Endpoint ep, const std::string& body) {
  ApiRequest r;
  auto e = parse_request(ep, body, ParseLimits{}, r);
  EXPECT_TRUE(e.has_value()) << body;
  return e.value_or(ApiError{});
}

TEST(ServerRequestParser, ChatValuesAndDefaults) {
  ApiRequest r = parse_ok(Endpoint::kChat, R"({"model":"m","messages":[{"role":"developer","content":"s"},
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
      "max_tokens":7,"max_completion_tokens":5,"temperature":0,"top_k":-1,"seed":18446744073709551615,
      "stop":"x","n":2,"logprobs":true,"top_logprobs":3,"stream":true,"stream_options":{"include_usage":true},
      "logit_bias":{"42":-100},"ignore_eos":true,"min_tokens":2})");
  ASSERT_EQ(r.prompts.size(), 1u);
  const auto& m = r.prompts[0].messages;
  EXPECT_EQ(m[0]["role"], "system");  // developer is the system role
  EXPECT_EQ(m[1]["content"], "a\nb");
  EXPECT_EQ(*r.sampling.max_tokens, 5);  // max_completion_tokens wins
  EXPECT_EQ(*r.sampling.temperature, 0.0f);
  EXPECT_EQ(*r.sampling.top_k, 0);  // -1: off
  EXPECT_EQ(*r.sampling.seed, 18446744073709551615ull);
  EXPECT_EQ(r.stop, std::vector<std::string>{"x"});
  EXPECT_EQ(r.n, 2);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_TRUE(r.stream && r.include_usage);
  ASSERT_EQ(r.sampling.logit_bias.size(), 1u);
  EXPECT_EQ(r.sampling.logit_bias[0].first, 42);
  EXPECT_TRUE(r.sampling.ignore_eos);
  EXPECT_EQ(r.sampling.min_tokens, 2);
  EXPECT_FALSE(parse_ok(Endpoint::kChat, R"({"model":"m","messages":"raw"})").prompts[0].kind ==
               PromptInput::Kind::kMessages);
}

TEST(ServerRequestParser, ErrorsNameTheField) {
  EXPECT_EQ(parse_err(Endpoint::kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"top_p":0})").param,
            "top_p");
  ApiError e = parse_err(Endpoint::kChat, R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":1}]}]})");
  EXPECT_EQ(e.param, "messages[0].content[0].text");
  EXPECT_EQ(e.status, 400);
  EXPECT_NE(parse_err(Endpoint::kChat, R"({"model":"m","messages":[]})").message.find("must not be empty"),
            std::string::npos);
  EXPECT_EQ(parse_err(Endpoint::kCompletion, R"({"model":"m","prompt":[1,-2]})").param, "prompt[1]");
  EXPECT_EQ(parse_err(Endpoint::kGenerate, R"({"prompt":"a","input_ids":[1]})").param, "input_ids");
  std::string deep(200, '[');
  EXPECT_NE(parse_err(Endpoint::kChat, deep).message.find("nesting"), std::string::npos);
  EXPECT_NE(parse_err(Endpoint::kChat, "{\"model\":\"\xff\"}").message.find("invalid JSON"), std::string::npos);
}

TEST(ServerRequestParser, Tools) {
  ApiRequest r = parse_ok(Endpoint::kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
      "tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false})");
  EXPECT_EQ(r.tool_choice, "f");
  EXPECT_FALSE(r.parallel_tool_calls);
  ASSERT_TRUE(r.tools.is_array());
  EXPECT_EQ(r.tools[0]["function"]["name"], "f");
  EXPECT_TRUE(parse_ok(Endpoint::kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}]})").tools.is_null());
  EXPECT_EQ(parse_err(Endpoint::kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required"})")
                .param,
            "tool_choice");
}

TEST(ServerRequestParser, CompletionAndGenerateShapes) {
  ApiRequest c = parse_ok(Endpoint::kCompletion, R"({"model":"m","prompt":["a",[1,2]],"logprobs":0,"echo":true})");
  ASSERT_EQ(c.prompts.size(), 2u);
  EXPECT_EQ(c.prompts[1].ids, (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(c.logprobs);
  EXPECT_EQ(c.top_logprobs, 0);
  EXPECT_EQ(*c.sampling.max_tokens, 16);  // OpenAI's default for completions
  ApiRequest g = parse_ok(Endpoint::kGenerate, R"({"input_ids":[5],"stop_token_ids":[9],"return_logprob":true})");
  EXPECT_EQ(*g.sampling.max_tokens, 128);  // LMDeploy's default for /generate
  EXPECT_EQ(g.sampling.stop_token_ids, std::vector<int32_t>{9});
  EXPECT_TRUE(g.logprobs);
}

ReasoningSplit reason_streamed(const std::string& text, size_t step) {
  ReasoningParser p;
  ReasoningSplit all;
  for (size_t i = 0; i < text.size(); i += step) {
    ReasoningSplit s = p.feed(std::string_view(text).substr(i, step));
    all.reasoning += s.reasoning;
    all.content += s.content;
  }
  ReasoningSplit f = p.finish();
  all.reasoning += f.reasoning;
  all.content += f.content;
  return all;
}

TEST(ServerReasoningParser, SplitsAtTheFirstCloseTagWhateverTheChunking) {
  for (size_t step : {1u, 2u, 3u, 7u, 100u}) {
    ReasoningSplit a = reason_streamed("<think>plan: a</think>answer </think>", step);
    EXPECT_EQ(a.reasoning, "plan: a") << step;
    EXPECT_EQ(a.content, "answer </think>") << step;
    ReasoningSplit b = reason_streamed("no open tag</think>x", step);
    EXPECT_EQ(b.reasoning, "no open tag");
    EXPECT_EQ(b.content, "x");
    ReasoningSplit c = reason_streamed("never closed </thin", step);  // all reasoning, tail included
    EXPECT_EQ(c.reasoning, "never closed </thin");
    EXPECT_EQ(c.content, "");
  }
}

constexpr const char* kTwoCalls =
    "Sure.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": "
    "\"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```"
    "<｜tool▁call▁end｜><｜tool▁calls▁end｜>";

TEST(ServerToolCallParser, ParsesDeepSeekV3CallsWhateverTheChunking) {
  const std::string text = kTwoCalls;
  for (size_t step : {1u, 2u, 5u, 13u, 1000u}) {
    ToolCallParser p;
    std::string content;
    std::vector<ToolCall> calls;
    for (size_t i = 0; i < text.size(); i += step) {
      ToolParse t = p.feed(std::string_view(text).substr(i, step));
      content += t.content;
      for (auto& c : t.calls) calls.push_back(c);
    }
    content += p.finish().content;
    EXPECT_EQ(content, "Sure.") << step;
    ASSERT_EQ(calls.size(), 2u) << step;
    EXPECT_EQ(calls[0].name, "get_weather");
    EXPECT_EQ(calls[0].arguments, "{\"city\": \"Paris\"}");
    EXPECT_EQ(calls[0].type, "function");
    EXPECT_EQ(calls[1].name, "get_time");
    EXPECT_EQ(calls[1].arguments, "{}");
  }
}

TEST(ServerToolCallParser, UnterminatedSectionComesBackAsText) {
  ToolCallParser p;
  const std::string cut = "a<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{";
  std::string content = p.feed(cut).content;
  content += p.finish().content;
  EXPECT_EQ(content, cut);
  EXPECT_EQ(p.n_calls(), 0);
}

}  // namespace
}  // namespace fathom::server
