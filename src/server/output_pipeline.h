// One choice's way from token ids to what the client sees: incremental detokenization → stop strings (held back,
// cut) → reasoning parser → tool-call parser. Runs on the HTTP side, one per choice, not thread-safe.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"
#include "engine/stop_matcher.h"
#include "server/reasoning_parser.h"
#include "server/tool_call_parser.h"
#include "tokenizer/tokenizer.h"

namespace fathom::server {

struct PipelineOptions {
  bool skip_special_tokens = true;
  std::vector<std::string> stop;
  bool include_stop_str_in_output = false;
  bool reasoning = false;   // --reasoning-parser deepseek-r1
  bool tool_calls = false;  // --tool-call-parser deepseek-v3 and the request has tools (tool_choice != none)
};

struct ChoiceDelta {
  std::string content;
  std::string reasoning;
  std::vector<ToolCall> tool_calls;
  std::vector<int32_t> token_ids;     // accepted this time (none after a stop string matched)
  std::vector<TokenLogprob> logprobs; // one per accepted token when asked for
  bool empty() const { return content.empty() && reasoning.empty() && tool_calls.empty() && token_ids.empty(); }
};

class OutputPipeline {
 public:
  OutputPipeline(std::shared_ptr<const Tokenizer> tokenizer, PipelineOptions options);

  // The event's new tokens. After a stop string matched, later tokens are ignored (the caller aborts).
  ChoiceDelta push(const GenerationEvent& ev);
  // The end of generation: text still held back (incomplete UTF-8, a possible stop or tag prefix).
  ChoiceDelta finish();

  bool stopped() const { return matcher_.stopped(); }
  int64_t n_tokens() const { return n_tokens_; }  // tokens accepted so far
  int n_tool_calls() const { return tools_ ? tools_->n_calls() : 0; }

 private:
  void route(std::string text, ChoiceDelta& out, bool final);

  std::shared_ptr<const Tokenizer> tok_;
  PipelineOptions opt_;
  IncrementalDetokenizer detok_;
  StopMatcher matcher_;
  std::optional<ReasoningParser> reasoning_;
  std::optional<ToolCallParser> tools_;
  int64_t n_tokens_ = 0;
  bool finished_ = false;
};

}  // namespace fathom::server
