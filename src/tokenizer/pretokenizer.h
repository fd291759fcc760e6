// Pre-tokenizers of tokenizer.json: Sequence, Split (every behaviour, invert, String or Regex pattern), ByteLevel
// (add_prefix_space, with or without its GPT-2 regex), Digits, Metaspace (prepend_scheme, split), Whitespace and
// WhitespaceSplit. Each step splits every piece the previous step produced, as in the `tokenizers` library (a regex
// sees only its piece, so a look-ahead never crosses a piece boundary); empty pieces are dropped.
// Pieces stay raw UTF-8 bytes: the ByteLevel character mapping happens in the BPE model (BpeOptions::byte_level).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "tokenizer/function_ref.h"
#include "tokenizer/regex.h"

namespace fathom {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
enum class PrependScheme { kAlways, kFirst, kNever };

struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel, kMetaspace };
  Kind kind = Kind::kSplit;
  // kSplit (Digits, Whitespace, WhitespaceSplit and ByteLevel's regex are expressed as splits too).
  Regex regex;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  // kByteLevel: prepends " " to a piece that does not start with one, then splits with `regex` if valid.
  bool add_prefix_space = false;
  // kMetaspace
  std::string replacement;  // UTF-8 of the replacement character (default "▁")
  PrependScheme prepend_scheme = PrependScheme::kAlways;
  bool split = true;
};

// Per-thread working memory for PreTokenizer::run.
struct PreTokenizerScratch {
  struct Part {
    size_t start, end;
    bool is_match;
  };
  RegexScratch regex;
  std::vector<std::vector<Part>> parts;    // [n_steps] matches and gaps of the piece being split
  std::vector<std::vector<Part>> pieces;   // [n_steps] pieces after the behaviour is applied
};

class PreTokenizer {
 public:
  // `j` is tokenizer.json's "pre_tokenizer" (null allowed); errors name the field under `where`.
  static Expected<PreTokenizer> from_json(const nlohmann::json& j, const std::string& where);

  bool byte_level() const { return byte_level_; }

  // Calls sink(word) for each non-empty word of `text` in order. `at_start`: text begins the input (for
  // Metaspace's prepend_scheme "first").
  void run(std::string_view text, bool at_start, PreTokenizerScratch& scratch,
           FunctionRef<void(std::string_view)> sink) const;

 private:
  Status add_json(const nlohmann::json& j, const std::string& where);
  void run_step(size_t i_step, std::string_view piece, bool first, PreTokenizerScratch& scratch,
                FunctionRef<void(std::string_view)> sink) const;
  void split_step(size_t i_step, std::string_view piece, bool first, PreTokenizerScratch& scratch,
                  FunctionRef<void(std::string_view)> sink) const;

  std::vector<PreTokenizerStep> steps_;
  bool byte_level_ = false;
};

}  // namespace fathom
