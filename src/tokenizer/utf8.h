// UTF-8 helpers for the tokenizer. Invalid input follows one rule everywhere: each *maximal subpart* of an
// ill-formed sequence (Unicode §3.9, "substitution of maximal subparts") becomes one U+FFFD. That is what Python's
// `bytes.decode("utf-8", errors="replace")` and Rust's `String::from_utf8_lossy` do, so encoding sanitised bytes
// matches the `tokenizers` library fed `raw.decode("utf-8", "replace")`, and decoding matches its lossy decode.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace fathom::utf8 {

enum class Step { kValid, kInvalid, kTruncated };

// Examines the sequence starting at s[pos] (pos < s.size()). kValid: a well-formed character of *len bytes
// (*cp set). kInvalid: a maximal subpart of *len bytes (>= 1) that can never become valid. kTruncated: the *len
// bytes up to the end of s are a valid prefix of a character that more bytes could complete.
Step next(std::string_view s, size_t pos, size_t* len, char32_t* cp);

bool is_valid(std::string_view s);

// Appends s to out with every maximal subpart of an ill-formed sequence (a truncated tail included) replaced by
// U+FFFD ("\xEF\xBF\xBD").
void append_lossy(std::string& out, std::string_view s);
std::string lossy(std::string_view s);

// Number of bytes at the end of s that form a valid but incomplete character (0..3).
size_t truncated_tail(std::string_view s);

void append_codepoint(std::string& out, char32_t cp);

// The Unicode White_Space property (Rust's char::is_whitespace, Oniguruma's \s).
inline bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Start of the character that ends at s[end] (end > 0, s valid UTF-8).
inline size_t previous_char_start(std::string_view s, size_t end) {
  size_t p = end - 1;
  while (p > 0 && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
  return p;
}

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace fathom::utf8
