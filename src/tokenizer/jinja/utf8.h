// UTF-8 helpers with Python `str` semantics for the template interpreter: strings are stored as UTF-8 bytes but
// indexed, sliced, counted and stripped by code point. Invalid bytes decode leniently as one code point each
// (U+FFFD stands in for their value), so that no input can make an operation fail or read out of bounds.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fathom::jinja {

// Decodes the code point starting at s[*pos] and advances *pos past it (at least one byte).
char32_t utf8_next(std::string_view s, size_t* pos);
void utf8_append(std::string* out, char32_t cp);
size_t utf8_length(std::string_view s);
// Byte offsets of every code point start, plus s.size() at the end (n_code_points + 1 entries).
std::vector<size_t> utf8_offsets(std::string_view s);

// Python's str.isspace() (and `\s` in a str regex) for one code point.
bool py_isspace(char32_t cp);
// Python str.strip()/lstrip()/rstrip(): without `chars` strips py_isspace; with `chars` strips those code points.
std::string py_strip(std::string_view s, bool left, bool right, const std::string* chars = nullptr);

}  // namespace fathom::jinja
