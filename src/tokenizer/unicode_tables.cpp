#include "tokenizer/unicode_tables.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/utf8.h"

namespace fathom::unicode {
namespace data {
extern const char kNfd[];
extern const char kNfkd[];
extern const char kCombiningClass[];
extern const char kComposites[];
extern const char kLowercase[];
}  // namespace data
namespace {

// Hangul syllables compose and decompose by arithmetic (Unicode §3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

using Mapping = std::unordered_map<char32_t, std::u32string>;

std::vector<char32_t> parse_cps(std::string_view s) {
  std::vector<char32_t> out;
  size_t p = 0;
  while (p < s.size()) {
    size_t q = s.find(',', p);
    if (q == std::string_view::npos) q = s.size();
    char32_t v = 0;
    for (size_t k = p; k < q; ++k) {
      const char c = s[k];
      v = v * 16 + static_cast<char32_t>(c <= '9' ? c - '0' : c - 'A' + 10);
    }
    out.push_back(v);
    p = q + 1;
  }
  return out;
}

// Calls f(key, value) for each "key:value" entry of a generated table.
template <typename F>
void for_each_entry(std::string_view table, F&& f) {
  size_t p = 0;
  while (p < table.size()) {
    size_t end = table.find(';', p);
    if (end == std::string_view::npos) end = table.size();
    const std::string_view entry = table.substr(p, end - p);
    const size_t colon = entry.find(':');
    f(parse_cps(entry.substr(0, colon)), parse_cps(entry.substr(colon + 1)));
    p = end + 1;
  }
}

struct Tables {
  Mapping nfd, nfkd, lower;
  std::unordered_map<char32_t, uint8_t> ccc;
  std::unordered_map<uint64_t, char32_t> composites;  // (first << 32 | second) -> composite
};

Tables make_tables() {
  Tables t;
  auto into = [](Mapping& m) {
    return [&m](const std::vector<char32_t>& k, const std::vector<char32_t>& v) {
      m[k[0]] = std::u32string(v.begin(), v.end());
    };
  };
  for_each_entry(data::kNfd, into(t.nfd));
  t.nfkd = t.nfd;
  for_each_entry(data::kNfkd, into(t.nfkd));
  for_each_entry(data::kLowercase, into(t.lower));
  for_each_entry(data::kCombiningClass, [&](const auto& k, const auto& v) { t.ccc[k[0]] = static_cast<uint8_t>(v[0]); });
  for_each_entry(data::kComposites, [&](const auto& k, const auto& v) {
    t.composites[(static_cast<uint64_t>(k[0]) << 32) | k[1]] = v[0];
  });
  return t;
}

const Tables& tables() {
  static const Tables t = make_tables();  // immutable after first use
  return t;
}

uint8_t ccc(const Tables& t, char32_t c) {
  if (c < 0x300) return 0;
  auto it = t.ccc.find(c);
  return it == t.ccc.end() ? 0 : it->second;
}

std::u32string decode_all(std::string_view in) {
  std::u32string out;
  out.reserve(in.size());
  size_t pos = 0, len;
  char32_t cp;
  while (pos < in.size()) {
    if (utf8::next(in, pos, &len, &cp) != utf8::Step::kValid) cp = 0xFFFD;
    out.push_back(cp);
    pos += len;
  }
  return out;
}

}  // namespace

void normalize(std::string_view in, bool compat, bool compose, std::string& out) {
  const Tables& t = tables();
  const Mapping& dec = compat ? t.nfkd : t.nfd;
  // 1. Full decomposition.
  std::u32string d;
  for (char32_t c : decode_all(in)) {
    if (c >= kSBase && c < kSBase + kSCount) {
      const char32_t s = c - kSBase;
      d.push_back(kLBase + s / kNCount);
      d.push_back(kVBase + (s % kNCount) / kTCount);
      if (s % kTCount != 0) d.push_back(kTBase + s % kTCount);
      continue;
    }
    auto it = c < 0xA0 ? dec.end() : dec.find(c);
    if (it == dec.end()) {
      d.push_back(c);
    } else {
      d += it->second;
    }
  }
  // 2. Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < d.size();) {
    if (ccc(t, d[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && ccc(t, d[j]) != 0) ++j;
    std::stable_sort(d.begin() + i, d.begin() + j, [&](char32_t a, char32_t b) { return ccc(t, a) < ccc(t, b); });
    i = j;
  }
  // 3. Canonical composition.
  if (compose && !d.empty()) {
    std::u32string c;
    c.reserve(d.size());
    size_t starter = std::u32string::npos;  // index in c of the last starter
    int last_ccc = 0;                        // class of the last character kept after it
    for (char32_t ch : d) {
      const int cc = ccc(t, ch);
      if (starter != std::u32string::npos) {
        // ch is blocked from the starter by a kept character of class 0 or of a class >= its own.
        const bool adjacent = c.size() == starter + 1;
        if (adjacent || (last_ccc != 0 && last_ccc < cc)) {
          const char32_t s = c[starter];
          char32_t composite = 0;
          if (s >= kLBase && s < kLBase + kLCount && ch >= kVBase && ch < kVBase + kVCount) {
            composite = kSBase + ((s - kLBase) * kVCount + (ch - kVBase)) * kTCount;
          } else if (s >= kSBase && s < kSBase + kSCount && (s - kSBase) % kTCount == 0 && ch > kTBase &&
                     ch < kTBase + kTCount) {
            composite = s + (ch - kTBase);
          } else {
            auto it = t.composites.find((static_cast<uint64_t>(s) << 32) | ch);
            if (it != t.composites.end()) composite = it->second;
          }
          if (composite != 0) {
            c[starter] = composite;
            continue;
          }
        }
      }
      if (cc == 0) starter = c.size();
      last_ccc = cc;
      c.push_back(ch);
    }
    d.swap(c);
  }
  out.clear();
  for (char32_t ch : d) utf8::append_codepoint(out, ch);
}

void lowercase(std::string_view in, std::string& out) {
  const Tables& t = tables();
  out.clear();
  size_t pos = 0, len;
  char32_t cp;
  while (pos < in.size()) {
    if (utf8::next(in, pos, &len, &cp) != utf8::Step::kValid) cp = 0xFFFD;
    pos += len;
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
      continue;
    }
    auto it = t.lower.find(cp);
    if (it == t.lower.end()) {
      utf8::append_codepoint(out, cp);
    } else {
      for (char32_t c : it->second) utf8::append_codepoint(out, c);
    }
  }
}

}  // namespace fathom::unicode
