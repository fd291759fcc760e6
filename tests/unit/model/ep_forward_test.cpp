// Data-parallel attention + expert-parallel MoE under mpirun (ctest runs it with -np 2 and -np 4): every rank
// runs its own sequence — ranks finish at different steps and then step with an empty batch — and each rank's
// logits are bitwise those of the whole model run in one process on that sequence alone.
#include <gtest/gtest.h>

#include <cstring>

#include "dist/comm.h"
#include "model_test_util.h"

namespace fathom {
namespace {

TEST(ExpertParallel, EqualsSingleProcessBitwise) {
  std::unique_ptr<Comm> comm = make_world_comm();
  if (comm->size() == 1) GTEST_SKIP() << "run under mpirun -np N (ctest does: ep_forward_test_np2 / _np4)";
  const int rank = comm->rank(), n = comm->size();
  test::TempDir dir;  // each rank writes the same deterministic checkpoint
  ASSERT_TRUE(create_model(test::create_options(
      {"--preset", "tiny", "--seed", "12", "--override", R"({"vocab_size": 400, "num_hidden_layers": 3})"}, dir.path)));
  auto ep = DeepseekModel::load(dir.path, ShardSpec{rank, n, ParallelMode::EXPERT});
  ASSERT_TRUE(ep) << ep.error();
  auto whole = DeepseekModel::load(dir.path);
  ASSERT_TRUE(whole);
  const ModelConfig& c = (*ep)->config();
  const int64_t V = c.vocab_size, len = 6 + 5 * rank, bs = 16, nb = (len + bs - 1) / bs;
  std::vector<int32_t> seq;
  for (int64_t i = 0; i < len; ++i) seq.push_back(static_cast<int32_t>((i * 31 + rank * 17 + 3) % V));
  ThreadPool pool(1);
  const auto ref = test::run_sequence(**whole, seq, 0, &pool);

  // Lockstep: step 0 prefills 4 tokens on every rank, then one token per step until the longest is done.
  const int64_t longest = 6 + 5 * (n - 1);
  LatentCache cache = (*ep)->make_cache(nb, bs);
  std::vector<int32_t> table(nb);
  for (int64_t b = 0; b < nb; ++b) table[b] = static_cast<int32_t>(b);
  Workspace ws(c, 8, len, 1);
  std::vector<float> logits(8 * V);
  int64_t done = 0;
  for (int64_t step = 0; 4 + step - 1 < longest; ++step) {
    const int64_t b = step == 0 ? 0 : 3 + step, e = std::min(len, step == 0 ? 4 : 4 + step);
    std::vector<int32_t> tok, pos, seq_of, rows;
    for (int64_t p = b; p < e; ++p) {
      rows.push_back(static_cast<int32_t>(tok.size()));
      tok.push_back(seq[p]);
      pos.push_back(static_cast<int32_t>(p));
      seq_of.push_back(0);
    }
    (*ep)->forward({tok, pos, seq_of, table, static_cast<int32_t>(nb), rows}, cache, ws, logits.data(), &pool, comm.get());
    for (size_t r = 0; r < rows.size(); ++r, ++done)
      EXPECT_EQ(0, std::memcmp(logits.data() + r * V, ref.data() + (b + static_cast<int64_t>(r)) * V, V * 4))
          << "rank " << rank << " position " << b + static_cast<int64_t>(r);
  }
  EXPECT_EQ(done, len);
}

}  // namespace
}  // namespace fathom
