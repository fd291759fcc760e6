// Liveness of a lockstep job: no silent hang. One thread per rank exchanges heartbeats with every other rank
// (Comm::heartbeat_send/poll) and ends the whole job (Comm::abort_job) with a message naming the culprit when
//   - a rank has not been heard from for `silence_timeout` (stopped, frozen, its node or link gone), or
//   - this rank's current step has not completed within `step_timeout`: the ranks that never reached the step
//     are named first, then those still computing it while everyone else waits inside a collective.
// A rank that dies outright is reported by mpirun itself (MPI_ERRORS_ARE_FATAL; mpirun ends the job).
// With one rank, or without MPI_THREAD_MULTIPLE heartbeats, only the step timeout applies.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "dist/comm.h"

namespace fathom {

struct WatchdogOptions {
  std::chrono::milliseconds silence_timeout{10'000};
  std::chrono::milliseconds step_timeout{300'000};
  std::chrono::milliseconds period{200};  // heartbeat interval
};

class Watchdog {
 public:
  // `on_fatal` defaults to comm.abort_job; tests pass their own. Starts the thread (none for one rank).
  Watchdog(Comm& comm, WatchdogOptions o, std::function<void(const std::string&)> on_fatal = nullptr);
  ~Watchdog();  // tells the other ranks this one is leaving normally, then stops the thread
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Called by the thread that runs the lockstep collectives, around each step.
  void step_begin(int64_t step);
  void step_end();

 private:
  void run();

  Comm& comm_;
  WatchdogOptions o_;
  std::function<void(const std::string&)> on_fatal_;
  std::atomic<int64_t> step_{-1};        // the step this rank is in or last finished
  std::atomic<bool> in_step_{false};
  std::atomic<int64_t> step_since_ns_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fathom
