// Internal to src/http: idle keep-alive client connections, keyed by "host:port".
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace fathom::http {

class ConnectionPool {
 public:
  ConnectionPool(size_t max_idle_per_host, std::chrono::milliseconds idle_expiry)
      : max_idle_per_host_(max_idle_per_host), idle_expiry_(idle_expiry) {}

  // A live idle connection (one the peer has not closed meanwhile), most recently used first.
  std::optional<boost::asio::ip::tcp::socket> take(const std::string& key);
  void give(const std::string& key, boost::asio::ip::tcp::socket socket);
  size_t n_idle() const;

 private:
  struct Idle {
    boost::asio::ip::tcp::socket socket;
    std::chrono::steady_clock::time_point since;
  };
  size_t max_idle_per_host_;
  std::chrono::milliseconds idle_expiry_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::deque<Idle>> idle_;
};

}  // namespace fathom::http
