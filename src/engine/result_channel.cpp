#include "engine/result_channel.h"

#include "core/check.h"

namespace fathom {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::STOP: return "stop";
    case FinishReason::LENGTH: return "length";
    case FinishReason::ABORT: return "abort";
    case FinishReason::ERROR: return "error";
    case FinishReason::NONE: break;
  }
  return "";
}

void ResultChannel::push(const GenerationEvent& ev) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    FATHOM_CHECK(!closed_);
    pending_.token_ids.insert(pending_.token_ids.end(), ev.token_ids.begin(), ev.token_ids.end());
    pending_.logprobs.insert(pending_.logprobs.end(), ev.logprobs.begin(), ev.logprobs.end());
    pending_.usage = ev.usage;
    if (ev.finished()) {
      pending_.finish = ev.finish;
      pending_.error = ev.error;
      closed_ = true;
    }
    has_news_ = true;
  }
  cv_.notify_one();
}

bool ResultChannel::next(GenerationEvent& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return has_news_; })) return false;
  out = std::move(pending_);
  pending_ = GenerationEvent{};
  pending_.usage = out.usage;
  has_news_ = false;
  return true;
}

GenerationEvent ResultChannel::wait_all() {
  GenerationEvent all, ev;
  while (!all.finished()) {
    if (!next(ev, std::chrono::milliseconds(1000))) continue;
    all.token_ids.insert(all.token_ids.end(), ev.token_ids.begin(), ev.token_ids.end());
    all.logprobs.insert(all.logprobs.end(), ev.logprobs.begin(), ev.logprobs.end());
    all.usage = ev.usage;
    all.finish = ev.finish;
    all.error = ev.error;
  }
  return all;
}

}  // namespace fathom
