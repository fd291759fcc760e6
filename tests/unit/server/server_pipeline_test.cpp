// The output pipeline on the real DeepSeek-V3 tokenizer: detokenization, stop strings (held back and cut,
// optionally included), tool-call tokens becoming calls; and the OpenAI shapes built from its output.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/model_dir.h"
#include "server/output_pipeline.h"
#include "server/response_format.h"

namespace fathom::server {
namespace {

std::shared_ptr<const Tokenizer> tokenizer() {
  static std::shared_ptr<const Tokenizer> tok = [] {
    auto dir = assets_dir();
    EXPECT_TRUE(dir.has_value());
    auto t = Tokenizer::load(*dir);
    EXPECT_TRUE(t.has_value()) << (t ? "" : t.error());
    return *t;
  }();
  return tok;
}

// Feeds the ids one event per token; returns everything the client would see.
ChoiceDelta run(OutputPipeline& p, const std::vector<int32_t>& ids) {
  ChoiceDelta all;
  for (int32_t id : ids) {
    GenerationEvent ev;
    ev.token_ids = {id};
    ChoiceDelta d = p.push(ev);
    all.content += d.content;
    all.reasoning += d.reasoning;
    for (auto& c : d.tool_calls) all.tool_calls.push_back(c);
    all.token_ids.insert(all.token_ids.end(), d.token_ids.begin(), d.token_ids.end());
  }
  ChoiceDelta f = p.finish();
  all.content += f.content;
  all.reasoning += f.reasoning;
  for (auto& c : f.tool_calls) all.tool_calls.push_back(c);
  return all;
}

TEST(ServerOutputPipeline, DetokenizesAndCutsAtStopStrings) {
  auto tok = tokenizer();
  const std::string text = "The quick brown fox jumps over the lazy dog.";
  const auto ids = tok->encode(text, false);
  OutputPipeline plain(tok, {});
  EXPECT_EQ(run(plain, ids).content, text);

  PipelineOptions o;
  o.stop = {"jumps"};
  OutputPipeline cut(tok, o);
  ChoiceDelta d = run(cut, ids);
  EXPECT_EQ(d.content, "The quick brown fox ");
  EXPECT_TRUE(cut.stopped());
  EXPECT_LT(cut.n_tokens(), static_cast<int64_t>(ids.size()));

  o.include_stop_str_in_output = true;
  OutputPipeline with(tok, o);
  EXPECT_EQ(run(with, ids).content, "The quick brown fox jumps");
}

TEST(ServerOutputPipeline, ToolCallTokensBecomeCalls) {
  auto tok = tokenizer();
  const std::string text =
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>lookup\n```json\n{\"q\": \"x\"}\n```"
      "<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  const auto ids = tok->encode(text, false);
  EXPECT_EQ(ids[0], *tok->token_to_id("<｜tool▁calls▁begin｜>"));  // markers are single tokens
  PipelineOptions o;
  o.tool_calls = true;
  OutputPipeline p(tok, o);
  ChoiceDelta d = run(p, ids);
  EXPECT_EQ(d.content, "");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_EQ(d.tool_calls[0].name, "lookup");
  EXPECT_EQ(d.tool_calls[0].arguments, "{\"q\": \"x\"}");
  EXPECT_EQ(p.n_tool_calls(), 1);
}

TEST(ServerResponseFormat, ChatShapes) {
  auto tok = tokenizer();
  ResponseMeta m{"chatcmpl-1", 1700000000, "tiny"};
  ChoicePiece p;
  p.content = "";
  p.tool_calls = {ToolCall{"function", "f", "{}"}};
  p.finish_reason = "tool_calls";
  FormatOptions o;
  o.call_id_prefix = "call_x_";
  o.has_reasoning = true;
  auto j = nlohmann::json::parse(chat_response(m, {p}, UsageTotals{5, 3, 1}, o, *tok));
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_null());  // OpenAI: null content beside tool calls
  EXPECT_TRUE(j["choices"][0]["message"]["reasoning_content"].is_null());
  EXPECT_EQ(j["choices"][0]["message"]["tool_calls"][0]["id"], "call_x_0_0");
  EXPECT_EQ(j["usage"]["total_tokens"], 8);
  EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 1);

  ChoicePiece s;
  s.first = true;
  s.content = "Hi";
  o.include_usage = true;
  auto c = nlohmann::json::parse(chat_chunk(m, {s}, o, *tok));
  EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(c["usage"].is_null() && c.contains("usage"));
  auto u = nlohmann::json::parse(usage_chunk(m, Endpoint::kChat, UsageTotals{5, 3, 0}));
  EXPECT_TRUE(u["choices"].empty());
  EXPECT_EQ(u["usage"]["completion_tokens"], 3);
}

}  // namespace
}  // namespace fathom::server
