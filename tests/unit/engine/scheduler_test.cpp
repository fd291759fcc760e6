#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine/fake_executor.h"

namespace fathom {
namespace {

struct Harness {
  Harness(int32_t n_blocks, int32_t block_size, SchedulerConfig cfg, bool prefix = false)
      : pool(n_blocks, block_size, prefix),
        sched(cfg, pool),
        exec(512, n_blocks, block_size, cfg.max_prefill_tokens + cfg.max_batch_size),
        logits(static_cast<size_t>(cfg.max_batch_size) * 512) {}

  Sequence* add(int n_prompt, int first_token = 11) {
    auto s = std::make_unique<Sequence>();
    s->id = seqs.size();
    for (int i = 0; i < n_prompt; ++i) s->tokens.push_back(first_token + i % 100);
    s->n_prompt = n_prompt;
    seqs.push_back(std::move(s));
    sched.add(seqs.back().get());
    return seqs.back().get();
  }
  // One step; sampled sequences get token 13 appended.
  void step() {
    sched.schedule(out);
    exec.execute(out.plan, logits.data());
    sched.commit(out);
    for (const auto& sc : out.scheduled)
      if (sc.sample) sc.seq->tokens.push_back(13);
  }

  BlockPool pool;
  Scheduler sched;
  FakeExecutor exec;
  std::vector<float> logits;
  std::vector<std::unique_ptr<Sequence>> seqs;
  SchedulerOutput out;
};

TEST(Scheduler, ChunksPrefillToTheBudgetAndSamplesOnlyAtTheEnd) {
  Harness h(64, 4, SchedulerConfig{8, 10});
  Sequence* s = h.add(25);
  std::vector<int32_t> chunks;
  while (s->n_output() == 0) {
    h.step();
    ASSERT_EQ(h.out.scheduled.size(), 1u);
    chunks.push_back(h.out.scheduled[0].n_new);
    EXPECT_EQ(h.out.plan.logit_rows.size(), h.out.scheduled[0].sample ? 1u : 0u);
  }
  EXPECT_EQ(chunks, (std::vector<int32_t>{10, 10, 5}));
  EXPECT_EQ(s->blocks.size(), 7u);  // ceil(25 / 4)
  h.step();                          // decode: one token
  EXPECT_EQ(h.out.plan.n_tokens(), 1);
  EXPECT_EQ(h.out.plan.positions[0], 25);
}

TEST(Scheduler, DecodesGoFirstAndPrefillTakesTheRemainingBudget) {
  Harness h(256, 4, SchedulerConfig{8, 16});
  h.add(3);
  h.add(3);
  h.step();  // both prefills (6 tokens)
  EXPECT_EQ(h.out.plan.n_tokens(), 6);
  h.add(40);
  h.step();  // two decodes (outside the budget) + 16 prefill tokens of the newcomer
  ASSERT_EQ(h.out.scheduled.size(), 3u);
  EXPECT_EQ(h.out.scheduled[0].n_new, 1);
  EXPECT_EQ(h.out.scheduled[1].n_new, 1);
  EXPECT_EQ(h.out.scheduled[2].n_new, 16);
  EXPECT_EQ(h.out.plan.logit_rows.size(), 2u);
}

TEST(Scheduler, RespectsMaxBatchSizeFcfs) {
  Harness h(256, 4, SchedulerConfig{2, 100});
  Sequence* a = h.add(3);
  Sequence* b = h.add(3);
  Sequence* c = h.add(3);
  h.step();
  EXPECT_EQ(h.sched.n_running(), 2);
  EXPECT_EQ(a->status, SeqStatus::RUNNING);
  EXPECT_EQ(b->status, SeqStatus::RUNNING);
  EXPECT_EQ(c->status, SeqStatus::WAITING);
  h.sched.remove(a);
  h.step();
  EXPECT_EQ(c->status, SeqStatus::RUNNING);
}

TEST(Scheduler, PreemptsTheMostRecentWhenPagesRunOut) {
  Harness h(4, 2, SchedulerConfig{8, 100});  // 8 token slots
  Sequence* a = h.add(3);                     // 2 pages
  Sequence* b = h.add(3);                     // 2 pages: pool now full
  h.step();
  EXPECT_EQ(h.pool.n_available(), 0);
  h.step();  // a decodes at position 3 (its page 1 has room); b too
  EXPECT_EQ(h.out.n_preempted, 0);
  h.step();  // a needs a third page: b (most recent) is preempted
  EXPECT_EQ(h.out.n_preempted, 1);
  EXPECT_EQ(b->status, SeqStatus::WAITING);
  EXPECT_EQ(b->n_computed, 0);
  EXPECT_EQ(b->n_preemptions, 1);
  EXPECT_EQ(a->n_computed, 5);
  EXPECT_EQ(h.sched.n_waiting(), 1);
  // b keeps its generated token and will recompute prompt + output when it is readmitted.
  EXPECT_EQ(b->n_tokens(), 5);
  h.sched.remove(a);
  h.step();
  EXPECT_EQ(b->status, SeqStatus::RUNNING);
  EXPECT_EQ(h.out.scheduled[0].n_new, 5);
  EXPECT_TRUE(h.out.scheduled[0].sample);
}

TEST(Scheduler, PrefixHitSkipsCachedPagesButAlwaysComputesTheLastToken) {
  Harness h(64, 4, SchedulerConfig{8, 100}, /*prefix=*/true);
  Sequence* a = h.add(12);
  h.step();
  EXPECT_EQ(a->block_hashes.size(), 3u);
  Sequence* b = h.add(12);  // identical prompt: pages 0 and 1 hit; page 2 holds the last token, recomputed
  h.step();
  ASSERT_EQ(h.out.scheduled.size(), 2u);
  EXPECT_EQ(b->n_cached_tokens, 8);
  EXPECT_EQ(h.out.scheduled[1].n_new, 4);
  EXPECT_EQ(b->blocks[0], a->blocks[0]);
  EXPECT_EQ(b->blocks[1], a->blocks[1]);
  EXPECT_NE(b->blocks[2], a->blocks[2]);
  EXPECT_EQ(h.pool.ref_count(a->blocks[0]), 2);
}

TEST(Scheduler, PlanRoundTripsThroughTheWireFormat) {
  Harness h(64, 4, SchedulerConfig{8, 7});
  h.add(9);
  h.add(5);
  h.step();
  h.step();
  std::vector<uint8_t> bytes;
  serialize_step_plan(h.out.plan, bytes);
  StepPlan copy;
  ASSERT_TRUE(deserialize_step_plan(bytes, copy).is_ok());
  EXPECT_EQ(copy.step, h.out.plan.step);
  EXPECT_EQ(copy.max_blocks_per_seq, h.out.plan.max_blocks_per_seq);
  EXPECT_EQ(copy.token_ids, h.out.plan.token_ids);
  EXPECT_EQ(copy.positions, h.out.plan.positions);
  EXPECT_EQ(copy.seq_of_token, h.out.plan.seq_of_token);
  EXPECT_EQ(copy.block_tables, h.out.plan.block_tables);
  EXPECT_EQ(copy.logit_rows, h.out.plan.logit_rows);
  bytes.pop_back();
  EXPECT_FALSE(deserialize_step_plan(bytes, copy).is_ok());
}

TEST(Scheduler, StepBuffersAreNotReallocatedInSteadyState) {
  Harness h(256, 4, SchedulerConfig{8, 32});
  h.out.plan.reserve(40, 8, 64);
  h.out.scheduled.reserve(8);
  for (int i = 0; i < 8; ++i) h.add(20 + i);
  h.step();
  const int32_t* ids = h.out.plan.token_ids.data();
  const int32_t* tables = h.out.plan.block_tables.data();
  for (int i = 0; i < 20; ++i) h.step();
  EXPECT_EQ(h.out.plan.token_ids.data(), ids);
  EXPECT_EQ(h.out.plan.block_tables.data(), tables);
}

}  // namespace
}  // namespace fathom
