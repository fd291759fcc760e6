// DeepSeek-V3's tokenizer against the `tokenizers` library (fixtures from tools/gen_tokenizer_fixtures.py) on the
// 20,000-line corpus from tools/gen_tokenizer_corpus.py: ids must be identical (tolerance: none), decode and the
// incremental detokenizer must reproduce the library's decode exactly.
#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace fathom {
namespace {

using nlohmann::json;

class GoldenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tok = Tokenizer::load(std::string(FATHOM_SOURCE_DIR) + "/assets");
    ASSERT_TRUE(tok.has_value()) << tok.error();
    tok_ = *tok;
    for (const auto& line : testing::read_gz_lines(testing::golden_dir() + "/corpus.jsonl.gz")) {
      corpus_.push_back(json::parse(line).get<std::string>());
    }
    fixtures_ = testing::read_gz_jsonl(testing::golden_dir() + "/deepseek_v3_ids.jsonl.gz");
    edge_ = testing::read_gz_jsonl(testing::golden_dir() + "/deepseek_v3_edge.jsonl.gz");
  }
  static void TearDownTestSuite() { tok_.reset(); }

  static std::string stream(const std::vector<int32_t>& ids, bool skip_special) {
    IncrementalDetokenizer detok(tok_, skip_special);
    std::string all;
    for (int32_t id : ids) {
      const std::string piece = detok.push(id);
      EXPECT_TRUE(utf8::is_valid(piece));
      all += piece;
    }
    const std::string tail = detok.finish();
    EXPECT_TRUE(utf8::is_valid(tail));
    return all + tail;
  }

  static std::shared_ptr<const Tokenizer> tok_;
  static std::vector<std::string> corpus_;
  static std::vector<json> fixtures_, edge_;
};

std::shared_ptr<const Tokenizer> GoldenTest::tok_;
std::vector<std::string> GoldenTest::corpus_;
std::vector<json> GoldenTest::fixtures_, GoldenTest::edge_;

TEST_F(GoldenTest, CorpusIsLargeAndMatchesFixtures) {
  EXPECT_GE(corpus_.size(), 20000u);
  ASSERT_EQ(corpus_.size(), fixtures_.size());
}

TEST_F(GoldenTest, EncodeMatchesTokenizersOnEveryLine) {
  ASSERT_EQ(corpus_.size(), fixtures_.size());
  size_t n_bad = 0;
  for (size_t i = 0; i < corpus_.size(); ++i) {
    const auto want = fixtures_[i]["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> want_nobos(want.begin() + 1, want.end());
    const auto want_plain = fixtures_[i].contains("plain") ? fixtures_[i]["plain"].get<std::vector<int32_t>>()
                                                           : want_nobos;
    const auto got = tok_->encode(corpus_[i], true);
    const auto got_nobos = tok_->encode(corpus_[i], false);
    const auto got_plain = tok_->encode_plain(corpus_[i]);
    if (got != want || got_nobos != want_nobos || got_plain != want_plain) {
      if (++n_bad <= 5) {
        ADD_FAILURE() << "line " << i << ": " << json(corpus_[i]).dump() << "\n want " << json(want).dump()
                      << "\n got  " << json(got).dump() << "\n plain want " << json(want_plain).dump()
                      << "\n plain got  " << json(got_plain).dump();
      }
    }
  }
  EXPECT_EQ(n_bad, 0u);
}

TEST_F(GoldenTest, DecodeAndIncrementalDetokenizerMatchOnEveryLine) {
  ASSERT_EQ(corpus_.size(), fixtures_.size());
  size_t n_bad = 0;
  for (size_t i = 0; i < corpus_.size(); ++i) {
    const json& f = fixtures_[i];
    const auto ids = f["ids"].get<std::vector<int32_t>>();
    const std::string dec = f.contains("dec") ? f["dec"].get<std::string>() : tok_->bos_token() + corpus_[i];
    const std::string dec_skip = f.contains("dec_skip") ? f["dec_skip"].get<std::string>() : corpus_[i];
    const bool ok = tok_->decode(ids, false) == dec && tok_->decode(ids, true) == dec_skip &&
                    stream(ids, false) == dec && stream(ids, true) == dec_skip;
    if (!ok && ++n_bad <= 5) ADD_FAILURE() << "line " << i << ": " << json(corpus_[i]).dump();
  }
  EXPECT_EQ(n_bad, 0u);
}

TEST_F(GoldenTest, InvalidUtf8IsReplacedLikePythonErrorsReplace) {
  size_t n_cases = 0;
  for (const json& e : edge_) {
    if (!e.contains("hex")) continue;
    ++n_cases;
    const std::string raw = testing::from_hex(e["hex"].get<std::string>());
    EXPECT_EQ(tok_->encode(raw, true), e["ids"].get<std::vector<int32_t>>()) << e["hex"];
    EXPECT_EQ(tok_->decode(e["ids"].get<std::vector<int32_t>>(), false), e["dec"].get<std::string>());
  }
  EXPECT_GE(n_cases, 500u);
}

TEST_F(GoldenTest, DecodeOfArbitraryIdsMatches) {
  size_t n_cases = 0;
  for (const json& e : edge_) {
    if (!e.contains("rand_ids")) continue;
    ++n_cases;
    const auto ids = e["rand_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok_->decode(ids, false), e["dec"].get<std::string>()) << json(ids).dump();
    EXPECT_EQ(tok_->decode(ids, true), e["dec_skip"].get<std::string>()) << json(ids).dump();
    EXPECT_EQ(stream(ids, false), e["dec"].get<std::string>()) << json(ids).dump();
  }
  EXPECT_GE(n_cases, 500u);
}

}  // namespace
}  // namespace fathom
