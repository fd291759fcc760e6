#include "dist/comm_counting.h"

namespace fathom {

namespace {

class CountingComm final : public Comm {
 public:
  CountingComm(std::shared_ptr<Comm> inner, AlltoallvCounters* c) : in_(std::move(inner)), c_(c) {}
  int rank() const override { return in_->rank(); }
  int size() const override { return in_->size(); }
  std::string name() const override { return in_->name(); }
  void allreduce_sum(float* data, int64_t n) override { in_->allreduce_sum(data, n); }
  void broadcast(void* data, int64_t bytes, int root) override { in_->broadcast(data, bytes, root); }
  void allgather(const void* send, int64_t bytes, void* recv) override { in_->allgather(send, bytes, recv); }
  void alltoallv(const void* send, const std::vector<int64_t>& send_counts, const std::vector<int64_t>& send_displs,
                 void* recv, const std::vector<int64_t>& recv_counts, const std::vector<int64_t>& recv_displs) override {
    int64_t remote = 0;
    for (int r = 0; r < size(); ++r)
      if (r != rank()) remote += send_counts[r];
    c_->calls.fetch_add(1, std::memory_order_relaxed);
    c_->bytes_remote.fetch_add(remote, std::memory_order_relaxed);
    c_->bytes_local.fetch_add(send_counts[rank()], std::memory_order_relaxed);
    in_->alltoallv(send, send_counts, send_displs, recv, recv_counts, recv_displs);
  }
  void barrier() override { in_->barrier(); }
  [[noreturn]] void abort_job(const std::string& why) override { in_->abort_job(why); }
  bool has_heartbeats() const override { return in_->has_heartbeats(); }
  void heartbeat_send(const void* data, int64_t bytes) override { in_->heartbeat_send(data, bytes); }
  int heartbeat_poll(void* data, int64_t bytes) override { return in_->heartbeat_poll(data, bytes); }
  bool in_collective() const override { return in_->in_collective(); }

 private:
  std::shared_ptr<Comm> in_;
  AlltoallvCounters* c_;
};

}  // namespace

std::shared_ptr<Comm> make_counting_comm(std::shared_ptr<Comm> inner, AlltoallvCounters* counters) {
  return std::make_shared<CountingComm>(std::move(inner), counters);
}

}  // namespace fathom
