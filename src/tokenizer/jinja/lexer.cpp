#include "tokenizer/jinja/lexer.h"

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/utf8.h"

namespace fathom::jinja {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

// jinja2 lexes "\n" only (newlines are normalised first), so counting '\n' gives line numbers.
int count_newlines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Python's `str.rstrip()` (no argument): Unicode whitespace.
std::string rstrip_ws(std::string_view s) { return py_strip(s, false, true); }

// True when s is non-empty and made of Python whitespace only (`\s+` fullmatch).
bool all_whitespace(std::string_view s) {
  if (s.empty()) return false;
  for (size_t p = 0; p < s.size();) {
    if (!py_isspace(utf8_next(s, &p))) return false;
  }
  return true;
}

// Number of bytes of Python whitespace at the start of s (the `\s*` after `-%}`).
size_t skip_ws(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    size_t next = pos;
    if (!py_isspace(utf8_next(s, &next))) break;
    pos = next;
  }
  return pos;
}

// Decodes a string literal's body as Python's "unicode-escape" codec does after jinja2's "backslashreplace".
std::string unescape(std::string_view body, int line) {
  std::string out;
  auto hex = [&](size_t pos, int n) -> uint32_t {
    if (pos + n > body.size()) fail(line, "truncated escape sequence in string literal");
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      const char c = body[pos + i];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) fail(line, "truncated escape sequence in string literal");
      v = v * 16 + d;
    }
    return v;
  };
  for (size_t i = 0; i < body.size();) {
    if (body[i] != '\\') {
      out.push_back(body[i++]);
      continue;
    }
    const size_t esc = i + 1;  // the lexer guarantees a character follows a backslash
    const char c = body[esc];
    i = esc + 1;
    switch (c) {
      case '\n': break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': utf8_append(&out, hex(i, 2)); i += 2; break;
      case 'u': utf8_append(&out, hex(i, 4)); i += 4; break;
      case 'U': {
        const uint32_t cp = hex(i, 8);
        if (cp > 0x10FFFF) fail(line, "illegal Unicode character in string literal");
        utf8_append(&out, cp);
        i += 8;
        break;
      }
      case 'N': fail(line, "unsupported construct: \\N{...} escape in string literal");
      default:
        if (c >= '0' && c <= '7') {
          uint32_t v = c - '0';
          for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k) v = v * 8 + (body[i++] - '0');
          utf8_append(&out, v);
        } else if (static_cast<unsigned char>(c) >= 0x80) {
          // backslashreplace turned the character into "\xe9"-style text; "\\" then decodes to one backslash.
          size_t p = esc;
          const char32_t cp = utf8_next(body, &p);
          char buf[16];
          if (cp < 0x100) {
            std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(cp));
          } else if (cp < 0x10000) {
            std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
          } else {
            std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(cp));
          }
          out += buf;
          i = p;
        } else {
          out.push_back('\\');
          out.push_back(c);
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      // Earliest tag start.
      size_t tag = std::string::npos;
      for (size_t p = src_.find('{', pos_); p != std::string::npos; p = src_.find('{', p + 1)) {
        if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) {
          tag = p;
          break;
        }
      }
      if (tag == std::string::npos) {
        emit_text(src_.substr(pos_));
        pos_ = src_.size();
        break;
      }
      const char type = src_[tag + 1];
      char sign = 0;
      if (tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+')) sign = src_[tag + 2];
      std::string text = src_.substr(pos_, tag - pos_);
      if (sign == '-') {
        text = rstrip_ws(text);
      } else if (sign != '+' && type != '{') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && all_whitespace(std::string_view(text).substr(l_pos))) text.resize(l_pos);
      }
      emit_text(text);
      advance_to(tag + 2 + (sign ? 1 : 0));
      if (type == '#') {
        line_starting = lex_comment();
      } else if (type == '%' && try_raw(tag)) {
        line_starting = false;
      } else {
        line_starting = lex_tag(type == '%');
      }
    }
    out_.push_back(Token{TokKind::kEof, "", line_});
    return std::move(out_);
  }

 private:
  void advance_to(size_t pos) {
    line_ += count_newlines(std::string_view(src_).substr(pos_, pos - pos_));
    pos_ = pos;
  }
  void emit_text(const std::string& text) {
    if (!text.empty()) out_.push_back(Token{TokKind::kText, text, line_});
  }

  // Consumes "#}" (with its whitespace control); returns whether the match ended in a newline.
  bool lex_comment() {
    for (size_t p = pos_; p + 1 < src_.size(); ++p) {
      if ((src_[p] == '+' || src_[p] == '-') && src_.compare(p + 1, 2, "#}") == 0) {
        size_t end = p + 3;
        if (src_[p] == '-') end = skip_ws(src_, end);
        return finish_match(end);
      }
      if (src_.compare(p, 2, "#}") == 0) {
        size_t end = p + 2;
        if (end < src_.size() && src_[end] == '\n') ++end;
        return finish_match(end);
      }
    }
    fail(line_, "missing end of comment tag");
  }

  bool finish_match(size_t end) {
    advance_to(end);
    return end > 0 && src_[end - 1] == '\n';
  }

  // `{% raw %}...{% endraw %}`: the body is text. `tag` is the position of "{%".
  bool try_raw(size_t tag) {
    size_t p = skip_ws(src_, pos_);
    if (src_.compare(p, 3, "raw") != 0) return false;
    p = skip_ws(src_, p + 3);
    if (src_.compare(p, 3, "-%}") == 0) {
      p = skip_ws(src_, p + 3);
    } else if (src_.compare(p, 2, "%}") == 0) {
      p += 2;
    } else {
      return false;
    }
    advance_to(p);
    const bool line_starting = p > 0 && src_[p - 1] == '\n';
    // Find "{%[-+]? endraw [-+]?%}".
    for (size_t q = src_.find("{%", pos_); q != std::string::npos; q = src_.find("{%", q + 1)) {
      size_t r = q + 2;
      char sign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) sign = src_[r++];
      r = skip_ws(src_, r);
      if (src_.compare(r, 6, "endraw") != 0) continue;
      r = skip_ws(src_, r + 6);
      size_t end;
      if (src_.compare(r, 3, "+%}") == 0) {
        end = r + 3;
      } else if (src_.compare(r, 3, "-%}") == 0) {
        end = skip_ws(src_, r + 3);
      } else if (src_.compare(r, 2, "%}") == 0) {
        end = r + 2;
        if (end < src_.size() && src_[end] == '\n') ++end;
      } else {
        continue;
      }
      std::string text = src_.substr(pos_, q - pos_);
      if (sign == '-') {
        text = rstrip_ws(text);
      } else if (sign != '+') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && all_whitespace(std::string_view(text).substr(l_pos))) text.resize(l_pos);
      }
      emit_text(text);
      advance_to(end);
      return true;
    }
    (void)tag;
    fail(line_, "missing end of raw directive");
  }

  // Tokens of a `{% %}` (block) or `{{ }}` tag up to its end; returns whether the end match ended in a newline.
  bool lex_tag(bool block) {
    out_.push_back(Token{block ? TokKind::kBlockBegin : TokKind::kVarBegin, "", line_});
    std::string balance;
    while (true) {
      if (pos_ >= src_.size()) fail(line_, std::string("unexpected end of template inside a ") + (block ? "{% %}" : "{{ }}") + " tag");
      if (balance.empty()) {
        if (block) {
          if (src_.compare(pos_, 3, "+%}") == 0) return end_tag(TokKind::kBlockEnd, pos_ + 3);
          if (src_.compare(pos_, 3, "-%}") == 0) return end_tag(TokKind::kBlockEnd, skip_ws(src_, pos_ + 3));
          if (src_.compare(pos_, 2, "%}") == 0) {
            size_t end = pos_ + 2;
            if (end < src_.size() && src_[end] == '\n') ++end;
            return end_tag(TokKind::kBlockEnd, end);
          }
        } else {
          if (src_.compare(pos_, 3, "-}}") == 0) return end_tag(TokKind::kVarEnd, skip_ws(src_, pos_ + 3));
          if (src_.compare(pos_, 2, "}}") == 0) return end_tag(TokKind::kVarEnd, pos_ + 2);
        }
      }
      size_t next = pos_;
      if (py_isspace(utf8_next(src_, &next))) {
        advance_to(skip_ws(src_, pos_));
        continue;
      }
      const char c = src_[pos_];
      if (is_digit(c)) {
        lex_number();
      } else if (is_name_start(c)) {
        size_t e = pos_;
        while (e < src_.size() && is_name_char(src_[e])) ++e;
        out_.push_back(Token{TokKind::kName, src_.substr(pos_, e - pos_), line_});
        advance_to(e);
      } else if (c == '\'' || c == '"') {
        lex_string(c);
      } else {
        lex_operator(&balance);
      }
    }
  }

  bool end_tag(TokKind kind, size_t end) {
    out_.push_back(Token{kind, "", line_});
    return finish_match(end);
  }

  size_t digit_run(size_t p) const {  // (\d+_)*\d+ ; returns p unchanged when there is no digit
    if (p >= src_.size() || !is_digit(src_[p])) return p;
    while (p < src_.size() && is_digit(src_[p])) {
      ++p;
      if (p + 1 < src_.size() && src_[p] == '_' && is_digit(src_[p + 1])) ++p;
    }
    return p;
  }

  void lex_number() {
    const int line = line_;
    const bool after_dot = pos_ > 0 && src_[pos_ - 1] == '.';
    const size_t int_end = digit_run(pos_);
    size_t e = int_end;
    bool is_float = false;
    if (!after_dot) {
      if (e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
        e = digit_run(e + 1);
        is_float = true;
      }
      if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
        size_t x = e + 1;
        if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
        const size_t y = digit_run(x);
        if (y > x) {
          e = y;
          is_float = true;
        }
      }
    }
    if (is_float) {
      std::string digits;
      for (size_t i = pos_; i < e; ++i) {
        if (src_[i] != '_') digits.push_back(src_[i]);
      }
      Token t{TokKind::kFloat, digits, line};
      t.float_value = std::strtod(digits.c_str(), nullptr);
      out_.push_back(t);
      advance_to(e);
      return;
    }
    int base = 10;
    size_t start = pos_;
    e = int_end;
    if (src_[pos_] == '0') {
      const char p = pos_ + 1 < src_.size() ? static_cast<char>(src_[pos_ + 1] | 0x20) : 0;
      if (p == 'x' || p == 'o' || p == 'b') {
        base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
        auto ok = [&](char ch) {
          const char l = static_cast<char>(ch | 0x20);
          return base == 16 ? (is_digit(ch) || (l >= 'a' && l <= 'f')) : (ch >= '0' && ch < '0' + base);
        };
        size_t q = pos_ + 2;
        while (q < src_.size() && (ok(src_[q]) || (src_[q] == '_' && q + 1 < src_.size() && ok(src_[q + 1])))) ++q;
        if (q > pos_ + 2) {
          start = pos_ + 2;
          e = q;
        } else {
          base = 10;
          e = pos_ + 1;
        }
      } else {
        // `0(_?0)*`: a leading zero only continues with zeros.
        e = pos_ + 1;
        while (e < src_.size() && (src_[e] == '0' || (src_[e] == '_' && e + 1 < src_.size() && src_[e + 1] == '0'))) ++e;
      }
    }
    std::string digits;
    for (size_t i = start; i < e; ++i) {
      if (src_[i] != '_') digits.push_back(src_[i]);
    }
    errno = 0;
    const long long v = std::strtoll(digits.c_str(), nullptr, base);
    if (errno == ERANGE) fail(line, "integer literal " + digits + " is too large (Fathom's ints are 64-bit)");
    Token t{TokKind::kInt, src_.substr(pos_, e - pos_), line};
    t.int_value = v;
    out_.push_back(t);
    advance_to(e);
  }

  void lex_string(char quote) {
    const int line = line_;
    size_t p = pos_ + 1;
    while (p < src_.size() && src_[p] != quote) {
      if (src_[p] == '\\') {
        if (p + 1 >= src_.size()) break;
        ++p;
        size_t q = p;
        utf8_next(src_, &q);
        p = q;
      } else {
        ++p;
      }
    }
    if (p >= src_.size()) fail(line, std::string("unterminated string literal (unexpected char '") + quote + "')");
    out_.push_back(Token{TokKind::kString, unescape(std::string_view(src_).substr(pos_ + 1, p - pos_ - 1), line), line});
    advance_to(p + 1);
  }

  void lex_operator(std::string* balance) {
    static const char* const kOps[] = {"**", "//", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]",
                                       "(",  ")",  "{",  "}",  ">",  "<",  "=", ".", ":", "|", ",", ";"};
    for (const char* op : kOps) {
      const size_t n = std::char_traits<char>::length(op);
      if (src_.compare(pos_, n, op) != 0) continue;
      const char c = op[0];
      if (n == 1 && (c == '(' || c == '[' || c == '{')) {
        balance->push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
      } else if (n == 1 && (c == ')' || c == ']' || c == '}')) {
        if (balance->empty()) fail(line_, std::string("unexpected '") + c + "'");
        if (balance->back() != c) fail(line_, std::string("unexpected '") + c + "', expected '" + balance->back() + "'");
        balance->pop_back();
      }
      out_.push_back(Token{TokKind::kOp, op, line_});
      advance_to(pos_ + n);
      return;
    }
    size_t p = pos_;
    const char32_t cp = utf8_next(src_, &p);
    std::string shown;
    utf8_append(&shown, cp);
    fail(line_, "unexpected character '" + shown + "' in a tag");
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> out_;
};

std::string normalize_newlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  // keep_trailing_newline=False: one final newline is dropped.
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> tokenize(const std::string& source) { return Lexer(normalize_newlines(source)).run(); }

}  // namespace fathom::jinja
