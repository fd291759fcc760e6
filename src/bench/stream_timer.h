// Times one request from the bytes of its response, as vLLM's and LMDeploy's benchmark clients do:
//   TTFT    = arrival of the first chunk whose text is non-empty − start (role-only, reasoning-only and
//             usage-only chunks do not count);
//   ITL     = the gap between each later text chunk and the one before it (per chunk, not per token);
//   latency = arrival of the last SSE event (the [DONE] included) − start;
//   output tokens = the server's usage.completion_tokens when sent, else the requested length when ignore_eos
//             was asked (the server then generates exactly that many), else unknown (-1: the caller re-tokenizes).
// Non-streamed responses: TTFT = latency = arrival of the whole body. Pure logic, no clock: the caller passes the
// arrival time of each piece, so tests can replay exact timings.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "bench/backend.h"
#include "bench/bench_types.h"
#include "http/sse_parser.h"

namespace fathom::bench {

class StreamTimer {
 public:
  StreamTimer(Backend backend, bool streamed, bool ignore_eos, const BenchRequest& request, double start_time);

  void on_status(int status);
  void on_data(double now, std::string_view bytes);
  // transport_error: empty when the body completed. Returns the finished measurement.
  RequestResult finish(double now, std::string_view transport_error);

  bool got_first_token() const { return n_text_chunks_ > 0; }

 private:
  void on_event(const http::SseEvent& ev);
  void on_json(std::string_view json);

  Backend backend_;
  bool streamed_;
  bool ignore_eos_;
  RequestResult r_;
  int status_ = 0;
  std::string body_;  // the error body (non-200) or the whole body (non-streamed)
  std::optional<http::SseParser> sse_;
  double now_ = 0;             // arrival time of the piece being parsed
  double last_text_time_ = 0;  // arrival of the previous text chunk
  double last_event_time_ = -1;
  size_t n_text_chunks_ = 0;
  std::string protocol_error_;
};

}  // namespace fathom::bench
