// Internal to src/http: one accepted connection (keep-alive loop of read request → handler → write response) and
// the state the server shares with its sessions.
#pragma once
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/server.h"

namespace fathom::http {

class Session;

struct ServerShared {
  ServerOptions options;
  const Router* router = nullptr;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> n_open{0};  // sessions whose socket is open
  mutable std::mutex mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

  void add(const std::shared_ptr<Session>& s);
  void remove(Session* s);
  std::vector<std::shared_ptr<Session>> snapshot() const;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerShared> shared);
  ~Session();
  void start();
  void close_if_idle();  // graceful shutdown: posts itself onto the strand
  void force_close();    // likewise

  // Called by the responder, any thread: each posts onto the strand and checks `seq` (the exchange it belongs to).
  void post_send(uint64_t seq, Response response);
  void post_begin(uint64_t seq, int status, Headers headers, int64_t content_length);
  void post_write(uint64_t seq, std::string data, std::function<void(bool)> on_written);
  void post_end(uint64_t seq);
  void post_abort(uint64_t seq);
  void post_on_disconnect(uint64_t seq, std::function<void()> cb);
  bool exchange_disconnected(uint64_t seq) const;
  size_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }

 private:
  enum class Phase { kReadingHeader, kReadingBody, kHandling, kClosed };
  struct Pending {
    std::string data;
    std::function<void(bool)> on_written;
  };

  void read_header();
  void on_header(boost::system::error_code ec);
  void read_body();
  void on_body(boost::system::error_code ec);
  void reject(int status, std::string message);  // answer an unreadable request, then close
  void dispatch();
  void watch();  // detects a client that goes away while its request is handled
  void on_watch(boost::system::error_code ec, size_t n);
  void arm_read_timer(std::chrono::milliseconds t);
  void disarm_read_timer();
  void arm_write_timer();
  void enqueue(std::string data, std::function<void(bool)> on_written = {});
  void flush();
  void on_flushed(boost::system::error_code ec);
  void maybe_complete();
  void response_complete();
  void close_gracefully();
  void drain();
  void mark_disconnected();
  void close();
  std::string head_bytes(int status, const Headers& headers, int64_t content_length, bool chunked) const;

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<ServerShared> shared_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  uint64_t read_timer_gen_ = 0;
  uint64_t write_timer_gen_ = 0;

  Phase phase_ = Phase::kReadingHeader;
  uint64_t seq_ = 0;  // current exchange
  std::atomic<uint64_t> disconnected_seq_{0};
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_sent_ = false;
  bool chunked_ = false;
  bool ended_ = false;
  bool close_after_flush_ = false;
  bool watching_ = false;
  bool resume_after_watch_ = false;
  std::vector<std::function<void()>> disconnect_cbs_;

  std::deque<Pending> queue_;
  std::vector<Pending> inflight_;
  bool writing_ = false;
  std::atomic<size_t> queued_bytes_{0};
};

}  // namespace fathom::http
