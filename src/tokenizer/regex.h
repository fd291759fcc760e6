// A compiled PCRE2 pattern (UTF + UCP, JIT when available) shared read-only between threads. Matching needs a
// RegexScratch owned by the calling thread. Subjects must be valid UTF-8 (the tokenizer sanitises input first).
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace fathom {

// Rewrites the Oniguruma escapes whose Unicode meaning differs in PCRE2 (see regex.cpp). Exposed for tests.
std::string oniguruma_to_pcre2(std::string_view pattern);

class RegexScratch {
 public:
  RegexScratch();
  ~RegexScratch();
  RegexScratch(const RegexScratch&) = delete;
  RegexScratch& operator=(const RegexScratch&) = delete;
  void* match_data() const { return match_data_; }

 private:
  void* match_data_;  // pcre2_match_data_8*
};

class Regex {
 public:
  Regex() = default;
  // `pattern` uses the Oniguruma/PCRE syntax found in tokenizer.json files.
  static Expected<Regex> compile(std::string_view pattern);
  // A pattern matching `literal` exactly.
  static Expected<Regex> literal(std::string_view literal);

  bool valid() const { return code_ != nullptr; }

  // Finds the first match in subject at or after `from`; returns false if none. Empty matches are reported.
  bool find(std::string_view subject, size_t from, RegexScratch& scratch, size_t* start, size_t* end) const;

  // Calls f(start, end) for each match, left to right, as Oniguruma's find-iter does (after an empty match the
  // search resumes one character later).
  template <typename F>
  void for_each_match(std::string_view subject, RegexScratch& scratch, F&& f) const {
    size_t from = 0, start, end;
    while (from <= subject.size() && find(subject, from, scratch, &start, &end)) {
      f(start, end);
      if (end > start) {
        from = end;
      } else {
        from = end + 1;
        while (from < subject.size() && (static_cast<unsigned char>(subject[from]) & 0xC0) == 0x80) ++from;
      }
    }
  }

 private:
  static Expected<Regex> compile_pcre2(const std::string& pattern, std::string_view shown);

  std::shared_ptr<void> code_;  // pcre2_code_8*
  bool jit_ = false;
};

}  // namespace fathom
