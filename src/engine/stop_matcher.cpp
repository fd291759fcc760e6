#include "engine/stop_matcher.h"

#include <algorithm>

namespace fathom {

StopMatcher::StopMatcher(std::vector<std::string> stop_strings) : stops_(std::move(stop_strings)) {
  stops_.erase(std::remove(stops_.begin(), stops_.end(), std::string()), stops_.end());
  for (const auto& s : stops_) max_len_ = std::max(max_len_, s.size());
}

const std::string& StopMatcher::matched() const {
  static const std::string kNone;
  return matched_ >= 0 ? stops_[matched_] : kNone;
}

std::string StopMatcher::feed(std::string_view piece) {
  if (stopped()) return "";
  held_.append(piece);
  // The earliest match wins (ties: the first listed stop string).
  size_t best = std::string::npos;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const size_t at = held_.find(stops_[i]);
    if (at < best) {
      best = at;
      matched_ = static_cast<int>(i);
    }
  }
  if (best != std::string::npos) {
    std::string out = held_.substr(0, best);
    held_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t keep = 0;
  for (size_t k = std::min(held_.size(), max_len_ > 0 ? max_len_ - 1 : 0); k > 0 && keep == 0; --k) {
    const std::string_view tail(held_.data() + held_.size() - k, k);
    for (const auto& s : stops_)
      if (s.size() > k && std::string_view(s).substr(0, k) == tail) {
        keep = k;
        break;
      }
  }
  std::string out = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopMatcher::flush() {
  if (stopped()) return "";
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace fathom
