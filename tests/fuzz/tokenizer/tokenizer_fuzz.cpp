// libFuzzer target for the tokenizer: encode / encode_plain / decode / incremental detokenizer on arbitrary bytes.
// Checks, besides memory safety (ASan): decode never returns invalid UTF-8; for valid UTF-8 input, decode(encode(x))
// == x; the incremental detokenizer's concatenated output equals decode for arbitrary id sequences.
// Build and run: tests/fuzz/tokenizer/run_fuzz.sh [seconds]. The same checks run as a gtest over the seed corpus
// and random bytes (tests/unit/tokenizer/tokenizer_fuzz_smoke_test.cpp).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

std::shared_ptr<const fathom::Tokenizer> g_tok;  // loaded once by LLVMFuzzerInitialize, then read-only

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer fuzz check failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("FATHOM_TOKENIZER_DIR");
  auto tok = fathom::Tokenizer::load(dir ? dir : FATHOM_SOURCE_DIR "/assets");
  if (!tok) {
    std::fprintf(stderr, "%s\n", tok.error().c_str());
    std::abort();
  }
  g_tok = *tok;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fathom::Tokenizer& tok = *g_tok;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto ids = tok.encode(text, true);
  const auto plain = tok.encode_plain(text, false);
  for (int32_t id : ids) check(id >= 0 && id < tok.n_vocab(), "encode id in range");
  const std::string dec = tok.decode(plain, false);
  check(fathom::utf8::is_valid(dec), "decode is valid UTF-8");
  if (fathom::utf8::is_valid(text)) check(dec == text, "decode(encode_plain(x)) == x");
  // The same bytes read as little-endian 32-bit ids (mostly out of range), folded into the vocabulary.
  std::vector<int32_t> raw_ids;
  for (size_t i = 0; i + 2 <= size; i += 3) {
    uint32_t v = data[i] | (data[i + 1] << 8) | (i + 2 < size ? data[i + 2] << 16 : 0);
    raw_ids.push_back(static_cast<int32_t>(v % static_cast<uint32_t>(tok.n_vocab() + 8)));
  }
  for (bool skip : {false, true}) {
    const std::string want = tok.decode(raw_ids, skip);
    check(fathom::utf8::is_valid(want), "decode of arbitrary ids is valid UTF-8");
    fathom::IncrementalDetokenizer detok(g_tok, skip);
    std::string got;
    for (int32_t id : raw_ids) {
      const std::string piece = detok.push(id);
      check(fathom::utf8::is_valid(piece), "incremental piece is valid UTF-8");
      got += piece;
    }
    got += detok.finish();
    check(got == want, "incremental concatenation == decode");
  }
  return 0;
}
