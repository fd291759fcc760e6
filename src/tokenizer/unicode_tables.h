// Unicode normalization forms (NFC, NFKC, NFD, NFKD) and per-character lowercasing (Rust's char::to_lowercase,
// which `tokenizers` uses), over the data generated into unicode_data.cpp. Input must be valid UTF-8.
#pragma once
#include <string>
#include <string_view>

namespace fathom::unicode {

void normalize(std::string_view in, bool compat, bool compose, std::string& out);
void lowercase(std::string_view in, std::string& out);

}  // namespace fathom::unicode
