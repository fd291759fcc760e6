#include "http/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <thread>

#include "http/asio_runtime.h"
#include "http/session.h"

namespace fathom::http {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& io, std::shared_ptr<ServerShared> s)
      : io(io), acceptor(asio::make_strand(io)), retry_timer(acceptor.get_executor()), shared(std::move(s)) {}

  void do_accept() {
    acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](error_code ec, tcp::socket socket) {
      if (!self->acceptor.is_open() || ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors and the like: back off briefly instead of spinning.
        self->retry_timer.expires_after(std::chrono::milliseconds(50));
        self->retry_timer.async_wait([self](error_code e) {
          if (!e) self->do_accept();
        });
        return;
      }
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<Session>(std::move(socket), self->shared);
      self->shared->add(session);
      session->start();
      self->do_accept();
    });
  }

  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::shared_ptr<ServerShared> shared;
  uint16_t port = 0;
  bool stopped = false;
};

Expected<std::unique_ptr<Server>> Server::start(IoRuntime& runtime, const ServerOptions& options,
                                                const Router& router) {
  auto shared = std::make_shared<ServerShared>();
  shared->options = options;
  shared->router = &router;
  auto impl = std::make_shared<Impl>(io_context_of(runtime), shared);
  error_code ec;
  auto addr = asio::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host, ec);
  if (ec) return Status::error("--server-name: '" + options.host + "' is not an IP address");
  tcp::endpoint ep(addr, options.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(options.backlog, ec);
  if (ec) {
    return Status::error("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                         ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  asio::post(impl->acceptor.get_executor(), [impl] { impl->do_accept(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::~Server() { stop(std::chrono::milliseconds(0)); }

uint16_t Server::port() const { return impl_->port; }

size_t Server::n_open_sessions() const { return static_cast<size_t>(std::max<int64_t>(0, impl_->shared->n_open)); }

void Server::stop(std::chrono::milliseconds grace) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  auto& shared = *impl_->shared;
  shared.stopping.store(true);
  std::promise<void> closed;
  auto fut = closed.get_future();
  asio::post(impl_->acceptor.get_executor(), [impl = impl_, &closed] {
    error_code ec;
    impl->acceptor.close(ec);
    impl->retry_timer.cancel();
    closed.set_value();
  });
  // If the runtime is already stopped nothing runs: do not wait forever.
  if (fut.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return;
  for (auto& s : shared.snapshot()) s->close_if_idle();
  auto wait_until = [&](std::chrono::steady_clock::time_point deadline) {
    while (shared.n_open.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  wait_until(std::chrono::steady_clock::now() + grace);
  for (auto& s : shared.snapshot()) s->force_close();
  wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(2));
}

}  // namespace fathom::http
