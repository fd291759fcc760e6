// Tokenizer: a Hugging Face tokenizer.json (+ tokenizer_config.json) that encodes and decodes exactly as the
// `tokenizers` library does, with BOS/EOS added as tokenizer_config.json says (add_bos_token / add_eos_token, as
// HF transformers' LlamaTokenizerFast). Immutable after load; encode/decode may run on many threads at once.
//
// Invalid UTF-8 input (a defined behaviour, also in docs/performance.md "## Tokenizer"): encode first replaces each
// maximal subpart of an ill-formed sequence with U+FFFD — exactly Python's `raw.decode("utf-8", errors="replace")`
// — and then encodes that text. Decode reads the concatenated bytes of the tokens the same way (`String::from_utf8_lossy` in
// `tokenizers`), so decode never returns invalid UTF-8. Ids outside the vocabulary are skipped by decode.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/added_vocab.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pretokenizer.h"

namespace fathom {

class Tokenizer {
 public:
  // Reads dir/tokenizer.json and dir/tokenizer_config.json. Errors name the file and field.
  static Expected<std::shared_ptr<const Tokenizer>> load(const std::string& dir);
  // The same from the two files' text; `dir` only names them in errors. config_json may be empty (no config).
  static Expected<std::shared_ptr<const Tokenizer>> from_json_text(const std::string& tokenizer_json,
                                                                  const std::string& config_json,
                                                                  const std::string& dir);

  // = HF `tokenizer.encode(text, add_special_tokens=...)`: added tokens (special or not) in the text are
  // recognised; add_special_tokens adds BOS/EOS as tokenizer_config.json says.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Like encode, but text that looks like a *special* token is encoded as plain text (non-special added tokens
  // are still recognised): `tokenizers` with `encode_special_tokens = True`. For untrusted text.
  std::vector<int32_t> encode_plain(std::string_view text, bool add_special_tokens = false) const;

  // = `tokenizers` decode. skip_special_tokens drops added tokens marked special.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const;

  int32_t bos_id() const { return bos_id_; }  // -1 if the config names no BOS token
  int32_t eos_id() const { return eos_id_; }  // -1 if the config names no EOS token
  int32_t n_vocab() const { return n_vocab_; }  // 1 + the largest id (model vocab and added tokens)
  std::optional<int32_t> token_to_id(std::string_view piece) const;
  // The token's text as stored (byte-level pieces for BPE tokens); empty for an unknown id.
  std::string_view id_to_piece(int32_t id) const;
  bool is_special(int32_t id) const;
  bool add_bos() const { return add_bos_; }

  // From tokenizer_config.json, for the chat-template renderer ("" when absent).
  const std::string& chat_template() const { return chat_template_; }
  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }

  // The bytes one token contributes to the decoded text (before UTF-8 repair), when byte_level_decoder(); used by
  // the incremental detokenizer. Empty for unknown ids and (with skip_special) special tokens.
  bool byte_level_decoder() const { return decoder_.byte_level(); }
  std::string_view token_bytes(int32_t id) const;

 private:
  Tokenizer() = default;
  friend struct TokenizerLoader;
  struct Scratch;
  void encode_into(std::string_view text, bool skip_special, bool add_special_tokens,
                   std::vector<int32_t>& out) const;
  void encode_segment(std::string_view text, bool at_start, bool skip_special, Scratch& scratch,
                      std::vector<int32_t>& out) const;

  std::shared_ptr<const Bpe> bpe_;
  AddedVocab added_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  Decoder decoder_;
  std::vector<std::string> token_bytes_;  // [n_vocab] ByteLevel decoder: bytes of each token
  std::vector<uint8_t> special_;          // [n_vocab]
  int32_t n_vocab_ = 0;
  int32_t bos_id_ = -1, eos_id_ = -1;
  bool add_bos_ = false, add_eos_ = false;
  std::vector<int32_t> prefix_ids_, suffix_ids_;  // post-processor tokens added with add_special_tokens
  std::string chat_template_, bos_token_, eos_token_;
};

// Streaming detokenization: push ids one at a time; each push returns the text that became final. Never returns
// a broken UTF-8 sequence (incomplete bytes wait for the next token), and the concatenation of every push and
// finish() equals tokenizer.decode(all ids, skip_special_tokens). Not thread-safe; one per stream.
class IncrementalDetokenizer {
 public:
  IncrementalDetokenizer(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special_tokens);
  std::string push(int32_t id);
  // Text still held back (a truncated UTF-8 tail becomes U+FFFD); call at the end of the stream.
  std::string finish();

 private:
  std::shared_ptr<const Tokenizer> tok_;
  bool skip_special_;
  std::string pending_;       // byte-level: bytes not yet emitted (an incomplete UTF-8 sequence)
  std::vector<int32_t> ids_;  // other decoders: ids since the last stable point
  std::string emitted_;       // other decoders: the part of decode(ids_) already returned
};

}  // namespace fathom
