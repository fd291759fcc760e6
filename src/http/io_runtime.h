// The event loop shared by every server and client in a process: one io_context run by N threads. Servers and
// clients created on the same runtime share its threads; nothing blocks them (timeouts are timers, not waits).
#pragma once
#include <memory>

namespace fathom::http {

class IoRuntime {
 public:
  explicit IoRuntime(int n_threads);
  ~IoRuntime();  // stop() + join
  IoRuntime(const IoRuntime&) = delete;
  IoRuntime& operator=(const IoRuntime&) = delete;

  int n_threads() const;
  // Stops the loop and joins its threads; pending operations are abandoned. Idempotent.
  void stop();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Blocks the calling thread until SIGINT or SIGTERM arrives; returns the signal number.
int wait_for_termination_signal();

}  // namespace fathom::http
