#include "server/prompt_builder.h"

namespace fathom::server {

std::optional<ApiError> render_chat(const nlohmann::json& messages, const ApiRequest& r, const Tokenizer& tok,
                                    const ChatTemplate* tmpl, std::string& out) {
  if (!tmpl) return ApiError{400, "this model has no chat template; send a prompt to /v1/completions", "messages"};
  nlohmann::json ctx = r.template_kwargs.is_object() ? r.template_kwargs : nlohmann::json::object();
  ctx["messages"] = messages;
  ctx["add_generation_prompt"] = true;
  ctx["bos_token"] = tok.bos_token();
  ctx["eos_token"] = tok.eos_token();
  if (r.tools.is_array() && r.tool_choice != "none") ctx["tools"] = r.tools;
  auto text = tmpl->render(ctx);
  if (!text) return ApiError{400, "chat template: " + text.error(), "messages"};
  out = std::move(text.value());
  return {};
}

std::optional<ApiError> build_prompt_ids(const PromptInput& p, const ApiRequest& r, const Tokenizer& tok,
                                         const ChatTemplate* tmpl, std::vector<int32_t>& out) {
  switch (p.kind) {
    case PromptInput::Kind::kIds:
      out = p.ids;
      return {};
    case PromptInput::Kind::kText:
      out = tok.encode(p.text, p.add_bos);
      return {};
    case PromptInput::Kind::kMessages: {
      std::string text;
      if (auto e = render_chat(p.messages, r, tok, tmpl, text)) return e;
      out = tok.encode(text, /*add_special_tokens=*/false);  // the template writes BOS itself
      return {};
    }
  }
  return {};
}

}  // namespace fathom::server
