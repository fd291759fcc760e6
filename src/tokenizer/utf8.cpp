#include "tokenizer/utf8.h"

#include <cstdint>

namespace fathom::utf8 {

Step next(std::string_view s, size_t pos, size_t* len, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    *len = 1;
    *cp = b0;
    return Step::kValid;
  }
  // Well-formed sequences (Unicode Table 3-7): the lead byte fixes the length and the range of the second byte.
  size_t n_bytes = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t value = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n_bytes = 2;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n_bytes = 3;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n_bytes = 4;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *len = 1;
    return Step::kInvalid;
  }
  for (size_t k = 1; k < n_bytes; ++k) {
    if (pos + k >= s.size()) {
      *len = k;
      return Step::kTruncated;
    }
    const auto b = static_cast<unsigned char>(s[pos + k]);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      *len = k;
      return Step::kInvalid;
    }
    value = (value << 6) | (b & 0x3F);
  }
  *len = n_bytes;
  *cp = value;
  return Step::kValid;
}

bool is_valid(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    // ASCII fast path, 8 bytes at a time.
    while (pos + 8 <= s.size()) {
      uint64_t w;
      __builtin_memcpy(&w, s.data() + pos, 8);
      if (w & 0x8080808080808080ull) break;
      pos += 8;
    }
    if (pos >= s.size()) break;
    size_t len;
    char32_t cp;
    if (next(s, pos, &len, &cp) != Step::kValid) return false;
    pos += len;
  }
  return true;
}

void append_lossy(std::string& out, std::string_view s) {
  size_t pos = 0, run = 0;  // [run, pos) is valid and not yet copied
  while (pos < s.size()) {
    size_t len;
    char32_t cp;
    if (next(s, pos, &len, &cp) == Step::kValid) {
      pos += len;
      continue;
    }
    out.append(s.substr(run, pos - run));
    out.append(kReplacement);
    pos += len;
    run = pos;
  }
  out.append(s.substr(run));
}

std::string lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_lossy(out, s);
  return out;
}

size_t truncated_tail(std::string_view s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto b = static_cast<unsigned char>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t len;
    char32_t cp;
    return next(s, n - back, &len, &cp) == Step::kTruncated ? back : 0;
  }
  return 0;
}

void append_codepoint(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace fathom::utf8
