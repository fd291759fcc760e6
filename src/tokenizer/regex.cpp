#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include <cctype>

#include "core/check.h"

namespace fathom {

RegexScratch::RegexScratch() : match_data_(pcre2_match_data_create(1, nullptr)) {
  FATHOM_CHECK(match_data_ != nullptr);
}

RegexScratch::~RegexScratch() { pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data_)); }

namespace unicode::data {
extern const char kOnigurumaExtraL[];
extern const char kOnigurumaExtraN[];
extern const char kOnigurumaExtraP[];
extern const char kOnigurumaExtraS[];
extern const char kOnigurumaExtraM[];
}  // namespace unicode::data

namespace {

// Code points Oniguruma (newer Unicode) puts in a general category that PCRE2's tables do not (unicode_data.cpp).
const char* category_extra(std::string_view name) {
  if (name == "L") return unicode::data::kOnigurumaExtraL;
  if (name == "N") return unicode::data::kOnigurumaExtraN;
  if (name == "P") return unicode::data::kOnigurumaExtraP;
  if (name == "S") return unicode::data::kOnigurumaExtraS;
  if (name == "M") return unicode::data::kOnigurumaExtraM;
  return nullptr;
}

}  // namespace

std::string oniguruma_to_pcre2(std::string_view pattern) {
  // Oniguruma (used by `tokenizers`) gives \s, \w and their negations Unicode meanings that differ slightly from
  // PCRE2's UCP ones: \s is the White_Space property (PCRE2 adds U+180E) and \w is L, M, Nd and Pc (PCRE2 10.42:
  // L, N and "_"). Rewrite them as explicit properties, inside classes too. \p{L}, \p{N}, \p{P}, \p{S} and \p{M} gain
  // the code points assigned after PCRE2's Unicode version (\P{X} too, outside classes).
  static constexpr std::string_view kSpace = "\\p{White_Space}", kNotSpace = "\\P{White_Space}";
  static constexpr std::string_view kWordItems = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";
  std::string out;
  out.reserve(pattern.size() + 32);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      ++i;
      if (e == 's') {
        out += kSpace;
      } else if (e == 'S') {
        out += kNotSpace;
      } else if (e == 'w') {
        out += in_class ? std::string(kWordItems) : "[" + std::string(kWordItems) + "]";
      } else if (e == 'W' && !in_class) {
        out += "[^" + std::string(kWordItems) + "]";
      } else if ((e == 'p' || (e == 'P' && !in_class)) && i + 1 < pattern.size() && pattern[i + 1] == '{' &&
                 pattern.find('}', i + 1) != std::string_view::npos) {
        // \p{L} etc.: PCRE2's class plus the code points newer Unicode added to it.
        const size_t close = pattern.find('}', i + 1);
        const std::string_view name = pattern.substr(i + 2, close - i - 2);
        const std::string prop = std::string("\\p{") + std::string(name) + "}";
        const char* extra = category_extra(name);
        if (extra == nullptr || *extra == '\0') {
          out += std::string("\\") + e + "{" + std::string(name) + "}";
        } else if (in_class) {
          out += prop + extra;
        } else {
          out += (e == 'P' ? "[^" : "[") + prop + extra + "]";
        }
        i = close;
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

Expected<Regex> Regex::compile(std::string_view onig_pattern) {
  return compile_pcre2(oniguruma_to_pcre2(onig_pattern), onig_pattern);
}

Expected<Regex> Regex::compile_pcre2(const std::string& pattern, std::string_view shown) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof(msg));
    return Status::error("regex /" + std::string(shown) + "/ does not compile at offset " +
                         std::to_string(err_offset) + ": " + reinterpret_cast<const char*>(msg));
  }
  Regex r;
  r.jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  r.code_ = std::shared_ptr<void>(code, [](void* p) { pcre2_code_free(static_cast<pcre2_code*>(p)); });
  return r;
}

Expected<Regex> Regex::literal(std::string_view literal) {
  // Backslash-escape every ASCII punctuation byte; letters, digits and multi-byte UTF-8 stay as they are.
  std::string quoted;
  for (char c : literal) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80 && !std::isalnum(b)) quoted.push_back('\\');
    quoted.push_back(c);
  }
  return compile_pcre2(quoted, literal);
}

bool Regex::find(std::string_view subject, size_t from, RegexScratch& scratch, size_t* start, size_t* end) const {
  FATHOM_CHECK(code_ != nullptr);
  auto* code = static_cast<const pcre2_code*>(code_.get());
  auto* md = static_cast<pcre2_match_data*>(scratch.match_data());
  const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
  int rc = jit_ ? pcre2_jit_match(code, s, subject.size(), from, 0, md, nullptr) : PCRE2_ERROR_JIT_STACKLIMIT;
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
    // The interpreter keeps its backtracking state on the heap, so it handles what the JIT stack cannot.
    rc = pcre2_match(code, s, subject.size(), from, PCRE2_NO_UTF_CHECK, md, nullptr);
  }
  // Besides "no match", only resource limits can fail here (the subject is valid UTF-8); a pattern that exceeds
  // them on some input stops splitting that piece rather than failing the whole request.
  if (rc <= 0) return false;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  *start = ov[0];
  *end = ov[1];
  return true;
}

}  // namespace fathom
