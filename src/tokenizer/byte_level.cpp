#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace fathom::byte_level {
namespace {

struct Tables {
  std::array<std::string, 256> to_char;
  std::array<int16_t, 512> to_byte;  // indexed by code point; every alphabet character is < U+0144
};

Tables make_tables() {
  Tables t;
  t.to_byte.fill(-1);
  char32_t next_extra = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const char32_t cp = printable ? static_cast<char32_t>(b) : next_extra++;
    utf8::append_codepoint(t.to_char[b], cp);
    t.to_byte[cp] = static_cast<int16_t>(b);
  }
  return t;
}

const Tables& tables() {
  static const Tables t = make_tables();  // immutable after first use
  return t;
}

}  // namespace

const std::string& char_for_byte(uint8_t b) { return tables().to_char[b]; }

int byte_for_char(char32_t cp) { return cp < 512 ? tables().to_byte[cp] : -1; }

bool decode_piece(std::string_view piece, std::string& out) {
  const size_t mark = out.size();
  size_t pos = 0;
  while (pos < piece.size()) {
    size_t len;
    char32_t cp;
    int b = -1;
    if (utf8::next(piece, pos, &len, &cp) == utf8::Step::kValid) b = byte_for_char(cp);
    if (b < 0) {
      out.resize(mark);
      return false;
    }
    out.push_back(static_cast<char>(b));
    pos += len;
  }
  return true;
}

}  // namespace fathom::byte_level
