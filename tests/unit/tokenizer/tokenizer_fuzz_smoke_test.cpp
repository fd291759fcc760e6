// A short, deterministic run of the fuzz target's checks (tests/fuzz/tokenizer/tokenizer_fuzz.cpp) built with the
// normal compiler: the committed seed corpus plus 3,000 random byte strings (fixed seed) through encode,
// encode_plain, decode and the incremental detokenizer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace fathom {
namespace {

std::shared_ptr<const Tokenizer> load() {
  auto tok = Tokenizer::load(std::string(FATHOM_SOURCE_DIR) + "/assets");
  EXPECT_TRUE(tok.has_value()) << tok.error();
  return tok ? *tok : nullptr;
}

// The fuzz target's invariants for one input.
void check_input(const std::shared_ptr<const Tokenizer>& tok, const std::string& text) {
  const auto ids = tok->encode(text, true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], tok->bos_id());
  for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok->n_vocab());
  const auto plain = tok->encode_plain(text);
  const std::string dec = tok->decode(plain, false);
  EXPECT_TRUE(utf8::is_valid(dec));
  if (utf8::is_valid(text)) {
    EXPECT_EQ(dec, text);
  } else {
    EXPECT_EQ(dec, utf8::lossy(text));  // the documented replacement, then an exact round trip
  }
  std::vector<int32_t> raw_ids;
  for (size_t i = 0; i + 2 <= text.size(); i += 3) {
    const auto* d = reinterpret_cast<const uint8_t*>(text.data());
    uint32_t v = d[i] | (d[i + 1] << 8) | (i + 2 < text.size() ? d[i + 2] << 16 : 0);
    raw_ids.push_back(static_cast<int32_t>(v % static_cast<uint32_t>(tok->n_vocab() + 8)));
  }
  for (bool skip : {false, true}) {
    IncrementalDetokenizer detok(tok, skip);
    std::string got;
    for (int32_t id : raw_ids) {
      const std::string piece = detok.push(id);
      EXPECT_TRUE(utf8::is_valid(piece));
      got += piece;
    }
    got += detok.finish();
    EXPECT_EQ(got, tok->decode(raw_ids, skip));
  }
}

TEST(TokenizerFuzzSmoke, SeedCorpus) {
  auto tok = load();
  ASSERT_TRUE(tok);
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(FATHOM_TEST_DATA) + "/fuzz/tokenizer/seeds")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    check_input(tok, ss.str());
    ++n;
  }
  EXPECT_GE(n, 100u);
}

TEST(TokenizerFuzzSmoke, RandomBytes) {
  auto tok = load();
  ASSERT_TRUE(tok);
  std::mt19937 rng(12345);
  const std::string alphabet[] = {"a", " ", "\n", "\t", "1", "\xE4\xBD\xA0", "\xF0\x9F\x98\x80", "<",
                                  "\xEF\xBD\x9C", "\xE2\x96\x81", ">", "\xCC\x81", "\xE2\x80\x8D"};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s;
    const int n = static_cast<int>(rng() % 64);
    for (int k = 0; k < n; ++k) {
      if (rng() % 3 == 0) {
        s.push_back(static_cast<char>(rng() & 0xFF));  // arbitrary byte: often invalid UTF-8
      } else {
        s += alphabet[rng() % std::size(alphabet)];
      }
    }
    check_input(tok, s);
  }
}

}  // namespace
}  // namespace fathom
