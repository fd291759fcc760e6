// Stop strings on the text side (shared by the HTTP server and the CLI): feed the detokenized text as it
// streams; text that might be the start of a stop string is held back, so a stop string never reaches the
// client. Once one matches, everything from it on is dropped and the caller aborts the request.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace fathom {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stop_strings);

  // Returns the text that is now safe to emit. After a match it returns the text before the stop string once,
  // then "" for every later call.
  std::string feed(std::string_view piece);
  // At the end of generation (no match): the held-back remainder.
  std::string flush();

  bool stopped() const { return matched_ >= 0; }
  // The stop string that matched ("" if none).
  const std::string& matched() const;

 private:
  std::vector<std::string> stops_;
  std::string held_;
  int matched_ = -1;
  size_t max_len_ = 0;
};

}  // namespace fathom
