#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace fathom {
namespace {

constexpr uint64_t kEmptyKey = ~0ull;

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return k;
}

// The queue is a binary heap whose top is the lowest rank, then the leftmost position.
bool lower_priority(const BpeScratch::Merge& a, const BpeScratch::Merge& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

}  // namespace

Expected<std::shared_ptr<const Bpe>> Bpe::build(Vocab vocab,
                                                const std::vector<std::pair<std::string, std::string>>& merges,
                                                BpeOptions options) {
  auto bpe = std::make_shared<Bpe>();
  bpe->options_ = std::move(options);
  int32_t max_id = -1;
  for (const auto& [piece, id] : vocab) {
    if (id < 0) return Status::error("model.vocab: negative id for \"" + piece + "\"");
    max_id = std::max(max_id, id);
  }
  bpe->pieces_.assign(static_cast<size_t>(max_id + 1), std::string());
  bpe->has_piece_.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [piece, id] : vocab) {
    bpe->pieces_[id] = piece;
    bpe->has_piece_[id] = 1;
  }
  bpe->vocab_.reserve(vocab.size());
  for (auto& [piece, id] : vocab) bpe->vocab_.emplace(piece, id);

  size_t n_slots = 16;
  while (n_slots < 2 * merges.size()) n_slots *= 2;
  bpe->merge_keys_.assign(n_slots, kEmptyKey);
  bpe->merge_values_.assign(n_slots, MergeValue{});
  bpe->merge_mask_ = n_slots - 1;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = bpe->token_to_id(a), ib = bpe->token_to_id(b), inew = bpe->token_to_id(a + b);
    if (!ia || !ib || !inew) {
      return Status::error("model.merges[" + std::to_string(rank) + "]: \"" + a + " " + b +
                           "\" uses a piece that is not in model.vocab");
    }
    // Like the `tokenizers` library, a repeated pair keeps its last rank.
    bpe->insert_merge(*ia, *ib, MergeValue{static_cast<int32_t>(rank), *inew});
  }

  for (int b = 0; b < 256; ++b) {
    auto id = bpe->token_to_id(byte_level::char_for_byte(static_cast<uint8_t>(b)));
    bpe->byte_ids_[b] = id ? *id : -1;
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto fb = bpe->token_to_id(name);
    bpe->fallback_ids_[b] = fb ? *fb : -1;
  }
  if (bpe->options_.unk_token) {
    auto id = bpe->token_to_id(*bpe->options_.unk_token);
    if (!id) return Status::error("model.unk_token: \"" + *bpe->options_.unk_token + "\" is not in model.vocab");
    bpe->unk_id_ = *id;
  }
  return std::shared_ptr<const Bpe>(std::move(bpe));
}

void Bpe::insert_merge(int32_t a, int32_t b, MergeValue v) {
  const uint64_t key = pair_key(a, b);
  for (uint64_t slot = mix(key) & merge_mask_;; slot = (slot + 1) & merge_mask_) {
    if (merge_keys_[slot] == kEmptyKey || merge_keys_[slot] == key) {
      merge_keys_[slot] = key;
      merge_values_[slot] = v;
      return;
    }
  }
}

Bpe::MergeValue Bpe::find_merge(int32_t a, int32_t b) const {
  const uint64_t key = pair_key(a, b);
  for (uint64_t slot = mix(key) & merge_mask_;; slot = (slot + 1) & merge_mask_) {
    const uint64_t k = merge_keys_[slot];
    if (k == key) return merge_values_[slot];
    if (k == kEmptyKey) return MergeValue{};
  }
}

std::optional<int32_t> Bpe::token_to_id(std::string_view piece) const {
  auto it = vocab_.find(piece);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* Bpe::id_to_piece(int32_t id) const {
  if (id < 0 || id >= n_ids() || !has_piece_[id]) return nullptr;
  return &pieces_[id];
}

void Bpe::initial_symbols(std::string_view word, BpeScratch& scratch) const {
  auto& syms = scratch.symbols;
  syms.clear();
  bool pending_unk = false;  // the last symbol is an unknown character (fuse_unk joins a run of them)
  auto push = [&](int32_t id, int32_t n_bytes) {
    const auto n = static_cast<int32_t>(syms.size());
    syms.push_back(BpeScratch::Symbol{id, n - 1, -1, n_bytes});
    if (n > 0) syms[n - 1].next = n;
  };
  auto push_unknown = [&](std::string_view ch) {
    if (unk_id_ < 0) return;  // no unk token: the character is dropped, as in `tokenizers`
    if (options_.fuse_unk && pending_unk) {
      syms.back().n_bytes += static_cast<int32_t>(ch.size());
    } else {
      push(unk_id_, static_cast<int32_t>(ch.size()));
    }
    pending_unk = true;
  };
  if (options_.byte_level) {
    for (size_t i = 0; i < word.size(); ++i) {
      const int32_t id = byte_ids_[static_cast<uint8_t>(word[i])];
      if (id >= 0) {
        push(id, 1);
        pending_unk = false;
      } else {
        push_unknown(word.substr(i, 1));
      }
    }
    return;
  }
  size_t pos = 0;
  while (pos < word.size()) {
    size_t len;
    char32_t cp;
    utf8::next(word, pos, &len, &cp);  // word is valid UTF-8
    const std::string_view ch = word.substr(pos, len);
    pos += len;
    if (auto id = token_to_id(ch)) {
      push(*id, static_cast<int32_t>(len));
      pending_unk = false;
      continue;
    }
    if (options_.byte_fallback &&
        std::all_of(ch.begin(), ch.end(), [&](char c) { return fallback_ids_[static_cast<uint8_t>(c)] >= 0; })) {
      for (char c : ch) push(fallback_ids_[static_cast<uint8_t>(c)], 1);
      pending_unk = false;
      continue;
    }
    push_unknown(ch);
  }
}

void Bpe::merge_all(BpeScratch& scratch) const {
  auto& syms = scratch.symbols;
  auto& queue = scratch.queue;
  queue.clear();
  for (size_t i = 0; i + 1 < syms.size(); ++i) {
    const MergeValue m = find_merge(syms[i].id, syms[i + 1].id);
    if (m.rank >= 0) queue.push_back({m.rank, static_cast<int32_t>(i), m.new_id});
  }
  std::make_heap(queue.begin(), queue.end(), lower_priority);
  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), lower_priority);
    const BpeScratch::Merge top = queue.back();
    queue.pop_back();
    BpeScratch::Symbol& left = syms[top.pos];
    if (left.n_bytes == 0 || left.next < 0) continue;
    const int32_t right_pos = left.next;
    const BpeScratch::Symbol right = syms[right_pos];
    // A stale entry: the pair has changed since it was queued.
    if (find_merge(left.id, right.id).new_id != top.new_id) continue;
    left.id = top.new_id;
    left.n_bytes += right.n_bytes;
    left.next = right.next;
    syms[right_pos].n_bytes = 0;
    if (right.next >= 0) syms[right.next].prev = top.pos;
    if (left.prev >= 0) {
      const MergeValue m = find_merge(syms[left.prev].id, left.id);
      if (m.rank >= 0) {
        queue.push_back({m.rank, left.prev, m.new_id});
        std::push_heap(queue.begin(), queue.end(), lower_priority);
      }
    }
    if (left.next >= 0) {
      const MergeValue m = find_merge(left.id, syms[left.next].id);
      if (m.rank >= 0) {
        queue.push_back({m.rank, top.pos, m.new_id});
        std::push_heap(queue.begin(), queue.end(), lower_priority);
      }
    }
  }
}

void Bpe::encode_word(std::string_view word, BpeScratch& scratch, std::vector<int32_t>& out) const {
  if (options_.byte_level && word.size() == 1 && byte_ids_[static_cast<uint8_t>(word[0])] >= 0) {
    out.push_back(byte_ids_[static_cast<uint8_t>(word[0])]);
    return;
  }
  const uint64_t h = BpeCache::hash(word);
  if (word.size() <= BpeCache::kMaxWordBytes && cache_.lookup(word, h, out)) return;
  const size_t mark = out.size();
  std::optional<int32_t> whole;
  if (options_.ignore_merges) {
    if (options_.byte_level) {
      std::string mapped;
      for (char c : word) mapped += byte_level::char_for_byte(static_cast<uint8_t>(c));
      whole = token_to_id(mapped);
    } else {
      whole = token_to_id(word);
    }
  }
  if (whole) {
    out.push_back(*whole);
  } else {
    initial_symbols(word, scratch);
    merge_all(scratch);
    for (const auto& s : scratch.symbols) {
      if (s.n_bytes != 0) out.push_back(s.id);
    }
  }
  cache_.insert(word, h, out.data() + mark, out.size() - mark);
}

}  // namespace fathom
