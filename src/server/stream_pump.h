// Moves engine results to HTTP responses without a thread per request: one thread, woken by the engine's step
// listener, polls the result channels of every open request (non-blocking) and each request's job formats and
// queues what arrived. Thousands of open streams cost one scan per step, not thousands of blocked threads.
//
// Admission: at most `max_in_engine` engine requests are submitted at a time; later jobs wait here in arrival
// order (as LMDeploy's request-handle pool does), so the engine's queue stays short however many clients wait.
#pragma once
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.h"

namespace fathom::server {

class PumpJob {
 public:
  virtual ~PumpJob() = default;
  // Engine requests the job will submit (its share of the admission budget).
  virtual int n_requests() const = 0;
  // Called once on the pump thread when admitted: submit to the engine. Returns true when already finished
  // (the client left while the job waited).
  virtual bool start() = 0;
  // Called on the pump thread; reads what the job's channels hold and answers. Returns true when finished.
  virtual bool poll() = 0;
};

class StreamPump {
 public:
  // Installs itself as the engine's step listener (removed by stop()).
  StreamPump(Engine& engine, int max_in_engine);
  ~StreamPump();  // stop()
  StreamPump(const StreamPump&) = delete;
  StreamPump& operator=(const StreamPump&) = delete;

  void add(std::shared_ptr<PumpJob> job);  // thread-safe
  void stop();                             // joins; unfinished jobs are dropped
  size_t n_jobs() const { return n_jobs_.load(std::memory_order_relaxed); }  // admitted or waiting
  size_t n_waiting() const { return n_waiting_.load(std::memory_order_relaxed); }  // not yet admitted

 private:
  void run();

  // Shared with the engine's step listener, which may still run briefly after stop() removed it.
  struct Wakeup {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::shared_ptr<PumpJob>> incoming;
    bool stepped = false;
    bool stop = false;
  };
  Engine& engine_;
  const int max_in_engine_;
  std::shared_ptr<Wakeup> w_ = std::make_shared<Wakeup>();
  std::atomic<size_t> n_jobs_{0};
  std::atomic<size_t> n_waiting_{0};
  std::thread thread_;
};

}  // namespace fathom::server
