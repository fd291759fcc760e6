#include "http/connection_pool.h"

namespace fathom::http {

namespace {

// Whether an idle socket is still usable: nothing to read and no EOF (a closed keep-alive connection would fail
// the next request, or worse, half-succeed).
bool still_open(boost::asio::ip::tcp::socket& s) {
  boost::system::error_code ec;
  s.non_blocking(true, ec);
  if (ec) return false;
  char byte;
  s.receive(boost::asio::buffer(&byte, 1), boost::asio::socket_base::message_peek, ec);
  bool idle = ec == boost::asio::error::would_block;
  s.non_blocking(false, ec);
  return idle && !ec;
}

}  // namespace

std::optional<boost::asio::ip::tcp::socket> ConnectionPool::take(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idle_.find(key);
  if (it == idle_.end()) return std::nullopt;
  auto now = std::chrono::steady_clock::now();
  auto& q = it->second;
  while (!q.empty()) {
    Idle idle = std::move(q.back());
    q.pop_back();
    if (now - idle.since <= idle_expiry_ && still_open(idle.socket)) return std::move(idle.socket);
    boost::system::error_code ec;
    idle.socket.close(ec);
  }
  return std::nullopt;
}

void ConnectionPool::give(const std::string& key, boost::asio::ip::tcp::socket socket) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& q = idle_[key];
  if (q.size() >= max_idle_per_host_) {
    boost::system::error_code ec;
    q.front().socket.close(ec);
    q.pop_front();
  }
  q.push_back({std::move(socket), std::chrono::steady_clock::now()});
}

size_t ConnectionPool::n_idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [k, q] : idle_) n += q.size();
  return n;
}

}  // namespace fathom::http
