// GPT-2 byte-level alphabet: each of the 256 byte values is shown as one printable Unicode character (printable
// ASCII and most of Latin-1 stand for themselves, the rest map to U+0100 upwards), so BPE vocabularies can hold
// arbitrary bytes as text.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fathom::byte_level {

// The character standing for byte b, as UTF-8.
const std::string& char_for_byte(uint8_t b);

// The byte a character stands for, or -1 if cp is not in the alphabet.
int byte_for_char(char32_t cp);

// Maps a piece in the byte-level alphabet back to bytes. Returns false (out untouched) if a character is not in
// the alphabet: the ByteLevel decoder then keeps the piece's own UTF-8 bytes (as the `tokenizers` library does).
bool decode_piece(std::string_view piece, std::string& out);

}  // namespace fathom::byte_level
