#include "server/tool_call_parser.h"

#include "server/text_hold.h"

namespace fathom::server {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool parse_tool_call_body(std::string_view body, ToolCall& out) {
  const size_t sep = body.find(ToolCallParser::kSep);
  if (sep == std::string_view::npos) return false;
  out.type = std::string(trim(body.substr(0, sep)));
  if (out.type.empty()) out.type = "function";
  std::string_view rest = body.substr(sep + ToolCallParser::kSep.size());
  const size_t nl = rest.find('\n');
  out.name = std::string(trim(rest.substr(0, nl)));
  std::string_view args = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  args = trim(args);
  // The arguments sit in a ```json fence; take what is inside it when it is there.
  if (args.starts_with("```")) {
    const size_t first_nl = args.find('\n');
    args = first_nl == std::string_view::npos ? std::string_view{} : args.substr(first_nl + 1);
    if (args.ends_with("```")) args.remove_suffix(3);
    args = trim(args);
  }
  out.arguments = args.empty() ? "{}" : std::string(args);
  return !out.name.empty();
}

ToolParse ToolCallParser::feed(std::string_view text) {
  ToolParse out;
  held_.append(text);
  for (;;) {
    if (!in_section_) {
      const size_t begin = held_.find(kCallsBegin);
      if (begin == std::string::npos) {
        const size_t keep = partial_marker_suffix(held_, kCallsBegin);
        out.content += held_.substr(0, held_.size() - keep);
        held_.erase(0, held_.size() - keep);
        return out;
      }
      out.content += held_.substr(0, begin);
      section_ = std::string(kCallsBegin);
      held_.erase(0, begin + kCallsBegin.size());
      in_section_ = true;
      continue;
    }
    // Inside the section: complete calls, then the section end.
    const size_t call_begin = held_.find(kCallBegin);
    const size_t calls_end = held_.find(kCallsEnd);
    if (calls_end != std::string::npos && (call_begin == std::string::npos || calls_end < call_begin)) {
      section_.clear();
      held_.erase(0, calls_end + kCallsEnd.size());
      in_section_ = false;
      continue;
    }
    if (call_begin == std::string::npos) return out;
    const size_t call_end = held_.find(kCallEnd, call_begin);
    if (call_end == std::string::npos) return out;
    const size_t body_at = call_begin + kCallBegin.size();
    ToolCall call;
    if (parse_tool_call_body(std::string_view(held_).substr(body_at, call_end - body_at), call)) {
      out.calls.push_back(std::move(call));
      ++n_calls_;
    }
    const size_t consumed = call_end + kCallEnd.size();
    section_.append(held_, 0, consumed);
    held_.erase(0, consumed);
  }
}

ToolParse ToolCallParser::finish() {
  ToolParse out;
  if (in_section_) {
    // Unterminated: whatever did not become a call goes back to the client as text.
    if (n_calls_ == 0) out.content = section_;
    out.content += held_;
  } else {
    out.content = held_;
  }
  held_.clear();
  section_.clear();
  in_section_ = false;
  return out;
}

}  // namespace fathom::server
