#include "http/session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "http/json_error.h"

namespace fathom::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr size_t kMaxWatchBuffer = 64u << 10;  // stop watching once this much pipelined input waits
constexpr size_t kMaxWriteBatch = 64;

// The reply handle given to handlers: forwards onto the session's strand, tagged with the exchange it belongs to.
class ResponderImpl final : public Responder {
 public:
  ResponderImpl(std::shared_ptr<Session> s, uint64_t seq) : s_(std::move(s)), seq_(seq) {}
  ~ResponderImpl() override {
    if (!answered_.exchange(true)) {
      s_->post_send(seq_, error_response(500, "the handler produced no response", ErrorType::kServer));
    }
  }
  void send(Response r) override {
    if (!answered_.exchange(true)) s_->post_send(seq_, std::move(r));
  }
  void begin(int status, Headers headers, int64_t content_length) override {
    if (!answered_.exchange(true)) s_->post_begin(seq_, status, std::move(headers), content_length);
  }
  void write(std::string data, std::function<void(bool)> on_written) override {
    s_->post_write(seq_, std::move(data), std::move(on_written));
  }
  void end() override { s_->post_end(seq_); }
  void abort() override {
    answered_ = true;
    s_->post_abort(seq_);
  }
  void on_disconnect(std::function<void()> cb) override { s_->post_on_disconnect(seq_, std::move(cb)); }
  bool disconnected() const override { return s_->exchange_disconnected(seq_); }
  size_t queued_bytes() const override { return s_->queued_bytes(); }

 private:
  std::shared_ptr<Session> s_;
  uint64_t seq_;
  std::atomic<bool> answered_{false};
};

bool is_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

}  // namespace

void ServerShared::add(const std::shared_ptr<Session>& s) {
  std::lock_guard<std::mutex> lock(mu);
  sessions[s.get()] = s;
}

void ServerShared::remove(Session* s) {
  std::lock_guard<std::mutex> lock(mu);
  sessions.erase(s);
}

std::vector<std::shared_ptr<Session>> ServerShared::snapshot() const {
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::shared_ptr<Session>> out;
  for (auto& [p, w] : sessions) {
    if (auto s = w.lock()) out.push_back(std::move(s));
  }
  return out;
}

Session::Session(asio::ip::tcp::socket socket, std::shared_ptr<ServerShared> shared)
    : socket_(std::move(socket)),
      shared_(std::move(shared)),
      read_timer_(socket_.get_executor()),
      write_timer_(socket_.get_executor()) {}

Session::~Session() { shared_->remove(this); }

void Session::start() {
  shared_->n_open.fetch_add(1);
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void Session::close_if_idle() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == Phase::kReadingHeader) self->close();
  });
}

void Session::force_close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
}

// ---- reading -------------------------------------------------------------------------------------------------

void Session::read_header() {
  phase_ = Phase::kReadingHeader;
  ended_ = false;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
  parser_->body_limit(shared_->options.max_body_bytes);
  arm_read_timer(shared_->options.header_timeout);
  bhttp::async_read_header(socket_, buffer_, *parser_,
                           [self = shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
}

void Session::on_header(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      reject(413, "request body exceeds the limit of " + std::to_string(shared_->options.max_body_bytes) + " bytes");
    } else if (ec == bhttp::error::header_limit) {
      reject(431, "request header block is too large");
    } else if (is_parse_error(ec)) {
      reject(400, "malformed HTTP request: " + ec.message());
    } else {
      close();
    }
    return;
  }
  auto& msg = parser_->get();
  auto expect = msg.find(bhttp::field::expect);
  if (expect != msg.end() && iequals(std::string_view(expect->value().data(), expect->value().size()),
                                     "100-continue")) {
    phase_ = Phase::kReadingBody;
    enqueue("HTTP/1.1 100 Continue\r\n\r\n");
  }
  read_body();
}

void Session::read_body() {
  phase_ = Phase::kReadingBody;
  if (parser_->is_done()) {
    dispatch();
    return;
  }
  arm_read_timer(shared_->options.body_timeout);
  bhttp::async_read(socket_, buffer_, *parser_,
                    [self = shared_from_this()](error_code ec, size_t) { self->on_body(ec); });
}

void Session::on_body(error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      reject(413, "request body exceeds the limit of " + std::to_string(shared_->options.max_body_bytes) + " bytes");
    } else if (is_parse_error(ec)) {
      reject(400, "malformed HTTP request body: " + ec.message());
    } else {
      close();
    }
    return;
  }
  dispatch();
}

void Session::reject(int status, std::string message) {
  ++seq_;
  phase_ = Phase::kHandling;
  keep_alive_ = false;
  http10_ = false;
  head_sent_ = true;
  chunked_ = false;
  ended_ = true;
  Response r = error_response(status, std::move(message));
  std::string bytes = head_bytes(r.status, r.headers, static_cast<int64_t>(r.body.size()), false) + r.body;
  enqueue(std::move(bytes));
}

void Session::dispatch() {
  disarm_read_timer();
  auto& msg = parser_->get();
  Request req;
  req.method = parse_method(std::string_view(msg.method_string().data(), msg.method_string().size()));
  req.target.assign(msg.target().data(), msg.target().size());
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& f : msg) {
    req.headers.add(std::string(f.name_string()), std::string(f.value()));
  }
  req.body = std::move(msg.body());
  error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) req.remote_addr = ep.address().to_string();
  keep_alive_ = msg.keep_alive() && !shared_->stopping.load();
  req.keep_alive = keep_alive_;
  http10_ = msg.version() < 11;
  parser_.reset();

  ++seq_;
  phase_ = Phase::kHandling;
  head_sent_ = chunked_ = ended_ = close_after_flush_ = false;
  disconnect_cbs_.clear();
  watch();
  shared_->router->dispatch(std::move(req), std::make_shared<ResponderImpl>(shared_from_this(), seq_));
}

void Session::watch() {
  if (watching_ || buffer_.size() >= kMaxWatchBuffer) return;
  watching_ = true;
  socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, size_t n) {
    self->on_watch(ec, n);
  });
}

void Session::on_watch(error_code ec, size_t n) {
  watching_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    close();  // marks the exchange disconnected when one is in progress
    return;
  }
  buffer_.commit(n);
  if (resume_after_watch_) {
    resume_after_watch_ = false;
    read_header();
    return;
  }
  // Bytes while a response is still being written: the next request (the client may already have read our
  // response before our write completion ran). Do not read further: response_complete() parses what is buffered;
  // waiting here for more would wait for a client that is waiting for us.
}

void Session::arm_read_timer(std::chrono::milliseconds t) {
  uint64_t gen = ++read_timer_gen_;
  read_timer_.expires_after(t);
  read_timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
    if (!ec && gen == self->read_timer_gen_) self->close();
  });
}

void Session::disarm_read_timer() {
  ++read_timer_gen_;
  read_timer_.cancel();
}

void Session::arm_write_timer() {
  uint64_t gen = ++write_timer_gen_;
  write_timer_.expires_after(shared_->options.write_timeout);
  write_timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
    if (!ec && gen == self->write_timer_gen_) self->close();
  });
}

// ---- responder operations (posted onto the strand) --------------------------------------------------------------

void Session::post_send(uint64_t seq, Response r) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), seq, r = std::move(r)]() mutable {
    if (seq != self->seq_ || self->phase_ != Phase::kHandling || self->head_sent_) return;
    self->head_sent_ = true;
    self->ended_ = true;
    if (self->shared_->stopping.load()) self->keep_alive_ = false;
    std::string bytes = self->head_bytes(r.status, r.headers, static_cast<int64_t>(r.body.size()), false);
    bytes += r.body;
    self->enqueue(std::move(bytes));
  });
}

void Session::post_begin(uint64_t seq, int status, Headers headers, int64_t content_length) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), seq, status, h = std::move(headers),
                                       content_length]() mutable {
    if (seq != self->seq_ || self->phase_ != Phase::kHandling || self->head_sent_) return;
    self->head_sent_ = true;
    if (self->shared_->stopping.load()) self->keep_alive_ = false;
    self->chunked_ = content_length < 0 && !self->http10_;
    if (content_length < 0 && self->http10_) self->keep_alive_ = false;  // body ends when the connection does
    self->enqueue(self->head_bytes(status, h, content_length, self->chunked_));
  });
}

void Session::post_write(uint64_t seq, std::string data, std::function<void(bool)> on_written) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), seq, d = std::move(data),
                                       cb = std::move(on_written)]() mutable {
    if (seq != self->seq_ || self->phase_ != Phase::kHandling || !self->head_sent_ || self->ended_) {
      if (cb) cb(false);
      return;
    }
    if (d.empty()) {  // an empty chunk would end a chunked body
      if (cb) cb(true);
      return;
    }
    if (self->chunked_) {
      char size_line[24];
      int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", d.size());
      std::string framed;
      framed.reserve(d.size() + static_cast<size_t>(n) + 2);
      framed.append(size_line, static_cast<size_t>(n));
      framed += d;
      framed += "\r\n";
      self->enqueue(std::move(framed), std::move(cb));
    } else {
      self->enqueue(std::move(d), std::move(cb));
    }
  });
}

void Session::post_end(uint64_t seq) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), seq] {
    if (seq != self->seq_ || self->phase_ != Phase::kHandling || !self->head_sent_ || self->ended_) return;
    self->ended_ = true;
    if (self->chunked_) {
      self->enqueue("0\r\n\r\n");
    } else {
      self->maybe_complete();
    }
  });
}

void Session::post_abort(uint64_t seq) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), seq] {
    if (seq == self->seq_ && self->phase_ == Phase::kHandling) self->close();
  });
}

void Session::post_on_disconnect(uint64_t seq, std::function<void()> cb) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), seq, cb = std::move(cb)]() mutable {
    if (self->disconnected_seq_.load() == seq) {
      cb();
    } else if (seq == self->seq_ && self->phase_ == Phase::kHandling && !self->ended_) {
      self->disconnect_cbs_.push_back(std::move(cb));
    }
  });
}

bool Session::exchange_disconnected(uint64_t seq) const { return disconnected_seq_.load() == seq; }

// ---- writing --------------------------------------------------------------------------------------------------

void Session::enqueue(std::string data, std::function<void(bool)> on_written) {
  if (phase_ == Phase::kClosed) {
    if (on_written) on_written(false);
    return;
  }
  queued_bytes_.fetch_add(data.size(), std::memory_order_relaxed);
  queue_.push_back({std::move(data), std::move(on_written)});
  flush();
}

void Session::flush() {
  if (writing_ || queue_.empty() || phase_ == Phase::kClosed) return;
  std::vector<asio::const_buffer> bufs;
  while (!queue_.empty() && inflight_.size() < kMaxWriteBatch) {
    inflight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  bufs.reserve(inflight_.size());
  for (const auto& p : inflight_) bufs.emplace_back(p.data.data(), p.data.size());
  writing_ = true;
  arm_write_timer();
  asio::async_write(socket_, bufs, [self = shared_from_this()](error_code ec, size_t) { self->on_flushed(ec); });
}

void Session::on_flushed(error_code ec) {
  writing_ = false;
  ++write_timer_gen_;
  write_timer_.cancel();
  std::vector<Pending> done;
  done.swap(inflight_);
  size_t bytes = 0;
  for (const auto& p : done) bytes += p.data.size();
  queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  if (ec) close();
  for (auto& p : done) {
    if (p.on_written) p.on_written(!ec);
  }
  if (ec) return;
  flush();
  maybe_complete();
}

void Session::maybe_complete() {
  if (phase_ == Phase::kHandling && ended_ && !writing_ && queue_.empty()) response_complete();
}

void Session::response_complete() {
  disconnect_cbs_.clear();
  if (!keep_alive_ || close_after_flush_ || shared_->stopping.load()) {
    close_gracefully();
    return;
  }
  phase_ = Phase::kReadingHeader;
  if (watching_) {
    resume_after_watch_ = true;  // the pending watch read continues the keep-alive loop
    arm_read_timer(shared_->options.header_timeout);
    return;
  }
  read_header();
}

void Session::close_gracefully() {
  // Half-close, then drain what the client still sends (briefly) so that closing does not reset the connection
  // before it has read our response (e.g. a 413 sent while the body was still arriving).
  phase_ = Phase::kReadingHeader;
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  arm_read_timer(std::chrono::milliseconds(1000));
  if (watching_) return;  // the watch read sees EOF and closes
  drain();
}

void Session::drain() {
  if (phase_ == Phase::kClosed) return;
  watching_ = true;
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(16384), [self = shared_from_this()](error_code ec, size_t) {
    self->watching_ = false;
    if (ec) {
      self->close();
    } else {
      self->drain();
    }
  });
}

// ---- closing --------------------------------------------------------------------------------------------------

void Session::mark_disconnected() {
  disconnected_seq_.store(seq_);
  std::vector<std::function<void()>> cbs;
  cbs.swap(disconnect_cbs_);
  for (auto& cb : cbs) cb();
}

void Session::close() {
  if (phase_ == Phase::kClosed) return;
  bool in_exchange = phase_ == Phase::kHandling && !(ended_ && queue_.empty() && !writing_);
  phase_ = Phase::kClosed;
  resume_after_watch_ = false;
  ++read_timer_gen_;
  ++write_timer_gen_;
  read_timer_.cancel();
  write_timer_.cancel();
  error_code ec;
  socket_.close(ec);
  shared_->n_open.fetch_sub(1);
  std::deque<Pending> q;
  q.swap(queue_);
  for (const auto& p : q) queued_bytes_.fetch_sub(p.data.size(), std::memory_order_relaxed);
  if (in_exchange) mark_disconnected();
  for (auto& p : q) {
    if (p.on_written) p.on_written(false);
  }
}

std::string Session::head_bytes(int status, const Headers& headers, int64_t content_length, bool chunked) const {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += status_reason(status);
  out += "\r\n";
  for (const auto& [k, v] : headers) {
    if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding") || iequals(k, "Connection")) continue;
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (content_length >= 0) {
    out += "Content-Length: ";
    out += std::to_string(content_length);
    out += "\r\n";
  }
  if (!keep_alive_) {
    out += "Connection: close\r\n";
  } else if (http10_) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace fathom::http
