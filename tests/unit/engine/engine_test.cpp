// The engine over the fake model: every output is checked against the oracle (cache-free reference logits and
// a fresh sampler), so batching, chunking, prefix hits and preemption must all be invisible in the tokens.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <random>
#include <thread>

#include "engine_test_util.h"

namespace fathom {
namespace {

using test::fake_config;
using test::fake_engine;
using test::oracle;
using test::random_prompt;

struct Job {
  GenerateRequest req;
  std::vector<int32_t> want;
  std::shared_ptr<ResultChannel> ch;
};

std::vector<Job> make_jobs(int n, uint32_t seed, int min_len, int max_len, int max_tokens, bool sampled,
                           const GenerationDefaults& d) {
  std::mt19937 rng(seed);
  std::vector<Job> jobs(n);
  for (int i = 0; i < n; ++i) {
    jobs[i].req.prompt_ids = random_prompt(rng, std::uniform_int_distribution<int>(min_len, max_len)(rng));
    jobs[i].req.sampling.max_tokens = max_tokens;
    if (sampled) {
      jobs[i].req.sampling.temperature = 0.8f;
      jobs[i].req.sampling.top_p = 0.95f;
      jobs[i].req.sampling.seed = 100 + i;
    }
    jobs[i].want = oracle(jobs[i].req, d);
  }
  return jobs;
}

void run_and_check(Engine& e, std::vector<Job>& jobs) {
  // Every request is in the inbox before the engine's second step: the step listener holds the engine thread
  // until the loop below is done. Otherwise a descheduled test thread (a loaded 2-core CI machine) lets early
  // requests finish before late ones arrive, and what runs together — preemption, say — depends on timing.
  std::promise<void> submitted;
  std::shared_future<void> all_in = submitted.get_future().share();
  e.set_step_listener([all_in] { all_in.wait(); });
  for (auto& j : jobs) j.ch = e.submit(j.req);
  submitted.set_value();
  e.set_step_listener(nullptr);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const GenerationEvent ev = jobs[i].ch->wait_all();
    ASSERT_NE(ev.finish, FinishReason::ERROR) << ev.error;
    EXPECT_EQ(ev.token_ids, jobs[i].want) << "request " << i;
    EXPECT_EQ(ev.usage.completion_tokens, static_cast<int64_t>(jobs[i].want.size()));
    EXPECT_EQ(ev.usage.prompt_tokens, static_cast<int64_t>(jobs[i].req.prompt_ids.size()));
  }
}

TEST(Engine, BatchedGreedyOutputsMatchTheOracle) {
  const auto cfg = fake_config(16, 64);
  auto jobs = make_jobs(40, 1, 1, 150, 24, false, cfg.defaults);
  auto e = fake_engine(cfg, 512, 8);
  run_and_check(*e, jobs);
  EXPECT_EQ(e->stats().pages_in_use, 0);
}

TEST(Engine, SameSeedSameOutputAloneOrInAFullBatch) {
  const auto cfg = fake_config(32, 256);
  auto jobs = make_jobs(32, 2, 5, 60, 30, true, cfg.defaults);
  auto e = fake_engine(cfg, 1024, 16);
  run_and_check(*e, jobs);  // all 32 in one batch
  for (auto& j : {jobs[0], jobs[17]}) {  // and alone
    const auto ev = e->submit(j.req)->wait_all();
    EXPECT_EQ(ev.token_ids, j.want);
  }
  // A different seed gives a different output (the oracle is not vacuous).
  GenerateRequest other = jobs[0].req;
  other.sampling.seed = 999;
  EXPECT_NE(e->submit(other)->wait_all().token_ids, jobs[0].want);
}

TEST(Engine, ChunkedPrefillEqualsUnchunked) {
  auto cfg_chunked = fake_config(8, 7);  // 7-token prefill budget: every prompt is split
  auto cfg_whole = fake_config(8, 512);
  auto jobs = make_jobs(12, 3, 20, 200, 10, false, cfg_whole.defaults);
  FakeExecutor* exec = nullptr;
  auto chunked = fake_engine(cfg_chunked, 512, 4, &exec);
  run_and_check(*chunked, jobs);
  EXPECT_LE(exec->max_tokens_seen(), 7 + 8);
  auto whole = fake_engine(cfg_whole, 512, 4);
  run_and_check(*whole, jobs);
}

TEST(Engine, PrefixHitEqualsMissAndReportsCachedTokens) {
  auto cfg = fake_config(8, 512, /*prefix=*/true);
  FakeExecutor* exec = nullptr;
  auto e = fake_engine(cfg, 256, 16, &exec);
  std::mt19937 rng(4);
  const auto system = random_prompt(rng, 100);  // shared prefix: 6 full pages
  GenerateRequest a, b;
  a.prompt_ids = system;
  for (int32_t t : random_prompt(rng, 9)) a.prompt_ids.push_back(t);
  b.prompt_ids = system;
  for (int32_t t : random_prompt(rng, 30)) b.prompt_ids.push_back(t);
  a.sampling.max_tokens = b.sampling.max_tokens = 12;
  a.sampling.ignore_eos = b.sampling.ignore_eos = true;  // fixed lengths, so the page counts below are exact

  const auto ev_a = e->submit(a)->wait_all();
  EXPECT_EQ(ev_a.usage.cached_tokens, 0);
  EXPECT_EQ(ev_a.token_ids, oracle(a, cfg.defaults));
  const int64_t before = exec->n_tokens_computed();
  const auto ev_b = e->submit(b)->wait_all();
  EXPECT_EQ(ev_b.usage.cached_tokens, 96);
  EXPECT_EQ(ev_b.token_ids, oracle(b, cfg.defaults));
  EXPECT_EQ(exec->n_tokens_computed() - before, 130 - 96 + 11);  // the rest of the prompt + 11 decodes
  // The very same request again: hit on every full page except the one holding its last token.
  const auto ev_a2 = e->submit(a)->wait_all();
  EXPECT_EQ(ev_a2.token_ids, ev_a.token_ids);
  EXPECT_EQ(ev_a2.usage.cached_tokens, 96);
  // The full output of a (prompt + generated) is cached too: a follow-up turn hits beyond the prompt.
  GenerateRequest turn2;
  turn2.prompt_ids = a.prompt_ids;
  turn2.prompt_ids.insert(turn2.prompt_ids.end(), ev_a.token_ids.begin(), ev_a.token_ids.end());
  turn2.prompt_ids.push_back(42);
  turn2.sampling.max_tokens = 5;
  turn2.sampling.ignore_eos = true;
  const auto ev_t2 = e->submit(turn2)->wait_all();
  EXPECT_EQ(ev_t2.usage.cached_tokens, 112);  // 109 + 12 = 121 tokens computed by a → 7 full pages
  EXPECT_EQ(ev_t2.token_ids, oracle(turn2, cfg.defaults));
}

TEST(Engine, TooSmallPoolPreemptsYetEveryOutputIsIdentical) {
  const auto cfg = fake_config(16, 128);
  auto jobs = make_jobs(24, 5, 10, 40, 40, true, cfg.defaults);
  for (auto& j : jobs) j.req.sampling.ignore_eos = true, j.want = oracle(j.req, cfg.defaults);
  auto e = fake_engine(cfg, 20, 4);  // 80 token slots for 16 running sequences of up to 80 tokens
  run_and_check(*e, jobs);
  const EngineStats st = e->stats();
  EXPECT_GT(st.n_preemptions, 0);
  EXPECT_EQ(st.pages_in_use, 0);
  EXPECT_EQ(st.n_finished, 24);
}

TEST(Engine, PreemptionWithPrefixCachingStillMatches) {
  const auto cfg = fake_config(16, 128, /*prefix=*/true);
  auto jobs = make_jobs(24, 6, 10, 40, 40, false, cfg.defaults);
  for (auto& j : jobs) j.req.sampling.ignore_eos = true, j.want = oracle(j.req, cfg.defaults);
  auto e = fake_engine(cfg, 24, 4);
  run_and_check(*e, jobs);
  EXPECT_GT(e->stats().n_preemptions, 0);
  EXPECT_EQ(e->stats().pages_in_use, 0);
}

TEST(Engine, NeverFittingRequestsGetAClearError) {
  auto cfg = fake_config(8, 64);
  cfg.session_len = 100;
  auto e = fake_engine(cfg, 10, 4);  // 40 tokens of cache
  GenerateRequest r;
  r.prompt_ids.assign(30, 11);
  r.sampling.max_tokens = 20;
  auto ev = e->submit(r)->wait_all();
  EXPECT_EQ(ev.finish, FinishReason::ERROR);
  EXPECT_NE(ev.error.find("can never fit"), std::string::npos) << ev.error;
  EXPECT_NE(ev.error.find("--cache-max-entry-count"), std::string::npos) << ev.error;

  r.sampling.max_tokens = 80;
  ev = e->submit(r)->wait_all();
  EXPECT_NE(ev.error.find("session length 100"), std::string::npos) << ev.error;

  r.prompt_ids.assign(45, 11);
  r.sampling.max_tokens.reset();
  ev = e->submit(r)->wait_all();
  EXPECT_EQ(ev.finish, FinishReason::ERROR);
  EXPECT_NE(ev.error.find("45 tokens"), std::string::npos) << ev.error;

  r.prompt_ids = {11, 9999};
  EXPECT_NE(e->submit(r)->wait_all().error.find("9999"), std::string::npos);
  r.prompt_ids.clear();
  EXPECT_EQ(e->submit(r)->wait_all().finish, FinishReason::ERROR);
  r.prompt_ids = {11};
  r.sampling.temperature = -1.0f;
  EXPECT_NE(e->submit(r)->wait_all().error.find("temperature"), std::string::npos);

  // Without max_tokens a fitting prompt runs until the cache (the smaller limit) is full.
  GenerateRequest ok;
  ok.prompt_ids.assign(30, 11);
  ok.sampling.ignore_eos = true;
  ev = e->submit(ok)->wait_all();
  EXPECT_EQ(ev.finish, FinishReason::LENGTH);
  EXPECT_EQ(ev.usage.completion_tokens, 10);
}

TEST(Engine, StopTokensEosMinTokensAndLogprobs) {
  const auto cfg = fake_config(8, 64);
  auto e = fake_engine(cfg, 256, 8);
  std::mt19937 rng(7);
  GenerateRequest r;
  r.prompt_ids = random_prompt(rng, 20);
  r.sampling.max_tokens = 30;
  r.sampling.ignore_eos = true;
  const auto base = e->submit(r)->wait_all();
  ASSERT_EQ(base.token_ids.size(), 30u);
  EXPECT_EQ(base.finish, FinishReason::LENGTH);

  // Stop at the 6th token's id: finish STOP and report that token.
  r.sampling.stop_token_ids = {base.token_ids[5]};
  const auto stopped = e->submit(r)->wait_all();
  EXPECT_EQ(stopped.finish, FinishReason::STOP);
  const auto first = std::find(base.token_ids.begin(), base.token_ids.end(), base.token_ids[5]) - base.token_ids.begin();
  EXPECT_EQ(static_cast<int64_t>(stopped.token_ids.size()), first + 1);

  // min_tokens masks stop ids: the output then differs from the oracle without it only after masking.
  r.sampling.min_tokens = 10;
  const auto masked = e->submit(r)->wait_all();
  EXPECT_GE(masked.token_ids.size(), 10u);
  EXPECT_EQ(masked.token_ids, oracle(r, cfg.defaults));

  // Logprobs: one entry per token, the chosen token first among the top under greedy.
  r.sampling.stop_token_ids.clear();
  r.sampling.min_tokens = 0;
  r.sampling.n_logprobs = 2;
  const auto lp = e->submit(r)->wait_all();
  ASSERT_EQ(lp.logprobs.size(), lp.token_ids.size());
  for (size_t i = 0; i < lp.logprobs.size(); ++i) {
    EXPECT_EQ(lp.logprobs[i].token_id, lp.token_ids[i]);
    ASSERT_EQ(lp.logprobs[i].top.size(), 2u);
    EXPECT_EQ(lp.logprobs[i].top[0].first, lp.token_ids[i]);
    EXPECT_LT(lp.logprobs[i].logprob, 0.0f);
  }
}

TEST(Engine, StreamsTokensAsTheyAreSampled) {
  const auto cfg = fake_config(8, 64);
  auto e = fake_engine(cfg, 256, 8);
  GenerateRequest r;
  r.prompt_ids = {11, 12, 13};
  r.sampling.max_tokens = 50;
  r.sampling.ignore_eos = true;
  auto ch = e->submit(r);
  std::vector<int32_t> got;
  int n_events = 0;
  GenerationEvent ev;
  while (!ev.finished()) {
    if (!ch->next(ev, std::chrono::milliseconds(2000))) FAIL() << "no progress";
    got.insert(got.end(), ev.token_ids.begin(), ev.token_ids.end());
    ++n_events;
    EXPECT_EQ(ev.usage.completion_tokens, static_cast<int64_t>(got.size()));
  }
  EXPECT_EQ(got, oracle(r, cfg.defaults));
  EXPECT_GE(n_events, 1);
}

TEST(Engine, AbortFromAnotherThreadFreesPages) {
  const auto cfg = fake_config(8, 64);
  auto e = fake_engine(cfg, 4096, 8);
  GenerateRequest r;
  r.prompt_ids = {11, 12, 13};
  r.sampling.ignore_eos = true;  // runs until the cache is full unless aborted
  auto ch = e->submit(r);
  GenerationEvent ev;
  ASSERT_TRUE(ch->next(ev, std::chrono::milliseconds(5000)));
  std::thread([&] { e->abort(ch->request_id()); }).join();
  const auto rest = ch->wait_all();
  EXPECT_EQ(rest.finish, FinishReason::ABORT);
  EXPECT_LT(rest.usage.completion_tokens, 4096 * 8 - 3);
  EXPECT_EQ(e->stats().pages_in_use, 0);
  e->abort(ch->request_id());  // a second abort is harmless
  e->abort(123456);
}

TEST(Engine, ShutdownAbortsWhatIsLeft) {
  const auto cfg = fake_config(8, 64);
  std::shared_ptr<ResultChannel> ch;
  {
    auto e = fake_engine(cfg, 4096, 8);
    GenerateRequest r;
    r.prompt_ids = {11, 12, 13};
    r.sampling.ignore_eos = true;
    ch = e->submit(r);
  }
  EXPECT_EQ(ch->wait_all().finish, FinishReason::ABORT);
}

}  // namespace
}  // namespace fathom
