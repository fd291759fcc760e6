#include "server/response_format.h"

namespace fathom::server {

using nlohmann::json;

namespace {

std::string token_text(const Tokenizer& tok, int32_t id) {
  const int32_t ids[1] = {id};
  return tok.decode(ids, /*skip_special_tokens=*/false);
}

json byte_array(const Tokenizer& tok, int32_t id) {
  json bytes = json::array();
  std::string_view raw = tok.byte_level_decoder() ? tok.token_bytes(id) : std::string_view{};
  std::string text;
  if (raw.empty()) {
    text = token_text(tok, id);
    raw = text;
  }
  for (unsigned char c : raw) bytes.push_back(static_cast<int>(c));
  return bytes;
}

// Chat logprobs: {"content": [{"token", "bytes", "logprob", "top_logprobs": [...]}]}.
json chat_logprobs(const Tokenizer& tok, const std::vector<TokenLogprob>& lps) {
  json content = json::array();
  for (const TokenLogprob& lp : lps) {
    json top = json::array();
    for (const auto& [id, v] : lp.top)
      top.push_back({{"token", token_text(tok, id)}, {"bytes", byte_array(tok, id)}, {"logprob", v}});
    content.push_back({{"token", token_text(tok, lp.token_id)},
                       {"bytes", byte_array(tok, lp.token_id)},
                       {"logprob", lp.logprob},
                       {"top_logprobs", std::move(top)}});
  }
  return json{{"content", std::move(content)}};
}

// Completions logprobs: {"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"}.
json completion_logprobs(const Tokenizer& tok, const std::vector<TokenLogprob>& lps) {
  json tokens = json::array(), values = json::array(), tops = json::array(), offsets = json::array();
  int64_t offset = 0;
  for (const TokenLogprob& lp : lps) {
    std::string t = token_text(tok, lp.token_id);
    offsets.push_back(offset);
    offset += static_cast<int64_t>(t.size());
    tokens.push_back(std::move(t));
    values.push_back(lp.logprob);
    json top = json::object();
    for (const auto& [id, v] : lp.top) top[token_text(tok, id)] = v;
    tops.push_back(std::move(top));
  }
  return json{{"tokens", std::move(tokens)},
              {"token_logprobs", std::move(values)},
              {"top_logprobs", std::move(tops)},
              {"text_offset", std::move(offsets)}};
}

json tool_calls_json(const ChoicePiece& p, const FormatOptions& o, bool streaming) {
  json calls = json::array();
  for (size_t k = 0; k < p.tool_calls.size(); ++k) {
    const ToolCall& c = p.tool_calls[k];
    const int32_t idx = p.tool_call_base + static_cast<int32_t>(k);
    json call = {{"id", o.call_id_prefix + std::to_string(p.index) + "_" + std::to_string(idx)},
                 {"type", c.type},
                 {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
    if (streaming) call["index"] = idx;
    calls.push_back(std::move(call));
  }
  return calls;
}

json head(const ResponseMeta& m, const char* object) {
  return json{{"id", m.id}, {"object", object}, {"created", m.created}, {"model", m.model}};
}

json finish_json(const std::string& r) { return r.empty() ? json(nullptr) : json(r); }

}  // namespace

std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json usage_json(const UsageTotals& u) {
  return json{{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.prompt_tokens + u.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

std::string chat_response(const ResponseMeta& m, const std::vector<ChoicePiece>& choices, const UsageTotals& u,
                          const FormatOptions& o, const Tokenizer& tok) {
  json out = head(m, "chat.completion");
  json cs = json::array();
  for (const ChoicePiece& p : choices) {
    json msg = {{"role", "assistant"}};
    // With tool calls and no text, content is null as OpenAI returns it.
    msg["content"] = (p.content.empty() && !p.tool_calls.empty()) ? json(nullptr) : json(p.content);
    if (o.has_reasoning) msg["reasoning_content"] = p.reasoning.empty() ? json(nullptr) : json(p.reasoning);
    if (!p.tool_calls.empty()) msg["tool_calls"] = tool_calls_json(p, o, false);
    json c = {{"index", p.index},
              {"message", std::move(msg)},
              {"logprobs", o.logprobs ? chat_logprobs(tok, p.logprobs) : json(nullptr)},
              {"finish_reason", finish_json(p.finish_reason)}};
    if (o.return_token_ids) c["output_ids"] = p.token_ids;
    cs.push_back(std::move(c));
  }
  out["choices"] = std::move(cs);
  out["usage"] = usage_json(u);
  return dump_json(out);
}

std::string chat_chunk(const ResponseMeta& m, const std::vector<ChoicePiece>& pieces, const FormatOptions& o,
                       const Tokenizer& tok) {
  json out = head(m, "chat.completion.chunk");
  json cs = json::array();
  for (const ChoicePiece& p : pieces) {
    json delta = json::object();
    if (p.first) delta["role"] = "assistant";
    if (!p.content.empty() || (p.first && p.reasoning.empty() && p.tool_calls.empty())) delta["content"] = p.content;
    if (!p.reasoning.empty()) delta["reasoning_content"] = p.reasoning;
    if (!p.tool_calls.empty()) delta["tool_calls"] = tool_calls_json(p, o, true);
    json c = {{"index", p.index},
              {"delta", std::move(delta)},
              {"logprobs", (o.logprobs && !p.logprobs.empty()) ? chat_logprobs(tok, p.logprobs) : json(nullptr)},
              {"finish_reason", finish_json(p.finish_reason)}};
    if (o.return_token_ids) c["output_ids"] = p.token_ids;
    cs.push_back(std::move(c));
  }
  out["choices"] = std::move(cs);
  if (o.include_usage) out["usage"] = nullptr;
  return dump_json(out);
}

std::string completion_response(const ResponseMeta& m, const std::vector<ChoicePiece>& choices,
                                const UsageTotals& u, const FormatOptions& o, const Tokenizer& tok) {
  json out = head(m, "text_completion");
  json cs = json::array();
  for (const ChoicePiece& p : choices) {
    json c = {{"index", p.index},
              {"text", p.content},
              {"logprobs", o.logprobs ? completion_logprobs(tok, p.logprobs) : json(nullptr)},
              {"finish_reason", finish_json(p.finish_reason)}};
    if (o.return_token_ids) c["output_ids"] = p.token_ids;
    cs.push_back(std::move(c));
  }
  out["choices"] = std::move(cs);
  out["usage"] = usage_json(u);
  return dump_json(out);
}

std::string completion_chunk(const ResponseMeta& m, const std::vector<ChoicePiece>& pieces, const FormatOptions& o,
                             const Tokenizer& tok) {
  json out = head(m, "text_completion");
  json cs = json::array();
  for (const ChoicePiece& p : pieces) {
    json c = {{"index", p.index},
              {"text", p.content},
              {"logprobs", (o.logprobs && !p.logprobs.empty()) ? completion_logprobs(tok, p.logprobs) : json(nullptr)},
              {"finish_reason", finish_json(p.finish_reason)}};
    if (o.return_token_ids) c["output_ids"] = p.token_ids;
    cs.push_back(std::move(c));
  }
  out["choices"] = std::move(cs);
  if (o.include_usage) out["usage"] = nullptr;
  return dump_json(out);
}

std::string usage_chunk(const ResponseMeta& m, Endpoint endpoint, const UsageTotals& u) {
  json out = head(m, endpoint == Endpoint::kChat ? "chat.completion.chunk" : "text_completion");
  out["choices"] = json::array();
  out["usage"] = usage_json(u);
  return dump_json(out);
}

std::string generate_body(const ChoicePiece& p, const UsageTotals& u, bool logprobs) {
  json meta = {{"prompt_tokens", u.prompt_tokens},
               {"completion_tokens", u.completion_tokens},
               {"finish_reason", p.finish_reason.empty() ? json(nullptr) : json{{"type", p.finish_reason}}}};
  if (logprobs) {
    json lps = json::array();
    for (const TokenLogprob& lp : p.logprobs) lps.push_back(json::array({lp.logprob, lp.token_id}));
    meta["output_token_logprobs"] = std::move(lps);
  } else {
    meta["output_token_logprobs"] = nullptr;
  }
  return dump_json(json{{"text", p.content}, {"output_ids", p.token_ids}, {"meta_info", std::move(meta)}});
}

}  // namespace fathom::server
