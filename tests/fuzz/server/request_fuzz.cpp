// libFuzzer target: request bodies of /v1/chat/completions, /v1/completions and /generate (the first byte picks
// the endpoint), and the streaming reasoning / tool-call parsers (the rest of the input split at points taken
// from the input). Invariants: parsing never crashes and either fails with a 4xx naming a reason or yields a
// request within the limits; streamed parser output equals the one-shot output.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/reasoning_parser.h"
#include "server/request_parser.h"
#include "server/tool_call_parser.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

void fuzz_request(uint8_t selector, std::string_view body) {
  using namespace fathom::server;
  const Endpoint ep = selector % 3 == 0 ? Endpoint::kChat : selector % 3 == 1 ? Endpoint::kCompletion
                                                                              : Endpoint::kGenerate;
  ParseLimits limits;
  ApiRequest r;
  if (auto e = parse_request(ep, body, limits, r)) {
    check(e->status >= 400 && e->status < 500, "error status is 4xx");
    check(!e->message.empty(), "error has a message");
    return;
  }
  check(!r.prompts.empty(), "a parsed request has a prompt");
  check(r.n >= 1 && r.n <= limits.max_n, "n in range");
  check(!r.sampling.max_tokens || *r.sampling.max_tokens >= 1, "max_tokens positive");
  check(r.top_logprobs >= 0 && r.top_logprobs <= limits.max_top_logprobs, "top_logprobs in range");
  for (const auto& p : r.prompts)
    for (int32_t id : p.ids) check(id >= 0 && id < limits.vocab_size, "prompt ids in the vocabulary");
  for (const auto& [id, b] : r.sampling.logit_bias) check(id >= 0 && id < limits.vocab_size && b >= -100 && b <= 100, "logit_bias");
  for (const auto& s : r.stop) check(!s.empty(), "stop strings non-empty");
}

void fuzz_parsers(std::string_view text, uint8_t step) {
  using namespace fathom::server;
  const size_t n = 1 + step % 7;
  ReasoningParser whole, pieces;
  ReasoningSplit a = whole.feed(text), af = whole.finish();
  std::string reasoning, content;
  for (size_t i = 0; i < text.size(); i += n) {
    ReasoningSplit s = pieces.feed(text.substr(i, n));
    reasoning += s.reasoning;
    content += s.content;
  }
  ReasoningSplit f = pieces.finish();
  check(reasoning + f.reasoning == a.reasoning + af.reasoning, "reasoning: streamed == one-shot");
  check(content + f.content == a.content + af.content, "content: streamed == one-shot");

  ToolCallParser tw, tp;
  ToolParse ta = tw.feed(text), taf = tw.finish();
  std::string tcontent;
  size_t calls = 0;
  for (size_t i = 0; i < text.size(); i += n) {
    ToolParse p = tp.feed(text.substr(i, n));
    tcontent += p.content;
    calls += p.calls.size();
  }
  ToolParse tf = tp.finish();
  check(calls == ta.calls.size(), "tool calls: streamed == one-shot count");
  check(tcontent + tf.content == ta.content + taf.content, "tool content: streamed == one-shot");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  if (data[0] & 0x80) {
    fuzz_parsers(rest, data[1]);
  } else {
    fuzz_request(data[0], rest);
  }
  return 0;
}
