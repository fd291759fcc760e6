// tokenizer.json features beyond DeepSeek-V3's own configuration (normalizers, Split behaviours and invert, Digits,
// Metaspace, Whitespace(Split), ByteLevel options, added-token flags) against the `tokenizers` library: fixtures
// from tools/gen_tokenizer_feature_fixtures.py patch DeepSeek-V3's tokenizer.json and list expected ids (exact).
// Also: UTF-8 helpers and load errors that name the file and field.
#include <gtest/gtest.h>

#include <thread>

#include "core/file_io.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace fathom {
namespace {

using nlohmann::json;

TEST(TokenizerFeatures, MatchTokenizersOnEveryVariant) {
  auto base_text = read_text_file(std::string(FATHOM_SOURCE_DIR) + "/assets/tokenizer.json");
  ASSERT_TRUE(base_text.has_value());
  const json base = json::parse(*base_text);
  const auto lines = testing::read_gz_lines(testing::golden_dir() + "/features.json.gz");
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  const json fixture = json::parse(all);
  ASSERT_GE(fixture["variants"].size(), 8u);
  for (size_t v = 0; v < fixture["variants"].size(); ++v) {
    const json& variant = fixture["variants"][v];
    json data = base;
    for (const char* key : {"normalizer", "pre_tokenizer"}) {
      if (variant["patch"].contains(key)) data[key] = variant["patch"][key];
    }
    if (variant["patch"].contains("extra_added")) {
      for (const auto& t : variant["patch"]["extra_added"]) data["added_tokens"].push_back(t);
    }
    auto tok = Tokenizer::from_json_text(data.dump(), "", "variant" + std::to_string(v));
    ASSERT_TRUE(tok.has_value()) << tok.error();
    size_t n_bad = 0;
    for (const json& c : variant["cases"]) {
      const auto text = c["text"].get<std::string>();
      const auto got = (*tok)->encode(text, true);  // no config: no BOS
      if (got != c["ids"].get<std::vector<int32_t>>() && ++n_bad <= 3) {
        ADD_FAILURE() << "variant " << v << " " << variant["patch"].dump().substr(0, 200) << "\n text "
                      << json(text).dump() << "\n want " << c["ids"].dump() << "\n got  " << json(got).dump();
      }
    }
    EXPECT_EQ(n_bad, 0u) << "variant " << v;
  }
}

TEST(TokenizerUtf8, MaximalSubpartReplacement) {
  // Unicode §3.9 table 3-8's example: each maximal subpart becomes one U+FFFD.
  const std::string in = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  EXPECT_EQ(utf8::lossy(in), "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "d");
  EXPECT_EQ(utf8::lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogates are ill-formed
  EXPECT_EQ(utf8::truncated_tail("ab\xF0\x9F\x98"), 3u);
  EXPECT_EQ(utf8::truncated_tail("ab\xE0\x80"), 0u);  // E0 80 can never be completed
  EXPECT_TRUE(utf8::is_valid("\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(utf8::is_valid("\xF4\x90\x80\x80"));
}

TEST(TokenizerLoad, ErrorsNameFileAndField) {
  auto missing = Tokenizer::load("/nonexistent/model");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().find("/nonexistent/model/tokenizer.json"), std::string::npos) << missing.error();

  auto bad_model = Tokenizer::from_json_text(R"({"model": {"type": "Unigram"}})", "", "d");
  ASSERT_FALSE(bad_model.has_value());
  EXPECT_NE(bad_model.error().find("d/tokenizer.json: field \"model.type\""), std::string::npos) << bad_model.error();

  auto bad_merge = Tokenizer::from_json_text(R"({"model": {"vocab": {"a": 0}, "merges": ["a b"]}})", "", "d");
  ASSERT_FALSE(bad_merge.has_value());
  EXPECT_NE(bad_merge.error().find("model.merges[0]"), std::string::npos) << bad_merge.error();

  auto bad_pre = Tokenizer::from_json_text(
      R"({"model": {"vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "("},
          "behavior": "Isolated"}})", "", "d");
  ASSERT_FALSE(bad_pre.has_value());
  EXPECT_NE(bad_pre.error().find("field \"pre_tokenizer\".pattern"), std::string::npos) << bad_pre.error();

  auto bad_bos = Tokenizer::from_json_text(R"({"model": {"vocab": {"a": 0}, "merges": []}})",
                                           R"({"bos_token": "<s>", "add_bos_token": true})", "d");
  ASSERT_FALSE(bad_bos.has_value());
  EXPECT_NE(bad_bos.error().find("d/tokenizer_config.json: field \"bos_token\""), std::string::npos)
      << bad_bos.error();
}

TEST(TokenizerLoad, DeepSeekMetadata) {
  auto tok = Tokenizer::load(std::string(FATHOM_SOURCE_DIR) + "/assets");
  ASSERT_TRUE(tok.has_value()) << tok.error();
  EXPECT_EQ((*tok)->bos_id(), 0);
  EXPECT_EQ((*tok)->eos_id(), 1);
  EXPECT_EQ((*tok)->n_vocab(), 128815);
  EXPECT_TRUE((*tok)->is_special(0));
  EXPECT_FALSE((*tok)->is_special(128814));  // <｜tool▁sep｜> is an added, non-special token
  EXPECT_EQ((*tok)->token_to_id("<｜User｜>"), 128803);
  EXPECT_EQ((*tok)->id_to_piece(0), (*tok)->bos_token());
  EXPECT_NE((*tok)->chat_template().find("<｜Assistant｜>"), std::string::npos);
}

// The server encodes from many threads at once through one shared Tokenizer (and its shared BPE memo).
TEST(TokenizerThreads, ConcurrentEncodeMatchesSerial) {
  auto tok = Tokenizer::load(std::string(FATHOM_SOURCE_DIR) + "/assets");
  ASSERT_TRUE(tok.has_value()) << tok.error();
  std::vector<std::string> lines;
  for (const auto& l : testing::read_gz_lines(testing::golden_dir() + "/corpus.jsonl.gz")) {
    lines.push_back(json::parse(l).get<std::string>());
    if (lines.size() == 3000) break;
  }
  std::vector<std::vector<int32_t>> serial;
  for (const auto& l : lines) serial.push_back((*tok)->encode(l));
  std::vector<size_t> n_bad(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < n_bad.size(); ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < lines.size() * 2; i += 3) {  // overlapping subsets, different orders
        const size_t k = (i * 7 + t) % lines.size();
        if ((*tok)->encode(lines[k]) != serial[k]) ++n_bad[t];
        if ((*tok)->decode(serial[k], false) != (*tok)->decode(serial[k], false)) ++n_bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < n_bad.size(); ++t) EXPECT_EQ(n_bad[t], 0u) << "thread " << t;
}

}  // namespace
}  // namespace fathom
