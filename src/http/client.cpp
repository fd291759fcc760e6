#include "http/client.h"

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <future>
#include <limits>

#include "http/asio_runtime.h"
#include "http/connection_pool.h"

namespace fathom::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

std::string_view client_error_name(ClientErrorKind kind) {
  switch (kind) {
    case ClientErrorKind::kNone: return "ok";
    case ClientErrorKind::kConnect: return "connect failed";
    case ClientErrorKind::kTimeout: return "timeout";
    case ClientErrorKind::kClosed: return "connection closed";
    case ClientErrorKind::kProtocol: return "protocol error";
    case ClientErrorKind::kCancelled: return "cancelled";
    case ClientErrorKind::kTooLarge: return "response too large";
  }
  return "error";
}

struct HttpClient::Impl {
  Impl(asio::io_context& io, const ClientOptions& o) : io(io), pool(o.max_idle_per_host, o.idle_expiry) {}
  asio::io_context& io;
  ConnectionPool pool;
  std::atomic<uint64_t> n_connects{0};
};

namespace {

constexpr size_t kReadChunk = 16384;

class CallImpl final : public ClientCall, public std::enable_shared_from_this<CallImpl> {
 public:
  CallImpl(std::shared_ptr<HttpClient::Impl> client, ClientRequest req, StreamCallbacks cbs)
      : client_(std::move(client)),
        strand_(asio::make_strand(client_->io)),
        socket_(client_->io),
        timer_(strand_),
        resolver_(strand_),
        req_(std::move(req)),
        cbs_(std::move(cbs)),
        key_(req_.host + ":" + std::to_string(req_.port)) {}

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->acquire(); });
  }

  void cancel() override {
    asio::post(strand_, [self = shared_from_this()] {
      self->fail(ClientErrorKind::kCancelled, "cancelled by caller");
    });
  }

 private:
  template <typename F>
  auto on_strand(F&& f) {
    return asio::bind_executor(strand_, std::forward<F>(f));
  }

  void acquire() {
    if (done_) return;
    if (!tried_fresh_) {
      if (auto s = client_->pool.take(key_)) {
        socket_ = std::move(*s);
        reused_ = true;
        write_request();
        return;
      }
    }
    connect();
  }

  void connect() {
    reused_ = false;
    tried_fresh_ = true;
    phase_ = Phase::kConnect;
    arm_timer(req_.connect_timeout);
    error_code ec;
    auto addr = asio::ip::make_address(req_.host == "localhost" ? "127.0.0.1" : req_.host, ec);
    if (!ec) {
      connect_to(tcp::endpoint(addr, req_.port));
      return;
    }
    resolver_.async_resolve(req_.host, std::to_string(req_.port),
                            on_strand([self = shared_from_this()](error_code e, tcp::resolver::results_type r) {
                              if (self->done_) return;
                              if (e) return self->fail_ec(e);
                              self->connect_to(*r.begin());
                            }));
  }

  void connect_to(const tcp::endpoint& ep) {
    socket_ = tcp::socket(client_->io);
    client_->n_connects.fetch_add(1, std::memory_order_relaxed);
    socket_.async_connect(ep, on_strand([self = shared_from_this()](error_code e) {
      if (self->done_) return;
      if (e) return self->fail_ec(e);
      error_code ignored;
      self->socket_.set_option(tcp::no_delay(true), ignored);
      self->write_request();
    }));
  }

  void write_request() {
    phase_ = Phase::kRequest;
    arm_timer(req_.first_byte_timeout);
    out_.clear();
    out_ += method_name(req_.method);
    out_ += ' ';
    out_ += req_.target;
    out_ += " HTTP/1.1\r\nHost: ";
    out_ += req_.host;
    out_ += ':';
    out_ += std::to_string(req_.port);
    out_ += "\r\n";
    for (const auto& [k, v] : req_.headers) {
      if (iequals(k, "Host") || iequals(k, "Content-Length") || iequals(k, "Connection") ||
          iequals(k, "Transfer-Encoding")) {
        continue;
      }
      out_ += k;
      out_ += ": ";
      out_ += v;
      out_ += "\r\n";
    }
    if (!req_.body.empty() || req_.method == Method::kPost || req_.method == Method::kPut) {
      out_ += "Content-Length: ";
      out_ += std::to_string(req_.body.size());
      out_ += "\r\n";
    }
    out_ += "\r\n";
    std::array<asio::const_buffer, 2> bufs{asio::buffer(out_), asio::buffer(req_.body)};
    asio::async_write(socket_, bufs, on_strand([self = shared_from_this()](error_code e, size_t) {
                        if (self->done_) return;
                        if (e) return self->retry_or_fail(e);
                        self->read_head();
                      }));
  }

  void read_head() {
    buffer_.clear();
    parser_.emplace();
    // Not boost::none: Boost 1.74 compares the length against the optional and an empty one always "exceeds".
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_->header_limit(64u << 10);
    if (req_.method == Method::kHead) parser_->skip(true);
    bhttp::async_read_header(socket_, buffer_, *parser_,
                             on_strand([self = shared_from_this()](error_code e, size_t) {
                               if (self->done_) return;
                               if (e) return self->retry_or_fail(e);
                               self->on_head();
                             }));
  }

  void on_head() {
    phase_ = Phase::kBody;
    const auto& msg = parser_->get();
    ResponseHead head;
    head.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) head.headers.add(std::string(f.name_string()), std::string(f.value()));
    if (auto len = parser_->content_length()) head.content_length = static_cast<int64_t>(*len);
    if (cbs_.on_head) cbs_.on_head(std::move(head));
    read_body();
  }

  void read_body() {
    if (done_) return;
    if (parser_->is_done()) return complete();
    arm_timer(req_.idle_timeout);
    parser_->get().body().data = chunk_;
    parser_->get().body().size = sizeof chunk_;
    parser_->get().body().more = true;
    bhttp::async_read_some(socket_, buffer_, *parser_, on_strand([self = shared_from_this()](error_code e, size_t) {
                             self->on_body(e);
                           }));
  }

  void on_body(error_code e) {
    if (done_) return;
    if (e == bhttp::error::need_buffer) e = {};
    if (e) return fail_ec(e);
    size_t n = sizeof chunk_ - parser_->get().body().size;
    if (n == 0) return read_body();
    std::string data(chunk_, n);
    if (!cbs_.on_data) return read_body();
    disarm_timer();  // the consumer may take its time; the idle timeout restarts on resume
    auto resume = [self = shared_from_this()] {
      asio::post(self->strand_, [self] { self->read_body(); });
    };
    cbs_.on_data(std::move(data), std::move(resume));
  }

  void complete() {
    disarm_timer();
    bool reusable = parser_->keep_alive() && buffer_.size() == 0;
    if (reusable) {
      client_->pool.give(key_, std::move(socket_));
    } else {
      error_code ec;
      socket_.close(ec);
    }
    finish(ClientError{});
  }

  // A pooled connection the server closed meanwhile fails before any response byte: retry on a fresh one.
  void retry_or_fail(error_code e) {
    if (reused_ && !timed_out_ && phase_ != Phase::kBody && buffer_.size() == 0) {
      error_code ec;
      socket_.close(ec);
      connect();
      return;
    }
    fail_ec(e);
  }

  void fail_ec(error_code e) {
    ClientErrorKind kind = ClientErrorKind::kClosed;
    if (timed_out_) {
      kind = ClientErrorKind::kTimeout;
    } else if (phase_ == Phase::kConnect) {
      kind = ClientErrorKind::kConnect;
    } else if (e.category() == bhttp::make_error_code(bhttp::error::bad_version).category() &&
               e != bhttp::error::end_of_stream && e != bhttp::error::partial_message) {
      kind = ClientErrorKind::kProtocol;
    }
    std::string where = phase_ == Phase::kConnect ? "connecting to " : phase_ == Phase::kRequest
                                                                           ? "waiting for the response from "
                                                                           : "reading the body from ";
    fail(kind, where + key_ + ": " + (timed_out_ ? std::string("timed out") : e.message()));
  }

  void fail(ClientErrorKind kind, std::string message) {
    if (done_) return;
    error_code ec;
    socket_.close(ec);
    resolver_.cancel();
    finish(ClientError{kind, std::move(message)});
  }

  void finish(ClientError err) {
    if (done_) return;
    done_ = true;
    disarm_timer();
    auto on_done = std::move(cbs_.on_done);
    cbs_ = {};
    if (on_done) on_done(std::move(err));
  }

  void arm_timer(std::chrono::milliseconds t) {
    uint64_t gen = ++timer_gen_;
    timer_.expires_after(t);
    timer_.async_wait([self = shared_from_this(), gen](error_code e) {
      if (e || gen != self->timer_gen_ || self->done_) return;
      self->timed_out_ = true;
      error_code ec;
      self->socket_.close(ec);
      self->resolver_.cancel();
      if (self->phase_ == Phase::kConnect) self->fail(ClientErrorKind::kTimeout, "connecting to " + self->key_ + ": timed out");
    });
  }

  void disarm_timer() {
    ++timer_gen_;
    timer_.cancel();
  }

  enum class Phase { kConnect, kRequest, kBody };

  std::shared_ptr<HttpClient::Impl> client_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  ClientRequest req_;
  StreamCallbacks cbs_;
  std::string key_;
  std::string out_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  char chunk_[kReadChunk];
  Phase phase_ = Phase::kConnect;
  uint64_t timer_gen_ = 0;
  bool reused_ = false;
  bool tried_fresh_ = false;
  bool timed_out_ = false;
  bool done_ = false;
};

}  // namespace

HttpClient::HttpClient(IoRuntime& runtime, ClientOptions options)
    : impl_(std::make_shared<Impl>(io_context_of(runtime), options)) {}

HttpClient::~HttpClient() = default;

std::shared_ptr<ClientCall> HttpClient::stream(ClientRequest request, StreamCallbacks callbacks) {
  auto call = std::make_shared<CallImpl>(impl_, std::move(request), std::move(callbacks));
  call->start();
  return call;
}

std::shared_ptr<ClientCall> HttpClient::fetch(ClientRequest request,
                                              std::function<void(ClientError, Response)> done, size_t max_body) {
  struct State {
    Response response;
    std::shared_ptr<ClientCall> call;
    bool too_large = false;
  };
  auto st = std::make_shared<State>();
  StreamCallbacks cbs;
  cbs.on_head = [st](ResponseHead head) {
    st->response.status = head.status;
    st->response.headers = std::move(head.headers);
  };
  cbs.on_data = [st, max_body](std::string data, std::function<void()> resume) {
    if (st->response.body.size() + data.size() > max_body) {
      st->too_large = true;
      if (st->call) st->call->cancel();
      return;
    }
    st->response.body += data;
    resume();
  };
  cbs.on_done = [st, done = std::move(done)](ClientError err) {
    if (st->too_large) err = ClientError{ClientErrorKind::kTooLarge, "response body exceeds the limit"};
    st->call.reset();
    done(std::move(err), std::move(st->response));
  };
  auto call = stream(std::move(request), std::move(cbs));
  st->call = call;
  return call;
}

Expected<Response> HttpClient::fetch_sync(ClientRequest request) {
  std::promise<Expected<Response>> p;
  auto fut = p.get_future();
  fetch(std::move(request), [&p](ClientError err, Response r) {
    if (err.ok()) {
      p.set_value(std::move(r));
    } else {
      p.set_value(Status::error(err.message));
    }
  });
  return fut.get();
}

uint64_t HttpClient::n_connects() const { return impl_->n_connects.load(); }

size_t HttpClient::n_idle_connections() const { return impl_->pool.n_idle(); }

}  // namespace fathom::http
