// The narrow interface to the distributed runtime (DESIGN.md §2): the model and engine see only this. One
// implementation is a single process (comm_local.cpp); the MPI one lives in comm_mpi.cpp, the only file that
// includes mpi.h. Collectives are blocking and must be called by every rank in the same order.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace fathom {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "local" | "mpi"

  // Sum of every rank's `data`, written back to `data` on every rank. Deterministic: the partial arrays are
  // gathered and summed in rank order, so every rank gets the same bits and repeated runs agree.
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // recv: [size() * bytes], rank r's `send` at r * bytes.
  virtual void allgather(const void* send, int64_t bytes, void* recv) = 0;
  // Variable all-to-all of bytes: send_counts/recv_counts/displacements per rank.
  virtual void alltoallv(const void* send, const std::vector<int64_t>& send_counts,
                         const std::vector<int64_t>& send_displs, void* recv, const std::vector<int64_t>& recv_counts,
                         const std::vector<int64_t>& recv_displs) = 0;
  virtual void barrier() = 0;
  // Ends the whole job with a message naming this rank (a rank that cannot go on must not leave others hanging).
  [[noreturn]] virtual void abort_job(const std::string& why) = 0;

  // For the liveness watchdog (dist/watchdog.h), callable from one other thread while collectives run; the
  // defaults (one process) do nothing. heartbeat_send posts `bytes` to every other rank without waiting (a rank
  // whose previous heartbeat is still in flight is skipped); heartbeat_poll takes one arrived heartbeat and
  // returns its sender, or -1 when none is waiting. Heartbeats are at most kMaxHeartbeatBytes.
  static constexpr int64_t kMaxHeartbeatBytes = 64;
  virtual bool has_heartbeats() const { return false; }
  virtual void heartbeat_send(const void* data, int64_t bytes) {}
  virtual int heartbeat_poll(void* data, int64_t bytes) { return -1; }
  // True while this rank's thread is inside a collective call (waiting for others rather than computing).
  virtual bool in_collective() const { return false; }
};

// One process, size 1.
std::unique_ptr<Comm> make_local_comm();
// MPI when this binary was built with it and runs under mpirun (OMPI/PMI environment); otherwise the local comm.
// Never returns null. Initialises MPI on first use.
std::unique_ptr<Comm> make_world_comm();
bool mpi_available();  // built with MPI

}  // namespace fathom
