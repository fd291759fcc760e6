#include "http/sse_parser.h"

namespace fathom::http {

void SseParser::feed(std::string_view bytes) {
  if (at_start_ && !bytes.empty()) {
    // Wait until 3 bytes are known before deciding about a BOM.
    line_.append(bytes);
    if (line_.size() < 3 && std::string_view("\xEF\xBB\xBF").starts_with(line_)) return;
    at_start_ = false;
    std::string pending;
    pending.swap(line_);
    std::string_view p = pending;
    if (p.starts_with("\xEF\xBB\xBF")) p.remove_prefix(3);
    feed(p);
    return;
  }
  size_t i = 0;
  if (skip_lf_ && !bytes.empty()) {
    skip_lf_ = false;
    if (bytes[0] == '\n') i = 1;
  }
  while (i < bytes.size()) {
    size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      line_.append(bytes.substr(i));
      return;
    }
    if (line_.empty()) {
      process_line(bytes.substr(i, end - i));
    } else {
      line_.append(bytes.substr(i, end - i));
      process_line(line_);
      line_.clear();
    }
    if (bytes[end] == '\r') {
      if (end + 1 < bytes.size()) {
        i = end + (bytes[end + 1] == '\n' ? 2 : 1);
      } else {
        skip_lf_ = true;
        i = end + 1;
      }
    } else {
      i = end + 1;
    }
  }
}

bool SseParser::finish() {
  bool partial = has_data_ || !line_.empty();
  line_.clear();
  data_.clear();
  type_.clear();
  has_data_ = false;
  return partial;
}

void SseParser::process_line(std::string_view line) {
  if (line.empty()) {
    dispatch();
    return;
  }
  if (line[0] == ':') return;
  std::string_view field = line;
  std::string_view value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    if (!value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos && value.size() < 10) {
      retry_ms_ = std::stoi(std::string(value));
    }
  }
}

void SseParser::dispatch() {
  if (!has_data_) {
    type_.clear();
    return;
  }
  SseEvent ev;
  if (!type_.empty()) ev.type = type_;
  ev.data = std::move(data_);
  ev.id = last_id_;
  ev.retry_ms = retry_ms_;
  data_.clear();
  type_.clear();
  has_data_ = false;
  ++n_events_;
  if (on_event_) on_event_(ev);
}

}  // namespace fathom::http
