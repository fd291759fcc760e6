// Writes an SSE stream over a Responder (chunked transfer encoding): begin() sends the headers, each event becomes
// one chunk, done() sends the OpenAI terminator "data: [DONE]". Thread-safe like the Responder underneath, so an
// engine thread can push events directly.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "http/responder.h"

namespace fathom::http {

// "data: <line>\n" per line of `data`, then a blank line (an optional "event:" first).
std::string format_sse_event(std::string_view data, std::string_view event_type = {});

class SseWriter {
 public:
  explicit SseWriter(ResponderPtr responder) : responder_(std::move(responder)) {}

  void begin(Headers extra_headers = {});
  // on_written as in Responder::write: use it to wait for a slow client before producing more.
  void send(std::string_view data, std::function<void(bool)> on_written = {});
  void send_event(std::string_view event_type, std::string_view data);
  void done();  // "data: [DONE]" then end of response
  void end();   // end of response without [DONE]

  bool disconnected() const { return responder_->disconnected(); }
  void on_disconnect(std::function<void()> cb) { responder_->on_disconnect(std::move(cb)); }
  size_t queued_bytes() const { return responder_->queued_bytes(); }

 private:
  ResponderPtr responder_;
};

}  // namespace fathom::http
