// A short, deterministic run of the fuzz target's body on the committed seed corpus and on mutations of it (byte
// flips, truncations, splices), built with the normal compiler: every input must parse or fail cleanly, then
// render or fail cleanly. The long sanitizer run is tests/fuzz/chat_template/build.sh.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../fuzz/chat_template/fuzz_body.h"

namespace fathom {
namespace {

std::vector<std::string> load_corpus() {
  std::vector<std::string> seeds;
  const std::filesystem::path dir = std::string(FATHOM_TEST_DATA) + "/fuzz/chat_template/corpus";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    seeds.push_back(ss.str());
  }
  std::sort(seeds.begin(), seeds.end());
  return seeds;
}

int run(const std::string& s) { return fuzz::run_one(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(ChatTemplateFuzzSmoke, SeedCorpusRendersOrFailsCleanly) {
  const auto seeds = load_corpus();
  ASSERT_GE(seeds.size(), 50u);
  int n_rendered = 0;
  for (const auto& s : seeds) n_rendered += run(s) == 0;
  EXPECT_GE(n_rendered, 40);  // the official templates and most feature templates render
}

TEST(ChatTemplateFuzzSmoke, MutatedInputsNeverCrash) {
  const auto seeds = load_corpus();
  std::mt19937 rng(1234);
  const std::string tokens[] = {"{{", "}}", "{%", "%}", "-", "'", "(", "[", "{", "|", "for x in", "endfor", "if",
                                "endif", "\n", " ", "ns.x", "loop", "[::-1]", "~", "**", "\xff", "\xe2\x96"};
  int n = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = seeds[rng() % seeds.size()];
    const int n_mut = 1 + rng() % 4;
    for (int m = 0; m < n_mut && !s.empty(); ++m) {
      const size_t pos = rng() % s.size();
      switch (rng() % 5) {
        case 0: s[pos] = static_cast<char>(rng()); break;
        case 1: s.erase(pos, rng() % 16); break;
        case 2: s.insert(pos, tokens[rng() % std::size(tokens)]); break;
        case 3: s.resize(pos); break;
        default: {
          const std::string& other = seeds[rng() % seeds.size()];
          s.insert(pos, other.substr(rng() % other.size(), 64));
        }
      }
    }
    run(s);
    ++n;
  }
  EXPECT_EQ(n, 3000);
}

}  // namespace
}  // namespace fathom
