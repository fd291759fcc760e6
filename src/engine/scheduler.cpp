#include "engine/scheduler.h"

#include <algorithm>

#include "core/check.h"

namespace fathom {

Scheduler::Scheduler(SchedulerConfig cfg, BlockPool& pool) : cfg_(cfg), pool_(pool) {
  FATHOM_CHECK(cfg_.max_batch_size > 0 && cfg_.max_prefill_tokens > 0);
  running_.reserve(cfg_.max_batch_size);
}

void Scheduler::add(Sequence* seq) {
  seq->status = SeqStatus::WAITING;
  waiting_.push_back(seq);
}

void Scheduler::schedule(SchedulerOutput& out) {
  out.plan.clear();
  out.scheduled.clear();
  out.n_preempted = 0;
  out.plan.step = step_++;
  int32_t budget = cfg_.max_prefill_tokens;

  // Running sequences: decodes (one token, outside the prefill budget) and continuing prefill chunks.
  for (size_t i = 0; i < running_.size();) {
    Sequence* s = running_[i];
    int32_t n_new = s->n_tokens() - s->n_computed;
    FATHOM_CHECK(n_new >= 1);
    if (n_new > 1) n_new = std::min(n_new, budget);
    if (n_new == 0) {
      ++i;
      continue;
    }
    bool self_preempted = false;
    while (!grow(s, s->n_computed + n_new)) {
      Sequence* victim = running_.back();  // never one already scheduled: those sit before index i
      running_.pop_back();
      preempt(victim);
      ++out.n_preempted;
      if (victim == s) {
        self_preempted = true;
        break;
      }
    }
    if (self_preempted) break;
    if (n_new > 1) budget -= n_new;
    emit(out, s, n_new);
    ++i;
  }

  // Waiting sequences, FCFS, only on steps that did not have to preempt (the pool is not under pressure).
  while (out.n_preempted == 0 && !waiting_.empty() && n_running() < cfg_.max_batch_size && budget > 0) {
    Sequence* s = waiting_.front();
    if (s->blocks.empty()) match_prefix(s);
    const int32_t n_new = std::min(s->n_tokens() - s->n_computed, budget);
    FATHOM_CHECK(n_new >= 1);
    if (!grow(s, s->n_computed + n_new)) {
      release_pages(s);  // hand back any prefix hit; it is looked up again next time
      break;
    }
    waiting_.pop_front();
    running_.push_back(s);
    s->status = SeqStatus::RUNNING;
    if (s->n_cached_tokens < 0) s->n_cached_tokens = s->n_computed;
    budget -= n_new;
    emit(out, s, n_new);
  }

  // Page tables, one row per scheduled sequence, padded with -1.
  int32_t width = 0;
  for (const ScheduledSeq& sc : out.scheduled) width = std::max(width, static_cast<int32_t>(sc.seq->blocks.size()));
  out.plan.max_blocks_per_seq = out.scheduled.empty() ? 0 : width;
  for (const ScheduledSeq& sc : out.scheduled) {
    const auto& b = sc.seq->blocks;
    out.plan.block_tables.insert(out.plan.block_tables.end(), b.begin(), b.end());
    out.plan.block_tables.insert(out.plan.block_tables.end(), width - b.size(), -1);
  }
}

void Scheduler::emit(SchedulerOutput& out, Sequence* s, int32_t n_new) {
  const int32_t row = static_cast<int32_t>(out.scheduled.size());
  StepPlan& p = out.plan;
  for (int32_t pos = s->n_computed; pos < s->n_computed + n_new; ++pos) {
    p.token_ids.push_back(s->tokens[pos]);
    p.positions.push_back(pos);
    p.seq_of_token.push_back(row);
  }
  const bool sample = s->n_computed + n_new == s->n_tokens();
  if (sample) p.logit_rows.push_back(static_cast<int32_t>(p.token_ids.size()) - 1);
  out.scheduled.push_back(ScheduledSeq{s, n_new, sample});
}

void Scheduler::commit(const SchedulerOutput& out) {
  const int32_t bs = pool_.block_size();
  for (const ScheduledSeq& sc : out.scheduled) {
    Sequence* s = sc.seq;
    s->n_computed += sc.n_new;
    FATHOM_CHECK(s->n_computed <= s->n_tokens());
    if (!pool_.prefix_caching()) continue;
    while (static_cast<int32_t>(s->block_hashes.size()) < s->n_computed / bs) {
      const size_t k = s->block_hashes.size();
      const std::span<const int32_t> page(s->tokens.data() + k * bs, bs);
      const uint64_t h = BlockPool::chain_hash(k == 0 ? 0 : s->block_hashes[k - 1], page);
      pool_.register_full(s->blocks[k], h, page);
      s->block_hashes.push_back(h);
    }
  }
}

void Scheduler::remove(Sequence* seq) {
  if (seq->status == SeqStatus::RUNNING) {
    running_.erase(std::find(running_.begin(), running_.end(), seq));
  } else if (seq->status == SeqStatus::WAITING) {
    auto it = std::find(waiting_.begin(), waiting_.end(), seq);
    if (it != waiting_.end()) waiting_.erase(it);
  }
  release_pages(seq);
  seq->status = SeqStatus::FINISHED;
}

bool Scheduler::grow(Sequence* s, int32_t n_tokens) {
  const int32_t need = pages_for(n_tokens) - static_cast<int32_t>(s->blocks.size());
  if (need <= 0) return true;
  if (pool_.n_available() < need) return false;
  for (int32_t k = 0; k < need; ++k) {
    const int32_t b = pool_.allocate();
    FATHOM_CHECK(b >= 0);
    s->blocks.push_back(b);
  }
  return true;
}

void Scheduler::preempt(Sequence* s) {
  release_pages(s);
  s->status = SeqStatus::WAITING;
  ++s->n_preemptions;
  waiting_.push_front(s);
}

void Scheduler::release_pages(Sequence* s) {
  // Last pages first, so that the LRU evicts a sequence's tail before its (more shareable) head.
  for (auto it = s->blocks.rbegin(); it != s->blocks.rend(); ++it) pool_.release(*it);
  s->blocks.clear();
  s->block_hashes.clear();
  s->n_computed = 0;
}

int32_t Scheduler::match_prefix(Sequence* s) {
  if (!pool_.prefix_caching()) return 0;
  const int32_t bs = pool_.block_size();
  const int32_t max_pages = (s->n_tokens() - 1) / bs;  // the last token is always computed, for its logits
  uint64_t parent = 0;
  for (int32_t k = 0; k < max_pages; ++k) {
    const std::span<const int32_t> page(s->tokens.data() + static_cast<size_t>(k) * bs, bs);
    const uint64_t h = BlockPool::chain_hash(parent, page);
    const int32_t b = pool_.lookup(h, page);
    if (b < 0) break;
    pool_.acquire(b);
    s->blocks.push_back(b);
    s->block_hashes.push_back(h);
    parent = h;
  }
  s->n_computed = static_cast<int32_t>(s->blocks.size()) * bs;
  return s->n_computed;
}

}  // namespace fathom
