// The forward pass is a function of each sequence alone: prefill == chunked prefill == token-by-token decode over
// the latent cache, and a batch of sequences of different lengths gives each sequence the bits it gets alone.
#include <gtest/gtest.h>

#include <cstring>

#include "model_test_util.h"

namespace fathom {
namespace {

class ForwardConsistency : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    CreateOptions o = test::create_options(
        {"--preset", "tiny", "--seed", "7", "--override", R"({"vocab_size": 512, "num_hidden_layers": 3})"}, dir_->path);
    ASSERT_TRUE(create_model(o));
    auto m = DeepseekModel::load(dir_->path);
    ASSERT_TRUE(m) << m.error();
    model_ = m->release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dir_;
  }
  static std::vector<int32_t> ids(int n, int salt) {
    std::vector<int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back((i * 37 + salt * 11 + 5) % 512);
    return v;
  }
  static test::TempDir* dir_;
  static DeepseekModel* model_;
};
test::TempDir* ForwardConsistency::dir_ = nullptr;
DeepseekModel* ForwardConsistency::model_ = nullptr;

TEST_F(ForwardConsistency, PrefillEqualsDecodeSteps) {
  ThreadPool pool(2);
  const auto seq = ids(40, 1);
  const auto prefill = test::run_sequence(*model_, seq, 0, &pool);
  const auto decode = test::run_sequence(*model_, seq, 1, &pool);
  const auto chunked = test::run_sequence(*model_, seq, 7, &pool);
  ASSERT_EQ(prefill.size(), decode.size());
  // Each row is computed with the same per-row reduction order whatever the chunk: bitwise equal.
  EXPECT_EQ(0, std::memcmp(prefill.data(), decode.data(), prefill.size() * 4));
  EXPECT_EQ(0, std::memcmp(prefill.data(), chunked.data(), prefill.size() * 4));
}

TEST_F(ForwardConsistency, LongContextSplitKeepsTheBits) {
  // 2100 positions, past mla_chunk_keys (2048 keys): the last rows attend in two chunks (split-K). A prefill runs
  // each row's chunks in turn on one thread; decode of one token with three threads (4 head groups, fewer than
  // 2 × 3 units) makes every chunk a work item of its own; chunked prefill mixes both. The bits must agree.
  ThreadPool two(2), three(3);
  const auto seq = ids(2100, 3);
  const auto prefill = test::run_sequence(*model_, seq, 0, &two);
  const auto decode = test::run_sequence(*model_, seq, 1, &three);
  const auto chunked = test::run_sequence(*model_, seq, 700, &three);
  ASSERT_EQ(prefill.size(), decode.size());
  EXPECT_EQ(0, std::memcmp(prefill.data(), decode.data(), prefill.size() * 4));
  EXPECT_EQ(0, std::memcmp(prefill.data(), chunked.data(), prefill.size() * 4));
}

TEST_F(ForwardConsistency, ThreadCountDoesNotChangeBits) {
  ThreadPool one(1), two(2), three(3);
  const auto seq = ids(25, 2);
  const auto a = test::run_sequence(*model_, seq, 0, &one);
  const auto b = test::run_sequence(*model_, seq, 0, &two);
  const auto c = test::run_sequence(*model_, seq, 0, &three);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4));
  EXPECT_EQ(0, std::memcmp(a.data(), c.data(), a.size() * 4));
}

TEST_F(ForwardConsistency, BatchOfMixedLengthsEqualsEachAlone) {
  ThreadPool pool(2);
  const ModelConfig& c = model_->config();
  const int64_t V = c.vocab_size, bs = 16;
  const std::vector<std::vector<int32_t>> seqs = {ids(5, 3), ids(33, 4), ids(1, 5), ids(17, 6)};
  // Alone.
  std::vector<std::vector<float>> alone;
  for (const auto& s : seqs) alone.push_back(test::run_sequence(*model_, s, 0, &pool));
  // Together: step 1 prefills all but the last token of each sequence, step 2 decodes the last tokens of all.
  const int32_t max_blocks = 3;
  LatentCache cache = model_->make_cache(static_cast<int64_t>(seqs.size()) * max_blocks, bs);
  std::vector<int32_t> table;
  for (size_t s = 0; s < seqs.size(); ++s)
    for (int32_t b = 0; b < max_blocks; ++b) table.push_back(static_cast<int32_t>((seqs.size() - 1 - s) * max_blocks + b));
  Workspace ws(c, 64, 64, pool.n_threads());
  for (int step = 0; step < 2; ++step) {
    std::vector<int32_t> tok, pos, seq_of, rows;
    std::vector<std::pair<size_t, int64_t>> row_owner;  // (sequence, position)
    for (size_t s = 0; s < seqs.size(); ++s) {
      const int64_t n = static_cast<int64_t>(seqs[s].size());
      const int64_t b = step == 0 ? 0 : n - 1, e = step == 0 ? n - 1 : n;
      for (int64_t p = b; p < e; ++p) {
        rows.push_back(static_cast<int32_t>(tok.size()));
        row_owner.emplace_back(s, p);
        tok.push_back(seqs[s][p]);
        pos.push_back(static_cast<int32_t>(p));
        seq_of.push_back(static_cast<int32_t>(s));
      }
    }
    ForwardBatch batch{tok, pos, seq_of, table, max_blocks, rows};
    std::vector<float> logits(rows.size() * V);
    model_->forward(batch, cache, ws, logits.data(), &pool);
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto [s, p] = row_owner[r];
      EXPECT_EQ(0, std::memcmp(logits.data() + r * V, alone[s].data() + p * V, V * 4))
          << "sequence " << s << " position " << p << " step " << step;
    }
  }
}

TEST_F(ForwardConsistency, DifferentSeedsGiveDifferentModels) {
  test::TempDir other;
  ASSERT_TRUE(create_model(test::create_options(
      {"--preset", "tiny", "--seed", "8", "--override", R"({"vocab_size": 512, "num_hidden_layers": 3})"}, other.path)));
  auto m2 = DeepseekModel::load(other.path);
  ASSERT_TRUE(m2);
  ThreadPool pool(2);
  const auto seq = ids(4, 9);
  const auto a = test::run_sequence(*model_, seq, 0, &pool);
  const auto b = test::run_sequence(**m2, seq, 0, &pool);
  EXPECT_NE(0, std::memcmp(a.data(), b.data(), a.size() * 4));
}

}  // namespace
}  // namespace fathom
