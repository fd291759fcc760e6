// The MPI implementation of Comm: the only translation unit that includes mpi.h.
// The C API only (no deprecated C++ bindings).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

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
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }

  void allreduce_sum(float* data, int64_t n) override {
    if (size_ == 1 || n == 0) return;
    gather_buf_.resize(static_cast<size_t>(n) * size_);
    allgather(data, n * static_cast<int64_t>(sizeof(float)), gather_buf_.data());
    for (int64_t i = 0; i < n; ++i) {
      float s = gather_buf_[i];
      for (int r = 1; r < size_; ++r) s += gather_buf_[static_cast<size_t>(r) * n + i];
      data[i] = s;
    }
  }
  void broadcast(void* data, int64_t bytes, int root) override {
    MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
  }
  void allgather(const void* send, int64_t bytes, void* recv) override {
    MPI_Allgather(send, static_cast<int>(bytes), MPI_BYTE, recv, static_cast<int>(bytes), MPI_BYTE, MPI_COMM_WORLD);
  }
  void alltoallv(const void* send, const std::vector<int64_t>& send_counts, const std::vector<int64_t>& send_displs,
                 void* recv, const std::vector<int64_t>& recv_counts, const std::vector<int64_t>& recv_displs) override {
    std::vector<int> sc(size_), sd(size_), rc(size_), rd(size_);
    for (int r = 0; r < size_; ++r) {
      sc[r] = static_cast<int>(send_counts[r]);
      sd[r] = static_cast<int>(send_displs[r]);
      rc[r] = static_cast<int>(recv_counts[r]);
      rd[r] = static_cast<int>(recv_displs[r]);
    }
    MPI_Alltoallv(send, sc.data(), sd.data(), MPI_BYTE, recv, rc.data(), rd.data(), MPI_BYTE, MPI_COMM_WORLD);
  }
  void barrier() override { MPI_Barrier(MPI_COMM_WORLD); }
  [[noreturn]] void abort_job(const std::string& why) override {
    std::fprintf(stderr, "fatal (rank %d of %d): %s\n", rank_, size_, why.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::exit(1);
  }

 private:
  int rank_ = 0, size_ = 1;
  std::vector<float> gather_buf_;
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
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      std::atexit(finalize_at_exit);
    }
  });
  return std::make_unique<MpiComm>();
}

}  // namespace fathom
