// Loading a Tokenizer from tokenizer.json and tokenizer_config.json. Every error names the file and the field.
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "tokenizer/tokenizer.h"

namespace fathom {
namespace {

using nlohmann::json;

// A token in tokenizer_config.json is a string or an AddedToken object {"content": ...}; null means none.
Expected<std::string> config_token(const json& config, const char* key, const std::string& file) {
  if (!config.contains(key) || config[key].is_null()) return std::string();
  const json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return Status::error(file + ": field \"" + key + "\" must be a string or an object with \"content\"");
}

Expected<std::string> config_chat_template(const json& config, const std::string& file) {
  if (!config.contains("chat_template") || config["chat_template"].is_null()) return std::string();
  const json& v = config["chat_template"];
  if (v.is_string()) return v.get<std::string>();
  // A list of named templates: use "default" (as transformers does when no name is given).
  if (v.is_array()) {
    for (const json& t : v) {
      if (t.is_object() && t.value("name", "") == "default" && t.contains("template") && t["template"].is_string()) {
        return t["template"].get<std::string>();
      }
    }
  }
  return Status::error(file + ": field \"chat_template\" must be a string or a list with a \"default\" entry");
}

Expected<std::vector<std::pair<std::string, std::string>>> parse_merges(const json& merges, const std::string& file) {
  std::vector<std::pair<std::string, std::string>> out;
  if (merges.is_null()) return out;
  if (!merges.is_array()) return Status::error(file + ": field \"model.merges\" must be an array");
  out.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return Status::error(file + ": field \"model.merges[" + std::to_string(i) + "]\" must be \"a b\"");
      }
      out.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return Status::error(file + ": field \"model.merges[" + std::to_string(i) + "]\" must be \"a b\" or [a, b]");
    }
  }
  return out;
}

}  // namespace

struct TokenizerLoader {
  static Expected<std::shared_ptr<const Tokenizer>> build(const std::string& tokenizer_text,
                                                          const std::string& config_text, const std::string& dir) {
    const std::string tfile = dir + "/tokenizer.json", cfile = dir + "/tokenizer_config.json";
    json tj = json::parse(tokenizer_text, nullptr, /*allow_exceptions=*/false);
    if (tj.is_discarded() || !tj.is_object()) return Status::error(tfile + ": not a valid JSON object");
    json cj = json::object();
    if (!config_text.empty()) {
      cj = json::parse(config_text, nullptr, false);
      if (cj.is_discarded() || !cj.is_object()) return Status::error(cfile + ": not a valid JSON object");
    }
    std::shared_ptr<Tokenizer> tok(new Tokenizer());

    // Model.
    if (!tj.contains("model") || !tj["model"].is_object()) return Status::error(tfile + ": field \"model\" missing");
    const json& model = tj["model"];
    const std::string type = model.value("type", "BPE");
    if (type != "BPE") return Status::error(tfile + ": field \"model.type\": \"" + type + "\" is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty()) {
        return Status::error(tfile + ": field \"model." + key + "\" is not supported");
      }
    }
    if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0) {
      return Status::error(tfile + ": field \"model.dropout\": BPE dropout is not supported");
    }
    if (!model.contains("vocab") || !model["vocab"].is_object()) {
      return Status::error(tfile + ": field \"model.vocab\" must be an object");
    }
    Bpe::Vocab vocab;
    vocab.reserve(model["vocab"].size());
    for (const auto& [piece, id] : model["vocab"].items()) {
      if (!id.is_number_integer()) return Status::error(tfile + ": field \"model.vocab\": id of \"" + piece + "\"");
      vocab.emplace(piece, id.get<int32_t>());
    }
    auto merges = parse_merges(model.contains("merges") ? model["merges"] : json(), tfile);
    if (!merges) return merges.status();

    auto pre = PreTokenizer::from_json(tj.contains("pre_tokenizer") ? tj["pre_tokenizer"] : json(),
                                       tfile + ": field \"pre_tokenizer\"");
    if (!pre) return pre.status();
    tok->pre_tokenizer_ = std::move(*pre);
    BpeOptions options;
    options.byte_level = tok->pre_tokenizer_.byte_level();
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      options.unk_token = model["unk_token"].get<std::string>();
    }
    options.fuse_unk = model.value("fuse_unk", false);
    options.byte_fallback = model.value("byte_fallback", false);
    options.ignore_merges = model.value("ignore_merges", false);
    auto bpe = Bpe::build(std::move(vocab), *merges, options);
    if (!bpe) return Status::error(tfile + ": field " + bpe.error());
    tok->bpe_ = std::move(*bpe);

    auto norm = Normalizer::from_json(tj.contains("normalizer") ? tj["normalizer"] : json(),
                                      tfile + ": field \"normalizer\"");
    if (!norm) return norm.status();
    tok->normalizer_ = std::move(*norm);
    auto dec = Decoder::from_json(tj.contains("decoder") ? tj["decoder"] : json(), tfile + ": field \"decoder\"");
    if (!dec) return dec.status();
    tok->decoder_ = std::move(*dec);

    // Added tokens.
    int32_t max_id = tok->bpe_->n_ids() - 1;
    if (tj.contains("added_tokens") && !tj["added_tokens"].is_null()) {
      const json& list = tj["added_tokens"];
      if (!list.is_array()) return Status::error(tfile + ": field \"added_tokens\" must be an array");
      for (size_t i = 0; i < list.size(); ++i) {
        const json& a = list[i];
        const std::string where = tfile + ": field \"added_tokens[" + std::to_string(i) + "]";
        if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
            !a["content"].is_string()) {
          return Status::error(where + "\" needs an integer \"id\" and a string \"content\"");
        }
        AddedToken t;
        t.id = a["id"].get<int32_t>();
        t.content = a["content"].get<std::string>();
        if (t.id < 0 || t.content.empty()) return Status::error(where + "\": negative id or empty content");
        t.special = a.value("special", false);
        t.lstrip = a.value("lstrip", false);
        t.rstrip = a.value("rstrip", false);
        t.single_word = a.value("single_word", false);
        t.normalized = a.value("normalized", !t.special);
        max_id = std::max(max_id, t.id);
        tok->added_.add(std::move(t));
      }
    }
    RegexScratch scratch;
    tok->added_.finalize([&](const std::string& content) {
      std::string out;
      tok->normalizer_.apply(content, out, scratch);
      return out;
    });
    tok->n_vocab_ = max_id + 1;
    tok->special_.assign(tok->n_vocab_, 0);
    for (const AddedToken& t : tok->added_.tokens()) tok->special_[t.id] = t.special ? 1 : 0;
    if (tok->decoder_.byte_level()) {
      tok->token_bytes_.resize(tok->n_vocab_);
      for (int32_t id = 0; id < tok->n_vocab_; ++id) {
        const std::string_view piece = tok->id_to_piece(id);
        if (!piece.empty()) Decoder::piece_bytes(piece, tok->token_bytes_[id]);
      }
    }

    // tokenizer_config.json: special-token strings, BOS/EOS policy, chat template.
    auto bos = config_token(cj, "bos_token", cfile);
    if (!bos) return bos.status();
    auto eos = config_token(cj, "eos_token", cfile);
    if (!eos) return eos.status();
    auto tmpl = config_chat_template(cj, cfile);
    if (!tmpl) return tmpl.status();
    tok->bos_token_ = *bos;
    tok->eos_token_ = *eos;
    tok->chat_template_ = *tmpl;
    if (!tok->bos_token_.empty()) {
      auto id = tok->token_to_id(tok->bos_token_);
      if (!id) return Status::error(cfile + ": field \"bos_token\": \"" + tok->bos_token_ + "\" is not a token");
      tok->bos_id_ = *id;
    }
    if (!tok->eos_token_.empty()) {
      auto id = tok->token_to_id(tok->eos_token_);
      if (!id) return Status::error(cfile + ": field \"eos_token\": \"" + tok->eos_token_ + "\" is not a token");
      tok->eos_id_ = *id;
    }
    if (cj.contains("add_bos_token") || cj.contains("add_eos_token")) {
      tok->add_bos_ = cj.value("add_bos_token", false);
      tok->add_eos_ = cj.value("add_eos_token", false);
      if (tok->add_bos_ && tok->bos_id_ < 0) return Status::error(cfile + ": add_bos_token without \"bos_token\"");
      if (tok->add_eos_ && tok->eos_id_ < 0) return Status::error(cfile + ": add_eos_token without \"eos_token\"");
      if (tok->add_bos_) tok->prefix_ids_.push_back(tok->bos_id_);
      if (tok->add_eos_) tok->suffix_ids_.push_back(tok->eos_id_);
    } else {
      FATHOM_TRY(template_tokens(tj, tfile, *tok));
    }
    return std::shared_ptr<const Tokenizer>(std::move(tok));
  }

  // Without add_bos_token/add_eos_token in the config, a TemplateProcessing post-processor's "single" template
  // says which special tokens surround the text.
  static Status template_tokens(const json& tj, const std::string& tfile, Tokenizer& tok) {
    if (!tj.contains("post_processor") || !tj["post_processor"].is_object()) return Status::ok();
    const json& pp = tj["post_processor"];
    if (pp.value("type", "") != "TemplateProcessing") return Status::ok();
    const std::string where = tfile + ": field \"post_processor.single\"";
    if (!pp.contains("single") || !pp["single"].is_array()) return Status::error(where + " must be an array");
    bool seen_sequence = false;
    for (const json& item : pp["single"]) {
      if (item.contains("Sequence")) {
        seen_sequence = true;
        continue;
      }
      if (!item.contains("SpecialToken") || !item["SpecialToken"].contains("id")) {
        return Status::error(where + ": items must be Sequence or SpecialToken");
      }
      const std::string name = item["SpecialToken"]["id"].get<std::string>();
      const json& specials = pp.contains("special_tokens") ? pp["special_tokens"] : json::object();
      if (!specials.contains(name) || !specials[name].contains("ids") || !specials[name]["ids"].is_array()) {
        return Status::error(tfile + ": field \"post_processor.special_tokens\" lacks \"" + name + "\"");
      }
      for (const json& id : specials[name]["ids"]) {
        (seen_sequence ? tok.suffix_ids_ : tok.prefix_ids_).push_back(id.get<int32_t>());
      }
    }
    tok.add_bos_ = !tok.prefix_ids_.empty();
    return Status::ok();
  }
};

Expected<std::shared_ptr<const Tokenizer>> Tokenizer::from_json_text(const std::string& tokenizer_json,
                                                                     const std::string& config_json,
                                                                     const std::string& dir) {
  return TokenizerLoader::build(tokenizer_json, config_json, dir);
}

Expected<std::shared_ptr<const Tokenizer>> Tokenizer::load(const std::string& dir) {
  auto tj = read_text_file(dir + "/tokenizer.json");
  if (!tj) return tj.status();
  auto cj = read_text_file(dir + "/tokenizer_config.json");
  if (!cj) return cj.status();
  return from_json_text(*tj, *cj, dir);
}

}  // namespace fathom
