// A Comm that forwards to another and counts the bytes this rank sends in alltoallv (the expert-parallel token
// exchange): to other ranks and to itself separately. For measurements (bench throughput --dp/--ep).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>

#include "dist/comm.h"

namespace fathom {

struct AlltoallvCounters {
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> bytes_remote{0};  // sent to other ranks
  std::atomic<int64_t> bytes_local{0};   // "sent" to this rank itself (a copy, no traffic)
};

// `counters` must outlive the returned comm.
std::shared_ptr<Comm> make_counting_comm(std::shared_ptr<Comm> inner, AlltoallvCounters* counters);

}  // namespace fathom
