#include "bench/stream_timer.h"

#include <algorithm>

namespace fathom::bench {

namespace {
constexpr size_t kMaxErrorBody = 2048;
constexpr size_t kMaxWholeBody = 64u << 20;
}  // namespace

StreamTimer::StreamTimer(Backend backend, bool streamed, bool ignore_eos, const BenchRequest& request,
                         double start_time)
    : backend_(backend), streamed_(streamed), ignore_eos_(ignore_eos) {
  r_.prompt_len = request.prompt_len;
  r_.requested_output_len = request.output_len;
  r_.start_time = start_time;
}

void StreamTimer::on_status(int status) {
  status_ = status;
  if (status_ == 200 && streamed_) {
    sse_.emplace([this](const http::SseEvent& ev) { on_event(ev); });
  }
}

void StreamTimer::on_data(double now, std::string_view bytes) {
  now_ = now;
  if (status_ != 200) {
    body_.append(bytes.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, body_.size())));
    return;
  }
  if (!streamed_) {
    if (body_.size() + bytes.size() <= kMaxWholeBody) body_.append(bytes);
    return;
  }
  sse_->feed(bytes);
}

void StreamTimer::on_event(const http::SseEvent& ev) {
  last_event_time_ = now_;
  if (ev.data == "[DONE]" || !protocol_error_.empty()) return;
  on_json(ev.data);
}

void StreamTimer::on_json(std::string_view json) {
  auto chunk = parse_chunk(backend_, json, streamed_);
  if (!chunk) {
    protocol_error_ = chunk.error();
    return;
  }
  if (chunk->completion_tokens >= 0) r_.usage_completion_tokens = chunk->completion_tokens;
  if (chunk->text.empty()) return;
  if (n_text_chunks_ == 0) {
    r_.ttft = now_ - r_.start_time;
  } else {
    r_.itl.push_back(now_ - last_text_time_);
  }
  last_text_time_ = now_;
  ++n_text_chunks_;
  r_.generated_text += chunk->text;
}

RequestResult StreamTimer::finish(double now, std::string_view transport_error) {
  if (!transport_error.empty()) {
    r_.error = std::string(transport_error);
  } else if (status_ != 200) {
    r_.error = "HTTP " + std::to_string(status_) + ": " + body_;
  } else if (!streamed_) {
    now_ = now;
    last_event_time_ = now;
    on_json(body_);
    if (n_text_chunks_ > 0) r_.ttft = now - r_.start_time;
  }
  if (r_.error.empty() && !protocol_error_.empty()) r_.error = protocol_error_;
  if (r_.error.empty() && n_text_chunks_ == 0 && r_.requested_output_len > 0) {
    r_.error = "no chunk with text arrived (TTFT cannot be measured)";
  }
  r_.success = r_.error.empty();
  r_.latency = (last_event_time_ >= 0 ? last_event_time_ : now) - r_.start_time;
  if (r_.usage_completion_tokens >= 0) {
    r_.output_len = r_.usage_completion_tokens;
  } else if (ignore_eos_) {
    r_.output_len = r_.requested_output_len;
  } else {
    r_.output_len = -1;
  }
  return std::move(r_);
}

}  // namespace fathom::bench
