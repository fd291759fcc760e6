#include "engine/stop_matcher.h"

#include <gtest/gtest.h>

namespace fathom {

std::string feed_all(StopMatcher& m, std::initializer_list<const char*> pieces) {
  std::string out;
  for (const char* p : pieces) out += m.feed(p);
  return out;
}

TEST(StopMatcher, HoldsBackAPossibleStopAndDropsIt) {
  StopMatcher m({"</end>"});
  EXPECT_EQ(m.feed("Hello </"), "Hello ");
  EXPECT_EQ(m.feed("en"), "");
  EXPECT_EQ(m.feed("d> tail"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "</end>");
  EXPECT_EQ(m.feed("more"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, ReleasesHeldTextWhenItTurnsOutNotToBeAStop) {
  StopMatcher m({"STOP"});
  std::string out = m.feed("ab ST");
  EXPECT_EQ(out, "ab ");
  out += m.feed("AR");
  EXPECT_EQ(out, "ab STAR");
  out += m.feed("S");
  EXPECT_EQ(out, "ab STAR");  // "S" could start "STOP"
  out += m.flush();
  EXPECT_EQ(out, "ab STARS");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, EarliestOfSeveralStopsWinsAndTextBeforeItIsKept) {
  StopMatcher m({"xyz", "\n\n", ""});
  EXPECT_EQ(feed_all(m, {"one\n", "\ntwo xyz"}), "one");
  EXPECT_EQ(m.matched(), "\n\n");
}

TEST(StopMatcher, StopInsideOnePieceAndNoStopsAtAll) {
  StopMatcher m({"cd"});
  EXPECT_EQ(m.feed("abcdef"), "ab");
  StopMatcher none({});
  EXPECT_EQ(none.feed("anything"), "anything");
  EXPECT_EQ(none.flush(), "");
}

}  // namespace fathom
