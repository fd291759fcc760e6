#include "tokenizer/utf8.h"
#include "tokenizer/tokenizer.h"

namespace fathom {

IncrementalDetokenizer::IncrementalDetokenizer(std::shared_ptr<const Tokenizer> tokenizer, bool skip_special_tokens)
    : tok_(std::move(tokenizer)), skip_special_(skip_special_tokens) {}

std::string IncrementalDetokenizer::push(int32_t id) {
  std::string out;
  if (tok_->byte_level_decoder()) {
    // Full decode is lossy-UTF-8 of the concatenated bytes, and maximal-subpart replacement is decided locally:
    // everything before a valid-but-incomplete tail is final, so emitting it now keeps concatenation == decode.
    if (skip_special_ && tok_->is_special(id)) return out;
    pending_ += tok_->token_bytes(id);
    const size_t keep = utf8::truncated_tail(pending_);
    utf8::append_lossy(out, std::string_view(pending_).substr(0, pending_.size() - keep));
    pending_.erase(0, pending_.size() - keep);
    return out;
  }
  // Other decoders: re-decode the ids since the last stable point and emit what grew, holding back text that
  // ends in U+FFFD (a byte-fallback sequence may still be incomplete).
  ids_.push_back(id);
  const std::string text = tok_->decode(ids_, skip_special_);
  const bool unstable = text.size() >= 3 && text.compare(text.size() - 3, 3, utf8::kReplacement) == 0;
  if (unstable || text.size() < emitted_.size() || text.compare(0, emitted_.size(), emitted_) != 0) return out;
  out = text.substr(emitted_.size());
  emitted_ = text;
  return out;
}

std::string IncrementalDetokenizer::finish() {
  std::string out;
  if (tok_->byte_level_decoder()) {
    utf8::append_lossy(out, pending_);
    pending_.clear();
    return out;
  }
  const std::string text = tok_->decode(ids_, skip_special_);
  // If a later token rewrote already emitted text (not seen with supported decoders) the tail is still returned.
  if (text.size() > emitted_.size()) out = text.substr(emitted_.size());
  ids_.clear();
  emitted_.clear();
  return out;
}

}  // namespace fathom
