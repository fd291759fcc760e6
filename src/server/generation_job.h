// One generation request in flight: its choices' engine channels and output pipelines, and the answer being
// built (a JSON body, or SSE chunks as tokens arrive). Driven by the StreamPump; the client going away aborts
// every choice in the engine (their pages are freed at the next step) and the job drains the ABORT events.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "http/responder.h"
#include "server/output_pipeline.h"
#include "server/response_format.h"
#include "server/server_context.h"
#include "server/stream_pump.h"

namespace fathom::server {

struct JobChoice {
  GenerateRequest request;                 // moved into the engine by start()
  std::shared_ptr<ResultChannel> channel;  // set by start()
  OutputPipeline pipeline;
  std::string echo;  // completions with echo: the prompt text, sent first
};

class GenerationJob final : public PumpJob {
 public:
  GenerationJob(std::shared_ptr<ServerContext> ctx, const ApiRequest& req, http::ResponderPtr responder,
                std::vector<JobChoice> choices, int64_t prompt_tokens, std::chrono::steady_clock::time_point t0);

  int n_requests() const override { return static_cast<int>(choices_.size()); }
  bool start() override;
  bool poll() override;
  // From the responder's disconnect callback (an io thread): abort every choice in the engine.
  void client_gone();

 private:
  struct State {
    ChoicePiece acc;         // non-streaming: the whole reply so far
    bool done = false;
    bool stop_matched = false;
    bool started = false;    // streaming: a chunk went out (the next one has no role)
    int32_t n_calls = 0;
    UsageTotals usage;
  };
  void handle(size_t k, const GenerationEvent& ev, std::vector<ChoicePiece>& pieces);
  void cancel();  // aborts every choice in the engine (once)
  void fail(const std::string& message, int status);
  void write_chunks(const std::vector<ChoicePiece>& pieces);
  void finish_response();
  UsageTotals totals() const;

  std::shared_ptr<ServerContext> ctx_;
  Endpoint endpoint_;
  bool stream_;
  bool include_usage_;
  bool want_logprobs_;
  bool parallel_tool_calls_;
  ResponseMeta meta_;
  FormatOptions fmt_;
  http::ResponderPtr res_;
  std::vector<JobChoice> choices_;
  std::vector<State> state_;
  int64_t prompt_tokens_ = 0;  // counted once per prompt (all choices of one prompt share it)
  std::chrono::steady_clock::time_point t0_;
  std::chrono::steady_clock::time_point t_first_{};
  bool have_first_ = false;
  bool failed_ = false;
  std::atomic<bool> started_{false};  // every channel exists
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> gone_{false};
};

}  // namespace fathom::server
