#include "http/sse_writer.h"

namespace fathom::http {

std::string format_sse_event(std::string_view data, std::string_view event_type) {
  std::string out;
  out.reserve(data.size() + 16);
  if (!event_type.empty()) {
    out += "event: ";
    out += event_type;
    out += '\n';
  }
  size_t start = 0;
  while (true) {
    size_t nl = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += '\n';
  return out;
}

void SseWriter::begin(Headers extra_headers) {
  Headers h = std::move(extra_headers);
  if (!h.has("Content-Type")) h.add("Content-Type", "text/event-stream; charset=utf-8");
  if (!h.has("Cache-Control")) h.add("Cache-Control", "no-cache");
  h.add("X-Accel-Buffering", "no");
  responder_->begin(200, std::move(h));
}

void SseWriter::send(std::string_view data, std::function<void(bool)> on_written) {
  responder_->write(format_sse_event(data), std::move(on_written));
}

void SseWriter::send_event(std::string_view event_type, std::string_view data) {
  responder_->write(format_sse_event(data, event_type));
}

void SseWriter::done() {
  responder_->write("data: [DONE]\n\n");
  responder_->end();
}

void SseWriter::end() { responder_->end(); }

}  // namespace fathom::http
