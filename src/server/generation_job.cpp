#include "server/generation_job.h"

#include <ctime>

#include "http/sse_writer.h"

namespace fathom::server {

namespace {

const char* finish_name(FinishReason r) {
  switch (r) {
    case FinishReason::STOP: return "stop";
    case FinishReason::LENGTH: return "length";
    case FinishReason::ABORT: return "abort";
    case FinishReason::ERROR: return "error";
    case FinishReason::NONE: break;
  }
  return "";
}

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

GenerationJob::GenerationJob(std::shared_ptr<ServerContext> ctx, const ApiRequest& req, http::ResponderPtr responder,
                             std::vector<JobChoice> choices, int64_t prompt_tokens,
                             std::chrono::steady_clock::time_point t0)
    : ctx_(std::move(ctx)),
      endpoint_(req.endpoint),
      stream_(req.stream),
      include_usage_(req.include_usage),
      want_logprobs_(req.logprobs),
      parallel_tool_calls_(req.parallel_tool_calls),
      res_(std::move(responder)),
      choices_(std::move(choices)),
      state_(choices_.size()),
      prompt_tokens_(prompt_tokens),
      t0_(t0) {
  meta_.id = ctx_->make_id(endpoint_ == Endpoint::kChat ? "chatcmpl-" : "cmpl-");
  meta_.created = static_cast<int64_t>(std::time(nullptr));
  meta_.model = ctx_->cfg.model_name;
  fmt_.logprobs = req.logprobs;
  fmt_.include_usage = req.include_usage;
  fmt_.return_token_ids = req.return_token_ids;
  fmt_.has_reasoning = ctx_->cfg.reasoning_parser;
  fmt_.call_id_prefix = "call_" + meta_.id.substr(meta_.id.find('-') + 1, 12) + "_";
  for (size_t k = 0; k < state_.size(); ++k) {
    state_[k].acc.index = static_cast<int32_t>(k);
    state_[k].acc.content = choices_[k].echo;
  }
  if (stream_) {
    http::Headers h;
    h.set("Content-Type", "text/event-stream");
    h.set("Cache-Control", "no-cache");
    h.set("X-Accel-Buffering", "no");
    res_->begin(200, std::move(h));
  }
  ctx_->metrics.n_http_in_flight.fetch_add(1, std::memory_order_relaxed);
}

void GenerationJob::client_gone() {
  gone_.store(true);
  cancel();
}

void GenerationJob::cancel() {
  if (cancelled_.exchange(true)) return;
  // Before start() nothing is in the engine; start() checks cancelled_ after publishing started_.
  if (started_.load())
    for (const JobChoice& c : choices_) ctx_->engine->abort(c.channel->request_id());
}

bool GenerationJob::start() {
  if (gone_.load() || res_->disconnected()) {  // the client left while the job waited for admission
    ctx_->metrics.n_http_in_flight.fetch_sub(1, std::memory_order_relaxed);
    ctx_->metrics.n_requests_aborted.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  for (JobChoice& c : choices_) c.channel = ctx_->engine->submit(std::move(c.request));
  started_.store(true);
  if (cancelled_.load())
    for (const JobChoice& c : choices_) ctx_->engine->abort(c.channel->request_id());
  return false;
}

UsageTotals GenerationJob::totals() const {
  UsageTotals u;
  u.prompt_tokens = prompt_tokens_;
  for (const State& s : state_) {
    u.completion_tokens += s.usage.completion_tokens;
    u.cached_tokens += s.usage.cached_tokens;
  }
  u.cached_tokens = std::min(u.cached_tokens, u.prompt_tokens);
  return u;
}

void GenerationJob::handle(size_t k, const GenerationEvent& ev, std::vector<ChoicePiece>& pieces) {
  State& s = state_[k];
  JobChoice& c = choices_[k];
  if (ev.finish == FinishReason::ERROR) {
    s.done = true;
    fail(ev.error.empty() ? "the engine refused the request" : ev.error, 400);
    return;
  }
  if (!ev.token_ids.empty() && !have_first_) {
    have_first_ = true;
    t_first_ = std::chrono::steady_clock::now();
    ctx_->metrics.ttft.observe(seconds(t_first_ - t0_));
  }
  ChoiceDelta d = c.pipeline.push(ev);
  if (c.pipeline.stopped() && !s.stop_matched) {
    s.stop_matched = true;
    if (!ev.finished()) ctx_->engine->abort(c.channel->request_id());
  }
  if (!parallel_tool_calls_) {  // parallel_tool_calls: false keeps the first call only
    const size_t room = (s.n_calls > 0 || !s.acc.tool_calls.empty()) ? 0 : 1;
    if (d.tool_calls.size() > room) d.tool_calls.resize(room);
  }
  std::string reason;
  if (ev.finished()) {
    ChoiceDelta f = c.pipeline.finish();
    d.content += f.content;
    d.reasoning += f.reasoning;
    for (auto& call : f.tool_calls) d.tool_calls.push_back(std::move(call));
    s.done = true;
    reason = s.stop_matched ? "stop" : finish_name(ev.finish);
    if (c.pipeline.n_tool_calls() > 0 && reason == "stop") reason = "tool_calls";
    s.usage.prompt_tokens = ev.usage.prompt_tokens;
    s.usage.cached_tokens = ev.usage.cached_tokens;
    s.usage.completion_tokens = s.stop_matched ? c.pipeline.n_tokens() : ev.usage.completion_tokens;
  }
  if (stream_) {
    if (d.empty() && reason.empty()) return;
    ChoicePiece p;
    p.index = static_cast<int32_t>(k);
    p.first = !s.started;
    p.content = s.started ? std::move(d.content) : c.echo + d.content;
    p.reasoning = std::move(d.reasoning);
    p.tool_call_base = s.n_calls;
    s.n_calls += static_cast<int32_t>(d.tool_calls.size());
    p.tool_calls = std::move(d.tool_calls);
    p.token_ids = std::move(d.token_ids);
    p.logprobs = std::move(d.logprobs);
    p.finish_reason = std::move(reason);
    s.started = true;
    pieces.push_back(std::move(p));
  } else {
    ChoicePiece& a = s.acc;
    a.content += d.content;
    a.reasoning += d.reasoning;
    for (auto& call : d.tool_calls) a.tool_calls.push_back(std::move(call));
    a.token_ids.insert(a.token_ids.end(), d.token_ids.begin(), d.token_ids.end());
    for (auto& lp : d.logprobs) a.logprobs.push_back(std::move(lp));
    if (!reason.empty()) a.finish_reason = std::move(reason);
  }
}

void GenerationJob::fail(const std::string& message, int status) {
  if (failed_) return;
  failed_ = true;
  cancel();
  ctx_->metrics.n_requests_failed.fetch_add(1, std::memory_order_relaxed);
  ApiError e{status, message, std::nullopt, status >= 500 ? http::ErrorType::kServer : http::ErrorType::kInvalidRequest};
  if (stream_) {
    // Mid-stream: the status is already 200, so the error goes in-band, then the terminator.
    res_->write(http::format_sse_event(error_json(e)));
    res_->write(http::format_sse_event("[DONE]"));
    res_->end();
  } else {
    res_->send(error_response(e));
  }
}

void GenerationJob::write_chunks(const std::vector<ChoicePiece>& pieces) {
  const Tokenizer& tok = *ctx_->tokenizer;
  std::string out;
  for (const ChoicePiece& p : pieces) {
    std::string body;
    if (endpoint_ == Endpoint::kChat) {
      body = chat_chunk(meta_, {p}, fmt_, tok);
    } else if (endpoint_ == Endpoint::kCompletion) {
      body = completion_chunk(meta_, {p}, fmt_, tok);
    } else {
      UsageTotals u = totals();
      u.completion_tokens = choices_[0].pipeline.n_tokens();
      body = generate_body(p, u, want_logprobs_);
    }
    out += http::format_sse_event(body);
  }
  if (!out.empty()) res_->write(std::move(out));
}

void GenerationJob::finish_response() {
  const auto t_end = std::chrono::steady_clock::now();
  const UsageTotals u = totals();
  ServerMetrics& m = ctx_->metrics;
  m.prompt_tokens.fetch_add(u.prompt_tokens, std::memory_order_relaxed);
  m.generation_tokens.fetch_add(u.completion_tokens, std::memory_order_relaxed);
  m.cached_tokens.fetch_add(u.cached_tokens, std::memory_order_relaxed);
  m.e2e.observe(seconds(t_end - t0_));
  if (have_first_ && u.completion_tokens > 1)
    m.tpot.observe(seconds(t_end - t_first_) / static_cast<double>(u.completion_tokens - 1));
  m.n_requests_success.fetch_add(1, std::memory_order_relaxed);
  if (stream_) {
    std::string out;
    if (include_usage_ && endpoint_ != Endpoint::kGenerate)
      out += http::format_sse_event(usage_chunk(meta_, endpoint_, u));
    out += http::format_sse_event("[DONE]");
    res_->write(std::move(out));
    res_->end();
    return;
  }
  std::vector<ChoicePiece> all;
  all.reserve(state_.size());
  for (State& s : state_) all.push_back(std::move(s.acc));
  const Tokenizer& tok = *ctx_->tokenizer;
  std::string body;
  if (endpoint_ == Endpoint::kChat) {
    body = chat_response(meta_, all, u, fmt_, tok);
  } else if (endpoint_ == Endpoint::kCompletion) {
    body = completion_response(meta_, all, u, fmt_, tok);
  } else {
    body = generate_body(all[0], u, want_logprobs_);
  }
  res_->send(http::json_response(200, std::move(body)));
}

bool GenerationJob::poll() {
  bool gone = gone_.load() || res_->disconnected();
  if (gone) cancel();
  // A slow reader: leave the tokens in the channels (they merge there) until the socket drains.
  if (!gone && !failed_ && stream_ && res_->queued_bytes() > ctx_->cfg.max_stream_backlog) return false;
  std::vector<ChoicePiece> pieces;
  bool all_done = true;
  for (size_t k = 0; k < choices_.size(); ++k) {
    if (state_[k].done) continue;
    GenerationEvent ev;
    if (choices_[k].channel->next(ev, std::chrono::milliseconds(0))) {
      if (gone || failed_) {
        state_[k].done = ev.finished();
      } else {
        handle(k, ev, pieces);
      }
    }
    all_done &= state_[k].done;
  }
  // Again: the ABORT just read may be the one the disconnect caused while this poll ran.
  gone = gone || gone_.load() || res_->disconnected();
  if (!gone && !failed_ && stream_ && !pieces.empty()) write_chunks(pieces);
  if (!all_done) return false;
  ctx_->metrics.n_http_in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (gone) {
    ctx_->metrics.n_requests_aborted.fetch_add(1, std::memory_order_relaxed);
  } else if (!failed_) {
    finish_response();
  }
  return true;
}

}  // namespace fathom::server
