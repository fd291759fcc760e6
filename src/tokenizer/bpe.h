// The BPE model of a tokenizer.json: vocabulary, merge ranks and the merge loop, applied to one pre-tokenized word
// at a time. The merge order replicates the `tokenizers` library exactly (lowest rank first, then leftmost; queue
// entries are checked against the pair's current merge as it does), so ids match it byte for byte.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tokenizer/bpe_cache.h"

namespace fathom {

struct BpeOptions {
  bool byte_level = false;  // words arrive as raw bytes; byte b is the vocab entry of byte_level::char_for_byte(b)
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  bool byte_fallback = false;  // unknown characters become their "<0xAB>" byte tokens
  bool ignore_merges = false;  // a word found whole in the vocab is taken as is
};

// Per-thread working memory for Bpe::encode_word (reused across words to avoid allocation).
struct BpeScratch {
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // neighbours in the linked list, -1 at the ends
    int32_t n_bytes;     // 0 once merged into its left neighbour
  };
  struct Merge {
    int32_t rank, pos, new_id;
  };
  std::vector<Symbol> symbols;
  std::vector<Merge> queue;
  std::vector<int32_t> ids;
};

class Bpe {
 public:
  using Vocab = std::unordered_map<std::string, int32_t>;

  // merges: pairs of vocab pieces in rank order. Errors name the offending entry.
  static Expected<std::shared_ptr<const Bpe>> build(Vocab vocab,
                                                    const std::vector<std::pair<std::string, std::string>>& merges,
                                                    BpeOptions options);

  // Appends the ids of one word (non-empty).
  void encode_word(std::string_view word, BpeScratch& scratch, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view piece) const;
  // The vocab piece of id, or nullptr if id is not in the vocab.
  const std::string* id_to_piece(int32_t id) const;
  int32_t n_ids() const { return static_cast<int32_t>(pieces_.size()); }  // 1 + largest id

 private:
  struct MergeValue {
    int32_t rank = -1;
    int32_t new_id = -1;
  };
  struct StrHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct StrEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  MergeValue find_merge(int32_t a, int32_t b) const;
  void insert_merge(int32_t a, int32_t b, MergeValue v);
  void initial_symbols(std::string_view word, BpeScratch& scratch) const;
  void merge_all(BpeScratch& scratch) const;

  std::unordered_map<std::string, int32_t, StrHash, StrEq> vocab_;
  std::vector<std::string> pieces_;  // [n_ids] id -> piece ("" for ids not in the vocab)
  std::vector<uint8_t> has_piece_;   // [n_ids]
  // Open-addressing table keyed by (left id << 32 | right id); sized to a power of two at least twice the merges.
  std::vector<uint64_t> merge_keys_;
  std::vector<MergeValue> merge_values_;
  uint64_t merge_mask_ = 0;
  std::array<int32_t, 256> byte_ids_{};  // byte-level mode: id of each byte's character (-1 if absent)
  std::array<int32_t, 256> fallback_ids_{};  // "<0xAB>" ids for byte_fallback (-1 if absent)
  int32_t unk_id_ = -1;
  BpeOptions options_;
  BpeCache cache_;
};

}  // namespace fathom
