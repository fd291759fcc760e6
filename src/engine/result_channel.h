// A request's result channel: the engine thread pushes, one consumer (an HTTP session, the CLI) pops.
// Events pushed before the consumer reads are merged, so a slow reader costs no memory per token beyond its ids.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "engine/request.h"

namespace fathom {

class ResultChannel {
 public:
  explicit ResultChannel(uint64_t request_id) : request_id_(request_id) {}
  uint64_t request_id() const { return request_id_; }

  // Engine side. After a finished event nothing more is pushed.
  void push(const GenerationEvent& ev);

  // Consumer side: waits up to `timeout` for news; returns false on timeout. The returned event holds every
  // token pushed since the previous call.
  bool next(GenerationEvent& out, std::chrono::milliseconds timeout);
  // Blocks until the request finishes; returns all of its tokens (from this point on) merged into one event.
  GenerationEvent wait_all();

 private:
  const uint64_t request_id_;
  std::mutex mu_;
  std::condition_variable cv_;
  GenerationEvent pending_;
  bool has_news_ = false;
  bool closed_ = false;
};

}  // namespace fathom
