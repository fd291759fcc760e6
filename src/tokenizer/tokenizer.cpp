#include "tokenizer/tokenizer.h"

#include "tokenizer/utf8.h"

namespace fathom {

struct Tokenizer::Scratch {
  PreTokenizerScratch pre;
  BpeScratch bpe;
};

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> out;
  encode_into(text, /*skip_special=*/false, add_special_tokens, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode_plain(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> out;
  encode_into(text, /*skip_special=*/true, add_special_tokens, out);
  return out;
}

void Tokenizer::encode_into(std::string_view text, bool skip_special, bool add_special_tokens,
                            std::vector<int32_t>& out) const {
  std::string repaired;
  if (!utf8::is_valid(text)) {
    repaired = utf8::lossy(text);
    text = repaired;
  }
  out.reserve(out.size() + text.size() / 3 + 4);
  if (add_special_tokens) out.insert(out.end(), prefix_ids_.begin(), prefix_ids_.end());
  Scratch scratch;
  auto on_token = [&](int32_t id) { out.push_back(id); };
  // Pass 1: tokens with normalized=false, on the raw text. Pass 2 (per gap): normalise, then tokens with
  // normalized=true. What remains is pre-tokenized and run through BPE.
  added_.split(text, /*normalized_pass=*/false, skip_special, scratch.pre.regex, on_token, [&](size_t s, size_t e) {
    std::string normalized;
    std::string_view gap = text.substr(s, e - s);
    bool at_origin = true;
    if (!normalizer_.empty()) {
      normalizer_.apply(gap, normalized, scratch.pre.regex, &at_origin);
      gap = normalized;
    }
    const bool gap_at_start = s == 0 && at_origin;
    added_.split(gap, /*normalized_pass=*/true, skip_special, scratch.pre.regex, on_token,
                 [&](size_t s2, size_t e2) {
                   encode_segment(gap.substr(s2, e2 - s2), gap_at_start && s2 == 0, skip_special, scratch, out);
                 });
  });
  if (add_special_tokens) out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
}

void Tokenizer::encode_segment(std::string_view text, bool at_start, bool skip_special, Scratch& scratch,
                               std::vector<int32_t>& out) const {
  pre_tokenizer_.run(text, at_start, scratch.pre,
                     [&](std::string_view word) { bpe_->encode_word(word, scratch.bpe, out); });
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  if (decoder_.byte_level()) {
    std::string bytes;
    bytes.reserve(ids.size() * 4);
    for (int32_t id : ids) {
      if (id < 0 || id >= n_vocab_ || (skip_special_tokens && special_[id])) continue;
      bytes += token_bytes_[id];
    }
    return utf8::lossy(bytes);
  }
  std::vector<std::string_view> pieces;
  pieces.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab_ || (skip_special_tokens && special_[id])) continue;
    const std::string_view p = id_to_piece(id);
    if (!p.empty()) pieces.push_back(p);
  }
  return decoder_.decode(pieces);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view piece) const {
  if (const AddedToken* t = added_.find_content(piece)) return t->id;
  return bpe_->token_to_id(piece);
}

std::string_view Tokenizer::id_to_piece(int32_t id) const {
  if (const AddedToken* t = added_.find_id(id)) return t->content;
  const std::string* p = bpe_->id_to_piece(id);
  return p ? std::string_view(*p) : std::string_view();
}

bool Tokenizer::is_special(int32_t id) const { return id >= 0 && id < n_vocab_ && special_[id]; }

std::string_view Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= n_vocab_ || token_bytes_.empty()) return {};
  return token_bytes_[id];
}

}  // namespace fathom
