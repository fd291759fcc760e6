#include "tokenizer/added_vocab.h"

#include <map>

#include "core/check.h"
#include "tokenizer/utf8.h"

namespace fathom {

AddedVocab::AddedVocab() {
  auto re = Regex::compile(R"([\p{Alphabetic}\p{N}_])");
  FATHOM_CHECK(re.has_value());
  word_char_ = std::move(*re);
}

void AddedVocab::add(AddedToken token) {
  auto it = by_content_.find(token.content);
  if (it != by_content_.end()) {
    by_id_.erase(tokens_[it->second].id);
    tokens_[it->second] = token;
    by_id_[token.id] = it->second;
    return;
  }
  by_content_[token.content] = tokens_.size();
  by_id_[token.id] = tokens_.size();
  tokens_.push_back(std::move(token));
}

void AddedVocab::finalize(FunctionRef<std::string(const std::string&)> normalize) {
  build_trie(false, normalize, tries_[0]);
  build_trie(true, normalize, tries_[1]);
}

void AddedVocab::build_trie(bool normalized, FunctionRef<std::string(const std::string&)> normalize,
                            Trie& trie) const {
  // Build with ordered child maps, then flatten each node's edges into one sorted run.
  std::vector<std::map<uint8_t, int32_t>> children(1);
  std::vector<int32_t> token_at(1, -1);
  for (size_t t = 0; t < tokens_.size(); ++t) {
    if (tokens_[t].normalized != normalized || tokens_[t].content.empty()) continue;
    const std::string content = normalized ? normalize(tokens_[t].content) : tokens_[t].content;
    if (content.empty()) continue;
    int32_t node = 0;
    for (char c : content) {
      const auto b = static_cast<uint8_t>(c);
      auto it = children[node].find(b);
      if (it == children[node].end()) {
        children.emplace_back();
        token_at.push_back(-1);
        const auto child = static_cast<int32_t>(children.size() - 1);
        children[node][b] = child;
        node = child;
      } else {
        node = it->second;
      }
    }
    token_at[node] = static_cast<int32_t>(t);
    trie.first_byte[static_cast<uint8_t>(content[0])] = true;
    trie.empty = false;
  }
  trie.nodes.resize(children.size());
  for (size_t n = 0; n < children.size(); ++n) {
    trie.nodes[n].first_edge = static_cast<int32_t>(trie.edges.size());
    trie.nodes[n].n_edges = static_cast<int32_t>(children[n].size());
    trie.nodes[n].token = token_at[n];
    for (const auto& [b, child] : children[n]) trie.edges.push_back({b, child});
  }
}

int32_t AddedVocab::longest_at(const Trie& trie, std::string_view text, size_t pos, size_t* len) const {
  int32_t node = 0, best = -1;
  for (size_t p = pos; p < text.size(); ++p) {
    const auto b = static_cast<uint8_t>(text[p]);
    const Trie::Node& n = trie.nodes[node];
    int32_t next = -1;
    for (int32_t e = n.first_edge; e < n.first_edge + n.n_edges; ++e) {
      if (trie.edges[e].byte == b) {
        next = trie.edges[e].child;
        break;
      }
    }
    if (next < 0) break;
    node = next;
    if (trie.nodes[node].token >= 0) {
      best = trie.nodes[node].token;
      *len = p + 1 - pos;
    }
  }
  return best;
}

bool AddedVocab::is_word_char_before(std::string_view text, size_t pos, RegexScratch& scratch) const {
  const size_t start = utf8::previous_char_start(text, pos);
  size_t s, e;
  return word_char_.find(text.substr(start, pos - start), 0, scratch, &s, &e);
}

bool AddedVocab::is_word_char_at(std::string_view text, size_t pos, RegexScratch& scratch) const {
  size_t len;
  char32_t cp;
  utf8::next(text, pos, &len, &cp);
  size_t s, e;
  return word_char_.find(text.substr(pos, len), 0, scratch, &s, &e);
}

void AddedVocab::split(std::string_view text, bool normalized_pass, bool skip_special, RegexScratch& scratch,
                       FunctionRef<void(int32_t)> on_token, FunctionRef<void(size_t, size_t)> on_text) const {
  const Trie& trie = tries_[normalized_pass ? 1 : 0];
  const size_t n = text.size();
  size_t start_offset = 0;  // end of the last token emitted
  size_t pos = 0;           // where the search for the next match resumes
  while (!trie.empty && pos < n) {
    size_t len = 0;
    int32_t t = -1;
    size_t p = pos;
    for (; p < n; ++p) {
      if (!trie.first_byte[static_cast<uint8_t>(text[p])]) continue;
      t = longest_at(trie, text, p, &len);
      if (t >= 0) break;
    }
    if (t < 0) break;
    size_t start = p, stop = p + len;
    pos = stop;  // a skipped match is consumed too, as the Aho-Corasick iterator does
    const AddedToken& tok = tokens_[t];
    if (skip_special && tok.special) continue;
    if (tok.single_word) {
      const bool space_before = start == 0 || !is_word_char_before(text, start, scratch);
      const bool space_after = stop == n || !is_word_char_at(text, stop, scratch);
      if (!space_before || !space_after) continue;
    }
    if (tok.lstrip) {
      size_t s = start;
      while (s > 0) {
        const size_t c = utf8::previous_char_start(text, s);
        size_t l;
        char32_t cp;
        utf8::next(text, c, &l, &cp);
        if (!utf8::is_white_space(cp)) break;
        s = c;
      }
      start = std::max(s, start_offset);
    }
    if (tok.rstrip) {
      while (stop < n) {
        size_t l;
        char32_t cp;
        utf8::next(text, stop, &l, &cp);
        if (!utf8::is_white_space(cp)) break;
        stop += l;
      }
    }
    if (start_offset < start) on_text(start_offset, start);
    on_token(tok.id);
    start_offset = stop;
  }
  if (start_offset < n) on_text(start_offset, n);
}

const AddedToken* AddedVocab::find_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocab::find_content(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

}  // namespace fathom
