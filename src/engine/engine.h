// The engine: one thread that owns the scheduler, the block pool, the sampler and the model executor, reached
// through a thread-safe submit queue. Each request gets a ResultChannel; abort(id) works from any thread and
// takes effect (pages freed, ABORT delivered) at the next step.
//
//   submit() ─▶ inbox ─▶ [engine thread: admit → schedule → execute → sample → deliver] ─▶ ResultChannel
//   abort()  ─▶ aborts ─┘
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "engine/lockstep.h"
#include "engine/model_executor.h"
#include "engine/request.h"
#include "engine/result_channel.h"
#include "engine/sampling_params.h"

namespace fathom {

struct EngineConfig {
  int32_t max_batch_size = 128;         // --max-batch-size: running sequences at most
  int32_t max_prefill_tokens = 8192;    // --max-prefill-token-num: prefill tokens per step at most
  int64_t session_len = 0;              // --session-len: prompt + output at most (0: the pool's capacity)
  bool enable_prefix_caching = false;   // --enable-prefix-caching
  GenerationDefaults defaults;          // generation_config.json
};

struct EngineStats {
  int32_t pages_total = 0;
  int32_t pages_in_use = 0;     // referenced by a waiting-with-hit or running sequence
  int32_t pages_cached = 0;     // unreferenced but kept for prefix hits
  int32_t n_running = 0;
  int32_t n_waiting = 0;
  int64_t n_steps = 0;
  int64_t n_preemptions = 0;
  int64_t n_finished = 0;       // requests that reached a final event (any reason)
  int64_t n_empty_steps = 0;    // forwards run with an empty batch so that other ranks could step (EXPERT mode)
};

class Engine {
 public:
  // The executor's block size and page count define the pool. Starts the engine thread. With a lockstep
  // (distributed job) every loop iteration is agreed with the other ranks (engine/lockstep.h).
  Engine(std::unique_ptr<ModelExecutor> executor, EngineConfig cfg, std::unique_ptr<Lockstep> lockstep = nullptr);
  // Stops the thread; unfinished requests get FinishReason::ABORT. In lockstep this waits until every rank's
  // engine is stopping (this rank keeps stepping for the others meanwhile).
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe. Invalid or over-long requests finish at once with FinishReason::ERROR and a message.
  std::shared_ptr<ResultChannel> submit(GenerateRequest req);
  void abort(uint64_t request_id);  // thread-safe; unknown or finished ids are ignored

  // Runs on the engine thread each time the stats are published (after a step's results are pushed, after an
  // abort is delivered): a front end that polls many channels waits for it instead of waking on a timer. Must be
  // quick and must not call into the engine. Thread-safe; replaces the previous listener.
  void set_step_listener(std::function<void()> listener);

  EngineStats stats() const;  // a snapshot taken after the latest step
  int64_t vocab_size() const { return vocab_size_; }
  int64_t session_len() const { return session_len_; }
  const EngineConfig& config() const { return cfg_; }

  // Checks a request against the limits without submitting it (the front end's early 400): "" if acceptable.
  std::string check_request(const GenerateRequest& req) const;

 private:
  struct Impl;  // engine-thread state (scheduler, pool, sampler, buffers)
  struct Pending {
    uint64_t id;
    GenerateRequest req;
    std::shared_ptr<ResultChannel> channel;
  };
  void run();

  EngineConfig cfg_;
  int64_t vocab_size_ = 0;
  int64_t session_len_ = 0;
  int64_t pool_tokens_ = 0;
  std::unique_ptr<Impl> impl_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> inbox_;
  std::vector<uint64_t> aborts_;
  bool stop_ = false;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> seed_counter_{0};

  mutable std::mutex stats_mu_;
  EngineStats stats_;
  std::shared_ptr<const std::function<void()>> step_listener_;  // guarded by stats_mu_
  std::thread thread_;
};

}  // namespace fathom
