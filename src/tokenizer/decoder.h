// Decoders of tokenizer.json: ByteLevel, and Sequence / Replace / ByteFallback / Fuse / Strip / Metaspace as used
// by Llama-family tokenizers. ByteLevel alone (DeepSeek, Llama 3, Qwen, GPT-2) is context free per token: each
// piece maps to bytes and the concatenation is read as UTF-8 with maximal-subpart replacement (utf8.h), which lets
// the incremental detokenizer work on bytes. Other chains run on the whole token list as `tokenizers` does.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "tokenizer/regex.h"

namespace fathom {

class Decoder {
 public:
  // `j` is tokenizer.json's "decoder" (null allowed: pieces are joined with spaces, as `tokenizers` does).
  static Expected<Decoder> from_json(const nlohmann::json& j, const std::string& where);

  // True when the decoder is exactly ByteLevel: then decode == utf8::lossy(concatenated piece_bytes).
  bool byte_level() const { return byte_level_; }
  // ByteLevel: the bytes a piece stands for (the piece's own UTF-8 when it is not in the byte alphabet).
  static void piece_bytes(std::string_view piece, std::string& out);

  std::string decode(const std::vector<std::string_view>& pieces) const;

 private:
  struct Step {
    enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace } kind;
    Regex regex;          // kReplace
    std::string content;  // kReplace: replacement; kStrip, kMetaspace: the character
    size_t start = 0, stop = 0;  // kStrip
    bool prepend = true;         // kMetaspace: the first token's leading replacement is dropped
  };
  Status add_json(const nlohmann::json& j, const std::string& where);
  void run_step(const Step& step, std::vector<std::string>& tokens) const;

  std::vector<Step> steps_;
  bool byte_level_ = false;
  bool join_with_space_ = false;
};

}  // namespace fathom
