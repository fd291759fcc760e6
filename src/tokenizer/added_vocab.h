// Added tokens of tokenizer.json ("added_tokens") and how they are found in text, as the `tokenizers` library does:
// leftmost-longest matching, first of the tokens with normalized=false on the raw text, then of those with
// normalized=true on each normalised gap; single_word, lstrip and rstrip flags; special tokens optionally left as
// plain text ("encode_special_tokens").
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/function_ref.h"
#include "tokenizer/regex.h"

namespace fathom {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

class AddedVocab {
 public:
  AddedVocab();
  void add(AddedToken token);  // a later token with the same content replaces the earlier one
  // Builds the matchers; call once after the last add(). Tokens with normalized=true are looked for in their
  // normalised form (as `tokenizers` does), so `normalize` is the tokenizer's normalizer (identity if none).
  void finalize(FunctionRef<std::string(const std::string&)> normalize);

  // Splits text into added tokens and gaps: on_token(id) for a token, on_text(start, end) for a non-empty gap.
  // normalized_pass selects the tokens with normalized == true (else those with false). With skip_special,
  // special tokens are not matched.
  void split(std::string_view text, bool normalized_pass, bool skip_special, RegexScratch& scratch,
             FunctionRef<void(int32_t)> on_token, FunctionRef<void(size_t, size_t)> on_text) const;

  const AddedToken* find_id(int32_t id) const;
  const AddedToken* find_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool empty() const { return tokens_.empty(); }

 private:
  struct Trie {
    struct Node {
      int32_t first_edge = 0, n_edges = 0;  // edges_[first_edge .. first_edge + n_edges), sorted by byte
      int32_t token = -1;                   // index into tokens_ when a token ends here
    };
    struct Edge {
      uint8_t byte;
      int32_t child;
    };
    std::vector<Node> nodes;
    std::vector<Edge> edges;
    std::array<bool, 256> first_byte{};
    bool empty = true;
  };
  void build_trie(bool normalized, FunctionRef<std::string(const std::string&)> normalize, Trie& trie) const;
  bool is_word_char_before(std::string_view text, size_t pos, RegexScratch& scratch) const;
  bool is_word_char_at(std::string_view text, size_t pos, RegexScratch& scratch) const;
  // Longest token starting at text[pos], as an index into tokens_, and its length.
  int32_t longest_at(const Trie& trie, std::string_view text, size_t pos, size_t* len) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  Trie tries_[2];  // [raw, normalized]
  Regex word_char_;  // Rust's char::is_alphanumeric() or '_', for single_word
};

}  // namespace fathom
