// Plain values shared by the serving benchmark's parts: a prompt to send and what one request measured.
// Times are seconds on the benchmark's steady clock (0 = when the run began).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fathom::bench {

struct BenchRequest {
  std::string prompt;      // text sent as the prompt (completions) or the one user message (chat)
  int32_t prompt_len = 0;  // nominal input tokens, counted into the input totals (as profile_restful_api.py)
  int32_t output_len = 0;  // max_tokens asked for
};

struct RequestResult {
  bool success = false;
  std::string error;            // why it failed ("HTTP 500: {...}", "connection closed: ...")
  int32_t prompt_len = 0;
  int32_t requested_output_len = 0;
  int64_t output_len = 0;       // output tokens counted for the metrics (see StreamTimer::finish)
  int64_t usage_completion_tokens = -1;  // from the server's usage object; -1 if none was sent
  double start_time = 0;        // when the request was handed to the client
  double ttft = 0;              // first chunk with non-empty text − start
  double latency = 0;           // last byte received − start (E2E)
  std::vector<double> itl;      // gaps between consecutive text chunks (chunk i = start + ttft + Σ itl[<i])
  std::string generated_text;
};

}  // namespace fathom::bench
