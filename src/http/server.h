// HTTP/1.1 server: an acceptor and keep-alive sessions on an IoRuntime, dispatching to a Router. Limits and
// timeouts live here in one place: body size (413), header size (431), header/body read deadlines against
// slow-loris clients, a write deadline against clients that stop reading, and graceful shutdown.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/io_runtime.h"
#include "http/router.h"

namespace fathom::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 0;  // 0 → an ephemeral port (see Server::port())
  size_t max_body_bytes = 64u << 20;
  size_t max_header_bytes = 64u << 10;
  // From the first byte of a request (or the end of the previous response, for keep-alive idling) to its full
  // header block.
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds body_timeout{60'000};   // reading the body once the header is in
  std::chrono::milliseconds write_timeout{60'000};  // one queued write must drain within this
  int backlog = 4096;
};

class Server {
 public:
  // Binds and starts accepting at once; the router must outlive the server.
  static Expected<std::unique_ptr<Server>> start(IoRuntime& runtime, const ServerOptions& options,
                                                 const Router& router);
  ~Server();  // stop(0)

  uint16_t port() const;
  size_t n_open_sessions() const;

  // Stops accepting; idle keep-alive connections close at once, in-flight requests get up to `grace` to finish
  // (their connections then close), after which every remaining connection is closed. Blocks until done.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds{5000});

  struct Impl;

 private:
  explicit Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace fathom::http
