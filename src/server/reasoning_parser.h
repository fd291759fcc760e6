// --reasoning-parser deepseek-r1: splits "<think>…</think>" off the reply into reasoning_content. DeepSeek-R1's
// chat template already writes "<think>\n" into the prompt, so the reply starts in reasoning mode whether or not
// the model repeats the opening tag; everything before the first "</think>" is reasoning, the rest is content (no
// closing tag at all: all reasoning, as LMDeploy's parser does). Works on streamed pieces: a tail that may be the
// start of a tag is held back until the next piece.
#pragma once
#include <string>
#include <string_view>

namespace fathom::server {

struct ReasoningSplit {
  std::string reasoning;
  std::string content;
};

class ReasoningParser {
 public:
  ReasoningSplit feed(std::string_view text);
  ReasoningSplit finish();  // flushes what was held back

  static constexpr std::string_view kOpen = "<think>";
  static constexpr std::string_view kClose = "</think>";

 private:
  std::string held_;
  bool at_start_ = true;    // a leading "<think>" is still possible
  bool in_reasoning_ = true;
};

}  // namespace fathom::server
