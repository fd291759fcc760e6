// Shared by the streaming text parsers: how much of a text's tail might be the start of a marker, so that it is
// held back until the next piece decides.
#pragma once
#include <algorithm>
#include <string_view>

namespace fathom::server {

// Length of the longest suffix of `text` that is a proper prefix of `marker`.
inline size_t partial_marker_suffix(std::string_view text, std::string_view marker) {
  const size_t max = std::min(text.size(), marker.size() - 1);
  for (size_t n = max; n > 0; --n) {
    if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
  }
  return 0;
}

}  // namespace fathom::server
