// The MPI implementation of Comm: the only translation unit that includes mpi.h.
// The C API only (no deprecated C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "dist/comm.h"

namespace fathom {

namespace {

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

class MpiComm final : public Comm {
 public:
  MpiComm() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    // Errors abort the job (with MPI's message) instead of returning codes nobody checks.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    // Heartbeats travel on their own communicator (collective: every rank builds its comms in the same order),
    // from the watchdog thread, which needs MPI_THREAD_MULTIPLE.
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    if (level >= MPI_THREAD_MULTIPLE && size_ > 1) {
      MPI_Comm_dup(MPI_COMM_WORLD, &hb_comm_);
      MPI_Comm_set_errhandler(hb_comm_, MPI_ERRORS_RETURN);
      hb_out_.assign(static_cast<size_t>(size_) * kMaxHeartbeatBytes, 0);
      hb_req_.assign(size_, MPI_REQUEST_NULL);
    }
  }
  ~MpiComm() override {
    if (hb_comm_ == MPI_COMM_NULL) return;
    // Sends still in flight (a peer that stopped reading) are released; their buffers stay alive with the
    // leaked holder below, since MPI may still read them until finalize.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    bool pending = true;
    while (pending && std::chrono::steady_clock::now() < deadline) {
      pending = false;
      for (MPI_Request& r : hb_req_) {
        if (r == MPI_REQUEST_NULL) continue;
        int done = 0;
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        if (!done) pending = true;
      }
      if (pending) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (pending) {
      for (MPI_Request& r : hb_req_)
        if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
      new std::vector<uint8_t>(std::move(hb_out_));  // intentionally leaked: MPI may still read it
    }
    MPI_Comm_free(&hb_comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }

  void allreduce_sum(float* data, int64_t n) override {
    if (size_ == 1 || n == 0) return;
    Busy busy(in_collective_);
    gather_buf_.resize(static_cast<size_t>(n) * size_);
    allgather(data, n * static_cast<int64_t>(sizeof(float)), gather_buf_.data());
    for (int64_t i = 0; i < n; ++i) {
      float s = gather_buf_[i];
      for (int r = 1; r < size_; ++r) s += gather_buf_[static_cast<size_t>(r) * n + i];
      data[i] = s;
    }
  }
  void broadcast(void* data, int64_t bytes, int root) override {
    Busy busy(in_collective_);
    MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
  }
  void allgather(const void* send, int64_t bytes, void* recv) override {
    Busy busy(in_collective_);
    MPI_Allgather(send, static_cast<int>(bytes), MPI_BYTE, recv, static_cast<int>(bytes), MPI_BYTE, MPI_COMM_WORLD);
  }
  void alltoallv(const void* send, const std::vector<int64_t>& send_counts, const std::vector<int64_t>& send_displs,
                 void* recv, const std::vector<int64_t>& recv_counts, const std::vector<int64_t>& recv_displs) override {
    Busy busy(in_collective_);
    std::vector<int> sc(size_), sd(size_), rc(size_), rd(size_);
    for (int r = 0; r < size_; ++r) {
      sc[r] = static_cast<int>(send_counts[r]);
      sd[r] = static_cast<int>(send_displs[r]);
      rc[r] = static_cast<int>(recv_counts[r]);
      rd[r] = static_cast<int>(recv_displs[r]);
    }
    MPI_Alltoallv(send, sc.data(), sd.data(), MPI_BYTE, recv, rc.data(), rd.data(), MPI_BYTE, MPI_COMM_WORLD);
  }
  void barrier() override {
    Busy busy(in_collective_);
    MPI_Barrier(MPI_COMM_WORLD);
  }
  [[noreturn]] void abort_job(const std::string& why) override {
    std::fprintf(stderr, "fatal (rank %d of %d): %s\n", rank_, size_, why.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::exit(1);
  }

  bool has_heartbeats() const override { return hb_comm_ != MPI_COMM_NULL; }
  void heartbeat_send(const void* data, int64_t bytes) override {
    if (hb_comm_ == MPI_COMM_NULL || bytes > kMaxHeartbeatBytes) return;
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      MPI_Request& req = hb_req_[r];
      if (req != MPI_REQUEST_NULL) {
        int done = 0;
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (!done) continue;  // the previous one has not left yet: this peer is not reading
      }
      uint8_t* buf = hb_out_.data() + static_cast<size_t>(r) * kMaxHeartbeatBytes;
      std::memcpy(buf, data, bytes);
      MPI_Isend(buf, static_cast<int>(bytes), MPI_BYTE, r, kHeartbeatTag, hb_comm_, &req);
    }
  }
  int heartbeat_poll(void* data, int64_t bytes) override {
    if (hb_comm_ == MPI_COMM_NULL) return -1;
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kHeartbeatTag, hb_comm_, &flag, &st);
    if (!flag) return -1;
    int n = 0;
    MPI_Get_count(&st, MPI_BYTE, &n);
    std::vector<uint8_t> tmp(n);
    MPI_Recv(tmp.data(), n, MPI_BYTE, st.MPI_SOURCE, kHeartbeatTag, hb_comm_, MPI_STATUS_IGNORE);
    std::memset(data, 0, bytes);
    std::memcpy(data, tmp.data(), std::min<int64_t>(n, bytes));
    return st.MPI_SOURCE;
  }
  bool in_collective() const override { return in_collective_.load(std::memory_order_relaxed) > 0; }

 private:
  static constexpr int kHeartbeatTag = 7;
  // Marks the calling thread as waiting inside MPI for the duration of a collective.
  struct Busy {
    explicit Busy(std::atomic<int>& c) : c_(c) { c_.fetch_add(1, std::memory_order_relaxed); }
    ~Busy() { c_.fetch_sub(1, std::memory_order_relaxed); }
    std::atomic<int>& c_;
  };
  int rank_ = 0, size_ = 1;
  std::vector<float> gather_buf_;
  std::atomic<int> in_collective_{0};
  MPI_Comm hb_comm_ = MPI_COMM_NULL;
  std::vector<uint8_t> hb_out_;       // [size, kMaxHeartbeatBytes] one send buffer per peer
  std::vector<MPI_Request> hb_req_;   // [size] the send in flight to each peer
};

}  // namespace

bool mpi_available() { return true; }

std::unique_ptr<Comm> make_world_comm() {
  if (!launched_by_mpirun()) return make_local_comm();
  static std::once_flag once;
  std::call_once(once, [] {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      // MULTIPLE: the engine thread runs the collectives while the watchdog thread exchanges heartbeats.
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
      std::atexit(finalize_at_exit);
    }
  });
  return std::make_unique<MpiComm>();
}

}  // namespace fathom
