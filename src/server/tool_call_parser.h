// --tool-call-parser deepseek-v3: DeepSeek-V3's tool-call token format → OpenAI tool calls.
//
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>
//   [\n<｜tool▁call▁begin｜>…<｜tool▁call▁end｜>]…<｜tool▁calls▁end｜>
//
// Text outside the section is content. Streamed: a call is reported once its end marker arrives (name and the
// whole arguments string in one delta, which OpenAI clients accumulate like any other); a tail that may start a
// marker is held back. A section cut off by the end of generation is returned as plain content.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace fathom::server {

struct ToolCall {
  std::string type = "function";
  std::string name;
  std::string arguments;  // JSON text as the model wrote it
};

struct ToolParse {
  std::string content;
  std::vector<ToolCall> calls;  // calls completed by this piece
};

class ToolCallParser {
 public:
  ToolParse feed(std::string_view text);
  ToolParse finish();
  int n_calls() const { return n_calls_; }

  static constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
  static constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
  static constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
  static constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
  static constexpr std::string_view kSep = "<｜tool▁sep｜>";

 private:
  std::string held_;       // outside: a possible marker start; inside: the unparsed section text
  std::string section_;    // the raw section so far (returned as content if it never closes)
  bool in_section_ = false;
  int n_calls_ = 0;
};

// One call's text between kCallBegin and kCallEnd → ToolCall (false if it has no separator).
bool parse_tool_call_body(std::string_view body, ToolCall& out);

}  // namespace fathom::server
