// The engine over the real forward pass on the embedded `tiny` model (random weights): batching, chunked
// prefill and prefix hits must not change a single greedy token, because each row's logits are bitwise
// independent of the rest of the batch.
#include <gtest/gtest.h>

#include <random>

#include "engine/engine_factory.h"
#include "model/model_dir.h"

namespace fathom {
namespace {

struct Req {
  GenerateRequest req;
  std::vector<int32_t> alone;
};

LoadedEngine load(EngineOptions o) {
  auto dir = resolve_model_dir("");
  EXPECT_TRUE(dir.has_value()) << dir.error();
  auto e = load_engine(*dir, o);
  EXPECT_TRUE(e.has_value()) << e.error();
  return std::move(e.value());
}

EngineOptions base_options() {
  EngineOptions o;
  o.cache_tokens = 64 * 64;
  o.cache_block_seq_len = 16;
  o.max_batch_size = 64;
  o.max_prefill_token_num = 512;
  o.n_threads = 2;
  return o;
}

std::vector<Req> make_requests(int n, int64_t vocab) {
  std::mt19937 rng(3);
  std::vector<Req> reqs(n);
  for (int i = 0; i < n; ++i) {
    const int len = std::uniform_int_distribution<int>(1, 48)(rng);
    for (int t = 0; t < len; ++t) reqs[i].req.prompt_ids.push_back(std::uniform_int_distribution<int32_t>(3, vocab - 1)(rng));
    reqs[i].req.sampling.temperature = 0.0f;
    reqs[i].req.sampling.max_tokens = std::uniform_int_distribution<int>(2, 4)(rng);
    reqs[i].req.sampling.ignore_eos = true;
  }
  return reqs;
}

TEST(DeepseekEngine, SixtyFourConcurrentGreedyRequestsEqualOneAtATime) {
  LoadedEngine le = load(base_options());
  auto reqs = make_requests(64, le.engine->vocab_size());
  for (auto& r : reqs) {
    const auto ev = le.engine->submit(r.req)->wait_all();
    ASSERT_EQ(ev.finish, FinishReason::LENGTH) << ev.error;
    r.alone = ev.token_ids;
  }
  std::vector<std::shared_ptr<ResultChannel>> chs;
  for (auto& r : reqs) chs.push_back(le.engine->submit(r.req));
  for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(chs[i]->wait_all().token_ids, reqs[i].alone) << "request " << i;
  EXPECT_EQ(le.engine->stats().pages_in_use, 0);

  // Chunked prefill (32 tokens per step) and a too-small pool (preemption) give the same tokens.
  EngineOptions o = base_options();
  o.max_prefill_token_num = 32;
  o.cache_tokens = 5 * 16;  // 80 tokens: room for one 52-token request, not for many
  o.enable_prefix_caching = true;
  LoadedEngine small = load(o);
  chs.clear();
  for (int i = 0; i < 32; ++i) chs.push_back(small.engine->submit(reqs[i].req));
  for (int i = 0; i < 32; ++i) EXPECT_EQ(chs[i]->wait_all().token_ids, reqs[i].alone) << "request " << i;
  EXPECT_GT(small.engine->stats().n_preemptions, 0);
}

TEST(DeepseekEngine, SameSeedSameSampledOutputAloneOrBatched) {
  LoadedEngine le = load(base_options());
  auto reqs = make_requests(8, le.engine->vocab_size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].req.sampling.temperature = 1.0f;
    reqs[i].req.sampling.top_p = 0.9f;
    reqs[i].req.sampling.seed = 1000 + i;
    reqs[i].alone = le.engine->submit(reqs[i].req)->wait_all().token_ids;
  }
  std::vector<std::shared_ptr<ResultChannel>> chs;
  for (auto& r : reqs) chs.push_back(le.engine->submit(r.req));
  for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(chs[i]->wait_all().token_ids, reqs[i].alone) << "request " << i;
}

TEST(DeepseekEngine, PrefixHitEqualsMissAndReportsCachedTokens) {
  EngineOptions o = base_options();
  o.enable_prefix_caching = true;
  LoadedEngine le = load(o);
  GenerateRequest r;
  for (int t = 0; t < 40; ++t) r.prompt_ids.push_back(100 + 37 * t);
  r.sampling.temperature = 0.0f;
  r.sampling.max_tokens = 5;
  r.sampling.ignore_eos = true;
  const auto miss = le.engine->submit(r)->wait_all();
  const auto hit = le.engine->submit(r)->wait_all();
  EXPECT_EQ(miss.usage.cached_tokens, 0);
  EXPECT_EQ(hit.usage.cached_tokens, 32);  // two full pages of 16; the page with the last token is recomputed
  EXPECT_EQ(hit.token_ids, miss.token_ids);
}

}  // namespace
}  // namespace fathom
