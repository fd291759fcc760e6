// The reply side of one HTTP exchange, handed to a route handler. Every method is thread-safe and returns at once:
// a handler may answer later from any thread (an engine result channel, an upstream client callback) without
// holding an io thread. The session owns the socket; the responder only queues bytes for it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/types.h"

namespace fathom::http {

class Responder {
 public:
  virtual ~Responder() = default;

  // One complete response (Content-Length framing). Ignored after begin() or when the client is gone.
  virtual void send(Response response) = 0;

  // A streamed response: the status line and headers now, body pieces through write(), then end().
  // content_length < 0 → chunked transfer encoding; otherwise exactly that many bytes must be written.
  virtual void begin(int status, Headers headers, int64_t content_length = -1) = 0;

  // Queues one body piece (sent as one chunk when chunked). on_written(true) runs on an io thread once the bytes
  // are on the wire, on_written(false) if the connection failed first: use it for back-pressure.
  virtual void write(std::string data, std::function<void(bool)> on_written = {}) = 0;

  // Finishes a streamed response; the connection is then reused (keep-alive) or closed.
  virtual void end() = 0;

  // Drops the connection now: the client sees a truncated response (for a body that failed after its head went
  // out, where no status can be sent any more).
  virtual void abort() = 0;

  // Runs once, on an io thread, when the client goes away before the response finished (at once if it already
  // has). The handler uses it to cancel the work behind the response (engine request, upstream call).
  virtual void on_disconnect(std::function<void()> callback) = 0;

  virtual bool disconnected() const = 0;

  // Bytes queued but not yet written to the socket (a slow reader makes this grow).
  virtual size_t queued_bytes() const = 0;
};

using ResponderPtr = std::shared_ptr<Responder>;

// Handlers run on an io thread and must not block; they never throw (a wrapper turns an escaped exception into a
// 500 anyway). A handler that drops its responder without answering produces a 500.
using Handler = std::function<void(Request request, ResponderPtr responder)>;

}  // namespace fathom::http
