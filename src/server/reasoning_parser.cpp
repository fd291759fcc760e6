#include "server/reasoning_parser.h"

#include "server/text_hold.h"

namespace fathom::server {

ReasoningSplit ReasoningParser::feed(std::string_view text) {
  ReasoningSplit out;
  held_.append(text);
  if (at_start_) {
    // Skip leading whitespace-free "<think>" once we know whether it is there.
    if (held_.size() < kOpen.size() && kOpen.starts_with(held_)) return out;
    if (held_.starts_with(kOpen)) held_.erase(0, kOpen.size());
    at_start_ = false;
  }
  if (!in_reasoning_) {
    out.content = std::move(held_);
    held_.clear();
    return out;
  }
  const size_t close = held_.find(kClose);
  if (close != std::string::npos) {
    out.reasoning = held_.substr(0, close);
    out.content = held_.substr(close + kClose.size());
    held_.clear();
    in_reasoning_ = false;
    return out;
  }
  const size_t keep = partial_marker_suffix(held_, kClose);
  out.reasoning = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

ReasoningSplit ReasoningParser::finish() {
  ReasoningSplit out;
  if (in_reasoning_) {
    out.reasoning = std::move(held_);
  } else {
    out.content = std::move(held_);
  }
  held_.clear();
  at_start_ = false;
  return out;
}

}  // namespace fathom::server
