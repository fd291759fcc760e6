// Incremental Server-Sent Events parser (WHATWG HTML §9.2.6): feed it bytes as they arrive, in pieces of any size,
// and it calls back once per dispatched event. Lines end in CRLF, LF or CR; "data" lines join with '\n'; comments
// (":...") are skipped; an event with no data is not dispatched; an unterminated event at end of stream is dropped.
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace fathom::http {

struct SseEvent {
  std::string type = "message";  // the "event" field
  std::string data;
  std::string id;     // last event id seen so far (persists across events, as the spec says)
  int retry_ms = -1;  // the last "retry" field, -1 if none
};

class SseParser {
 public:
  using Callback = std::function<void(const SseEvent&)>;
  explicit SseParser(Callback on_event) : on_event_(std::move(on_event)) {}

  void feed(std::string_view bytes);
  // End of stream: discards a partial event (returns true if there was one).
  bool finish();

  size_t n_events() const { return n_events_; }

 private:
  void process_line(std::string_view line);
  void dispatch();

  Callback on_event_;
  std::string line_;  // the current, unterminated line
  bool skip_lf_ = false;  // last byte was CR: an LF right after it belongs to the same line end
  bool at_start_ = true;  // a leading UTF-8 BOM is ignored
  std::string data_;
  std::string type_;
  bool has_data_ = false;
  std::string last_id_;
  int retry_ms_ = -1;
  size_t n_events_ = 0;
};

}  // namespace fathom::http
