// fathom tokenize [MODEL] (--text T | --jsonl FILE) [--chat] [--no-special]
// fathom detokenize [MODEL] --ids 1,2,3 [--skip-special]
// tokenize --text prints {"ids":[...]}; --jsonl prints one JSON array of ids per input line (one JSON string per
// line, or with --chat one JSON list of messages). detokenize prints {"text":"..."}.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "model/model_dir.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace fathom::cli {
namespace {

struct TokenizeArgs {
  std::string model, text, jsonl, ids;
  bool chat = false, no_special = false, skip_special = false;
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  return 1;
}

// MODEL only needs tokenizer files here: a folder holding tokenizer.json is used as is (no config.json needed).
Expected<std::shared_ptr<const Tokenizer>> load_tokenizer(const std::string& model) {
  std::error_code ec;
  if (!model.empty() && std::filesystem::exists(model + "/tokenizer.json", ec)) return Tokenizer::load(model);
  auto dir = resolve_model_dir(model);
  if (!dir) return dir.status();
  return Tokenizer::load(*dir);
}

void append_ids(std::string& out, const std::vector<int32_t>& ids) {
  out.push_back('[');
  char buf[16];
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out.push_back(',');
    const int n = std::snprintf(buf, sizeof(buf), "%d", ids[i]);
    out.append(buf, static_cast<size_t>(n));
  }
  out.push_back(']');
}

// apply_chat_template(messages, add_generation_prompt=True, tokenize=True): render, then encode without BOS.
Expected<std::vector<int32_t>> encode_chat(const Tokenizer& tok, const ChatTemplate& tmpl,
                                           const nlohmann::json& messages, bool no_special) {
  if (!messages.is_array()) return Status::error("--chat expects a JSON list of messages");
  nlohmann::json ctx = {{"messages", messages},
                        {"add_generation_prompt", true},
                        {"bos_token", tok.bos_token()},
                        {"eos_token", tok.eos_token()}};
  auto text = tmpl.render(ctx);
  if (!text) return text.status();
  return no_special ? tok.encode_plain(*text, false) : tok.encode(*text, false);
}

int run_tokenize(const TokenizeArgs& a) {
  auto tok = load_tokenizer(a.model);
  if (!tok) return fail(tok.error());
  std::optional<ChatTemplate> tmpl;
  if (a.chat) {
    if ((*tok)->chat_template().empty()) return fail("tokenizer_config.json: field \"chat_template\" is missing");
    auto t = ChatTemplate::parse((*tok)->chat_template());
    if (!t) return fail("tokenizer_config.json: chat_template: " + t.error());
    tmpl = std::move(*t);
  }
  auto encode_one = [&](const nlohmann::json& input) -> Expected<std::vector<int32_t>> {
    if (a.chat) return encode_chat(**tok, *tmpl, input, a.no_special);
    if (!input.is_string()) return Status::error("expected a JSON string");
    return (*tok)->encode(input.get_ref<const std::string&>(), !a.no_special);
  };
  if (a.jsonl.empty()) {
    nlohmann::json input = a.text;
    if (a.chat) {
      input = nlohmann::json::parse(a.text, nullptr, false);
      if (input.is_discarded() || !input.is_array()) {
        input = nlohmann::json::array({{{"role", "user"}, {"content", a.text}}});
      }
    }
    auto ids = encode_one(input);
    if (!ids) return fail(ids.error());
    std::string out = "{\"ids\":";
    append_ids(out, *ids);
    out += "}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  std::ifstream in(a.jsonl, std::ios::binary);
  if (!in) return fail(a.jsonl + ": cannot open");
  std::string line, out;
  size_t n_line = 0;
  while (std::getline(in, line)) {
    ++n_line;
    nlohmann::json input = nlohmann::json::parse(line, nullptr, false);
    if (input.is_discarded()) return fail(a.jsonl + ":" + std::to_string(n_line) + ": not valid JSON");
    auto ids = encode_one(input);
    if (!ids) return fail(a.jsonl + ":" + std::to_string(n_line) + ": " + ids.error());
    append_ids(out, *ids);
    out.push_back('\n');
    if (out.size() > (1 << 16)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_detokenize(const TokenizeArgs& a) {
  auto tok = load_tokenizer(a.model);
  if (!tok) return fail(tok.error());
  std::vector<int32_t> ids;
  std::stringstream ss(a.ids);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0') return fail("--ids: '" + item + "' is not an integer");
    if (v < 0 || v >= (*tok)->n_vocab()) {
      return fail("--ids: " + item + " is outside the vocabulary [0, " + std::to_string((*tok)->n_vocab()) + ")");
    }
    ids.push_back(static_cast<int32_t>(v));
  }
  nlohmann::json out = {{"text", (*tok)->decode(ids, a.skip_special)}};
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

void add_tokenizer_commands(CLI::App& app, RunResult& result) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* tok = app.add_subcommand("tokenize", "Encode text with a model's tokenizer (JSON output)");
  tok->add_option("model", args->model, "Model folder with tokenizer.json (default: the embedded model)");
  auto* text = tok->add_option("--text", args->text, "Text to encode (with --chat: a JSON list of messages, or "
                                                      "the content of one user message)");
  auto* jsonl = tok->add_option("--jsonl", args->jsonl, "File with one JSON string (--chat: message list) per line");
  text->excludes(jsonl);
  tok->add_flag("--chat", args->chat, "Render the model's chat template (add_generation_prompt) before encoding");
  tok->add_flag("--no-special", args->no_special, "Do not add BOS/EOS (add_special_tokens=False)");
  tok->callback([args, &result, text, jsonl] {
    if (text->count() == 0 && jsonl->count() == 0) {
      result.exit_code = fail("tokenize: give --text or --jsonl");
      return;
    }
    result.exit_code = run_tokenize(*args);
  });

  CLI::App* detok = app.add_subcommand("detokenize", "Decode token ids with a model's tokenizer (JSON output)");
  detok->add_option("model", args->model, "Model folder with tokenizer.json (default: the embedded model)");
  detok->add_option("--ids", args->ids, "Comma-separated token ids")->required();
  detok->add_flag("--skip-special", args->skip_special, "Drop special tokens (skip_special_tokens=True)");
  detok->callback([args, &result] { result.exit_code = run_detokenize(*args); });
}

}  // namespace fathom::cli
