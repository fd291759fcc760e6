#include "http/io_runtime.h"

#include <pthread.h>

#include <boost/asio/signal_set.hpp>
#include <csignal>

#include "core/check.h"
#include "http/asio_runtime.h"

namespace fathom::http {

IoRuntime::IoRuntime(int n_threads) : impl_(std::make_unique<Impl>()) {
  FATHOM_CHECK(n_threads >= 1);
  for (int i = 0; i < n_threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
}

IoRuntime::~IoRuntime() { stop(); }

int IoRuntime::n_threads() const { return static_cast<int>(impl_->threads.size()); }

void IoRuntime::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->guard.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

int wait_for_termination_signal() {
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  int got = 0;
  signals.async_wait([&](const boost::system::error_code&, int sig) { got = sig; });
  io.run();
  return got;
}

}  // namespace fathom::http
