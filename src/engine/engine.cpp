#include "engine/engine.h"

#include <algorithm>
#include <random>

#include "core/check.h"
#include "engine/block_pool.h"
#include "engine/generation_config.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"

namespace fathom {

struct Engine::Impl {
  Impl(std::unique_ptr<ModelExecutor> e, std::unique_ptr<Lockstep> ls, const EngineConfig& cfg, int64_t max_seq_len)
      : exec(std::move(e)),
        lockstep(std::move(ls)),
        pool(exec->n_blocks(), exec->block_size(), cfg.enable_prefix_caching),
        sched(SchedulerConfig{cfg.max_batch_size, cfg.max_prefill_tokens}, pool),
        pool_threads(exec->thread_pool()),
        logits(static_cast<size_t>(cfg.max_batch_size) * exec->vocab_size()),
        eos(cfg.defaults.eos_token_ids) {
    out.plan.reserve(sched.max_tokens_per_step(), cfg.max_batch_size,
                     (max_seq_len + exec->block_size() - 1) / exec->block_size());
    out.scheduled.reserve(cfg.max_batch_size);
    const int n_samplers = pool_threads ? pool_threads->n_threads() : 1;
    for (int i = 0; i < n_samplers; ++i) samplers.push_back(std::make_unique<Sampler>(exec->vocab_size()));
    drawn.resize(static_cast<size_t>(cfg.max_batch_size));
  }
  std::unique_ptr<ModelExecutor> exec;
  std::unique_ptr<Lockstep> lockstep;  // null: one process
  BlockPool pool;
  Scheduler sched;
  ThreadPool* pool_threads;                        // the executor's (null: sample on this thread)
  std::vector<std::unique_ptr<Sampler>> samplers;  // one per pool part (each has vocabulary-sized scratch)
  struct Drawn {
    Sequence* seq = nullptr;
    int32_t token = 0;
    TokenLogprob lp;
  };
  std::vector<Drawn> drawn;  // [max_batch_size] this step's sampled rows, in logits row order
  SchedulerOutput out;
  StepPlan empty_plan;        // what an idle rank runs so that the others can step
  std::vector<float> logits;  // [max_batch_size, vocab]
  std::vector<int32_t> eos;
  std::unordered_map<uint64_t, std::unique_ptr<Sequence>> seqs;
  std::vector<Pending> inbox;   // swapped with the shared inbox each loop, capacity kept
  std::vector<uint64_t> aborts;
  int64_t n_steps = 0, n_preemptions = 0, n_finished = 0, n_empty_steps = 0;
};

Engine::Engine(std::unique_ptr<ModelExecutor> executor, EngineConfig cfg, std::unique_ptr<Lockstep> lockstep)
    : cfg_(std::move(cfg)) {
  FATHOM_CHECK(executor != nullptr);
  vocab_size_ = executor->vocab_size();
  pool_tokens_ = static_cast<int64_t>(executor->n_blocks()) * executor->block_size();
  session_len_ = cfg_.session_len > 0 ? cfg_.session_len : pool_tokens_;
  for (int32_t id : cfg_.defaults.eos_token_ids) FATHOM_CHECK(id >= 0 && id < vocab_size_);
  impl_ = std::make_unique<Impl>(std::move(executor), std::move(lockstep), cfg_, std::min(session_len_, pool_tokens_));
  FATHOM_CHECK_MSG(impl_->exec->max_tokens_per_step() >= impl_->sched.max_tokens_per_step(),
                   "executor workspace smaller than max_prefill_tokens + max_batch_size");
  seed_counter_ = std::random_device{}();
  stats_.pages_total = impl_->pool.n_blocks();
  thread_ = std::thread([this] { run(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

std::string Engine::check_request(const GenerateRequest& req) const {
  const int64_t n_prompt = static_cast<int64_t>(req.prompt_ids.size());
  if (n_prompt == 0) return "the prompt is empty";
  for (int32_t id : req.prompt_ids)
    if (id < 0 || id >= vocab_size_) return "prompt token id " + std::to_string(id) + " is outside the vocabulary";
  const int64_t limit = std::min(session_len_, pool_tokens_);
  if (n_prompt >= limit) {
    return "the prompt has " + std::to_string(n_prompt) + " tokens; " +
           (session_len_ <= pool_tokens_ ? "the session length is " + std::to_string(session_len_)
                                         : "the latent cache holds only " + std::to_string(pool_tokens_) +
                                               " tokens (raise --cache-max-entry-count)");
  }
  if (req.sampling.max_tokens) {
    const int64_t total = n_prompt + *req.sampling.max_tokens;
    if (total > session_len_)
      return "prompt (" + std::to_string(n_prompt) + " tokens) + max_tokens (" +
             std::to_string(*req.sampling.max_tokens) + ") exceeds the session length " + std::to_string(session_len_);
    if (total > pool_tokens_)
      return "prompt (" + std::to_string(n_prompt) + " tokens) + max_tokens (" +
             std::to_string(*req.sampling.max_tokens) + ") can never fit: the latent cache holds only " +
             std::to_string(pool_tokens_) + " tokens (raise --cache-max-entry-count)";
  }
  auto r = resolve_sampling(req.sampling, cfg_.defaults, vocab_size_, static_cast<int32_t>(limit - n_prompt));
  if (!r) return r.error();
  return "";
}

std::shared_ptr<ResultChannel> Engine::submit(GenerateRequest req) {
  const uint64_t id = next_id_++;
  auto channel = std::make_shared<ResultChannel>(id);
  const std::string err = check_request(req);
  if (!err.empty()) {
    GenerationEvent ev;
    ev.finish = FinishReason::ERROR;
    ev.error = err;
    ev.usage.prompt_tokens = static_cast<int64_t>(req.prompt_ids.size());
    channel->push(ev);
    return channel;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(Pending{id, std::move(req), channel});
  }
  cv_.notify_one();
  return channel;
}

void Engine::abort(uint64_t request_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    aborts_.push_back(request_id);
  }
  cv_.notify_one();
}

void Engine::set_step_listener(std::function<void()> listener) {
  auto l = listener ? std::make_shared<const std::function<void()>>(std::move(listener)) : nullptr;
  std::lock_guard<std::mutex> lock(stats_mu_);
  step_listener_ = std::move(l);
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

namespace {

void deliver_final(Sequence& s, FinishReason why, GenerationEvent& ev) {
  ev.finish = why;
  ev.usage.prompt_tokens = s.n_prompt;
  ev.usage.completion_tokens = s.n_output();
  ev.usage.cached_tokens = std::max(0, s.n_cached_tokens);
  s.channel->push(ev);
}

}  // namespace

void Engine::run() {
  Impl& m = *impl_;
  Lockstep* const ls = m.lockstep.get();
  auto publish = [&] {
    std::shared_ptr<const std::function<void()>> listener;
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      stats_.pages_in_use = m.pool.n_in_use();
      stats_.pages_cached = m.pool.n_cached();
      stats_.n_running = m.sched.n_running();
      stats_.n_waiting = m.sched.n_waiting();
      stats_.n_steps = m.n_steps;
      stats_.n_preemptions = m.n_preemptions;
      stats_.n_finished = m.n_finished;
      stats_.n_empty_steps = m.n_empty_steps;
      listener = step_listener_;
    }
    if (listener) (*listener)();
  };
  auto finish = [&](Sequence* s, FinishReason why, GenerationEvent& ev) {
    m.sched.remove(s);
    ++m.n_finished;
    publish();  // before the final event, so a reader who saw it sees the pages freed
    deliver_final(*s, why, ev);
    m.seqs.erase(s->id);
  };
  // Whatever is left ends as aborted; requests still in the inbox too (mu_ held by the caller).
  auto abort_all = [&] {
    for (auto& [id, s] : m.seqs) {
      m.sched.remove(s.get());
      GenerationEvent ev;
      deliver_final(*s, FinishReason::ABORT, ev);
    }
    m.seqs.clear();
    for (Pending& p : inbox_) {
      GenerationEvent ev;
      ev.finish = FinishReason::ABORT;
      p.channel->push(ev);
    }
    inbox_.clear();
  };

  bool leaving = false;  // lockstep: this engine is stopping but keeps stepping until every rank is
  int n_idle = 0;        // consecutive iterations in which no rank had work
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] { return stop_ || !inbox_.empty() || !aborts_.empty() || m.sched.has_work(); };
      if (!ls) {
        cv_.wait(lock, ready);
        if (stop_) break;
      } else if (n_idle > 0) {
        // Nobody had work: back off as the other ranks do, unless work arrives here first.
        cv_.wait_for(lock, idle_backoff(n_idle - 1), [&] { return !leaving && ready(); });
      }
      if (stop_ && !leaving) {
        leaving = true;
        abort_all();
      }
      std::swap(inbox_, m.inbox);
      std::swap(aborts_, m.aborts);
    }
    for (Pending& p : m.inbox) {
      const int32_t n_prompt = static_cast<int32_t>(p.req.prompt_ids.size());
      const int32_t cap = static_cast<int32_t>(std::min(session_len_, pool_tokens_) - n_prompt);
      auto resolved = resolve_sampling(p.req.sampling, cfg_.defaults, vocab_size_, cap);
      FATHOM_CHECK(resolved.has_value());  // submit() checked it
      auto s = std::make_unique<Sequence>();
      s->id = p.id;
      s->n_prompt = n_prompt;
      s->sampling = std::move(resolved.value());
      if (!p.req.sampling.seed) s->sampling.seed = seed_counter_.fetch_add(0x9e3779b97f4a7c15ull);
      const int32_t max_len = n_prompt + s->sampling.max_tokens;
      s->tokens = std::move(p.req.prompt_ids);
      s->tokens.reserve(max_len);
      const int32_t max_pages = (max_len + m.pool.block_size() - 1) / m.pool.block_size();
      s->blocks.reserve(max_pages);
      s->block_hashes.reserve(max_pages);
      s->channel = std::move(p.channel);
      m.sched.add(s.get());
      m.seqs.emplace(p.id, std::move(s));
    }
    m.inbox.clear();
    for (uint64_t id : m.aborts) {
      auto it = m.seqs.find(id);
      if (it == m.seqs.end()) continue;
      GenerationEvent ev;
      finish(it->second.get(), FinishReason::ABORT, ev);
    }
    m.aborts.clear();

    const bool mine = m.sched.has_work();  // false once leaving: every sequence was aborted
    if (mine) {
      m.sched.schedule(m.out);
      FATHOM_CHECK_MSG(!m.out.empty(), "scheduler made no progress");
    }
    const StepDecision d = ls ? ls->agree(mine ? m.out.plan : m.empty_plan, leaving)
                              : (mine ? StepDecision::RUN : StepDecision::IDLE);
    if (d == StepDecision::STOP) break;
    if (d == StepDecision::IDLE) {
      ++n_idle;
      publish();
      continue;
    }
    n_idle = 0;
    if (!mine) {  // another rank has work: run an empty batch with it (the MoE exchange is collective)
      m.exec->execute(m.empty_plan, m.logits.data());
      ls->step_done();
      ++m.n_empty_steps;
      publish();
      continue;
    }
    m.n_preemptions += m.out.n_preempted;
    ++m.n_steps;
    m.exec->execute(m.out.plan, m.logits.data());
    if (ls) ls->step_done();
    m.sched.commit(m.out);

    // Rows are sampled in parallel (each depends only on its own logits, seed and tokens), then applied in order.
    int64_t n_rows = 0;
    for (const ScheduledSeq& sc : m.out.scheduled)
      if (sc.sample) m.drawn[n_rows++].seq = sc.seq;
    auto draw_rows = [&](int64_t r0, int64_t r1, int part) {
      Sampler& sampler = *m.samplers[part];
      for (int64_t r = r0; r < r1; ++r) {
        Impl::Drawn& d = m.drawn[r];
        const Sequence* s = d.seq;
        const ResolvedSampling& rs = s->sampling;
        d.token = sampler.sample(m.logits.data() + r * vocab_size_, rs, s->tokens, s->n_prompt, m.eos,
                                 rs.n_logprobs >= 0 ? &d.lp : nullptr);
      }
    };
    if (m.pool_threads && n_rows > 1) m.pool_threads->parallel_for_parts(n_rows, draw_rows);
    else draw_rows(0, n_rows, 0);
    for (int64_t r = 0; r < n_rows; ++r) {
      Sequence* s = m.drawn[r].seq;
      const ResolvedSampling& rs = s->sampling;
      GenerationEvent ev;
      const int32_t token = m.drawn[r].token;
      s->tokens.push_back(token);
      ev.token_ids.push_back(token);
      if (rs.n_logprobs >= 0) ev.logprobs.push_back(std::move(m.drawn[r].lp));
      FinishReason why = FinishReason::NONE;
      if (!rs.ignore_eos && std::find(m.eos.begin(), m.eos.end(), token) != m.eos.end()) why = FinishReason::STOP;
      if (std::find(rs.stop_token_ids.begin(), rs.stop_token_ids.end(), token) != rs.stop_token_ids.end())
        why = FinishReason::STOP;
      if (why == FinishReason::NONE && (s->n_output() >= rs.max_tokens || s->n_tokens() >= session_len_))
        why = FinishReason::LENGTH;
      if (why != FinishReason::NONE) {
        finish(s, why, ev);
      } else {
        ev.usage.prompt_tokens = s->n_prompt;
        ev.usage.completion_tokens = s->n_output();
        ev.usage.cached_tokens = std::max(0, s->n_cached_tokens);
        s->channel->push(ev);
      }
    }
    publish();
  }

  std::lock_guard<std::mutex> lock(mu_);
  abort_all();
}

}  // namespace fathom
