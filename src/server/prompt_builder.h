// PromptInput → token ids: chat messages through the model's chat template (HF apply_chat_template with
// add_generation_prompt, tools and chat_template_kwargs in the context), raw text through the tokenizer (BOS as
// tokenizer_config.json says), ids as given. Template errors are the client's (400, naming the template).
#pragma once
#include <optional>
#include <vector>

#include "server/api_request.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace fathom::server {

std::optional<ApiError> build_prompt_ids(const PromptInput& p, const ApiRequest& r, const Tokenizer& tok,
                                         const ChatTemplate* tmpl, std::vector<int32_t>& out);
// The rendered chat text (for /v1/encode with do_preprocess).
std::optional<ApiError> render_chat(const nlohmann::json& messages, const ApiRequest& r, const Tokenizer& tok,
                                    const ChatTemplate* tmpl, std::string& out);

}  // namespace fathom::server
