#include "http/sse_parser.h"

#include <gtest/gtest.h>

#include <vector>

#include "http/sse_writer.h"

namespace fathom::http {
namespace {

std::vector<SseEvent> parse_all(std::string_view text, size_t piece) {
  std::vector<SseEvent> out;
  SseParser p([&](const SseEvent& e) { out.push_back(e); });
  for (size_t i = 0; i < text.size(); i += piece) p.feed(text.substr(i, piece));
  return out;
}

TEST(SseParser, OpenAiStreamInAnySplit) {
  std::string text =
      "data: {\"a\":1}\n\n"
      "data: {\"b\":2}\r\n\r\n"
      ": keep-alive comment\n\n"
      "data: [DONE]\r\r";
  for (size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    auto ev = parse_all(text, piece);
    ASSERT_EQ(ev.size(), 3u) << "piece " << piece;
    EXPECT_EQ(ev[0].data, "{\"a\":1}");
    EXPECT_EQ(ev[1].data, "{\"b\":2}");
    EXPECT_EQ(ev[2].data, "[DONE]");
    EXPECT_EQ(ev[0].type, "message");
  }
}

TEST(SseParser, MultiLineDataEventIdRetry) {
  auto ev = parse_all("event: update\nid: 7\nretry: 1500\ndata: line1\ndata:line2\ndata\n\n", 5);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "update");
  EXPECT_EQ(ev[0].id, "7");
  EXPECT_EQ(ev[0].retry_ms, 1500);
  EXPECT_EQ(ev[0].data, "line1\nline2\n");  // a bare "data" line adds an empty line
}

TEST(SseParser, EventWithoutDataIsNotDispatchedAndTypeResets) {
  auto ev = parse_all("event: ping\n\ndata: x\n\n", 4);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, "message");
}

TEST(SseParser, BomSkippedAndUnterminatedEventDropped) {
  std::vector<SseEvent> out;
  SseParser p([&](const SseEvent& e) { out.push_back(e); });
  p.feed("\xEF\xBB");
  p.feed("\xBF" "data: first\n\ndata: partial");
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "first");
  EXPECT_TRUE(p.finish());
  EXPECT_EQ(out.size(), 1u);
}

TEST(SseParser, CrLfSplitAcrossFeeds) {
  std::vector<SseEvent> out;
  SseParser p([&](const SseEvent& e) { out.push_back(e); });
  p.feed("data: a\r");
  p.feed("\n\r");
  p.feed("\ndata: b\r\n\r\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, "a");
  EXPECT_EQ(out[1].data, "b");
}

TEST(SseWriter, FormatRoundTrips) {
  std::string s = format_sse_event("x\ny", "delta") + format_sse_event("{}");
  EXPECT_EQ(s, "event: delta\ndata: x\ndata: y\n\ndata: {}\n\n");
  auto ev = parse_all(s, 3);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].data, "x\ny");
  EXPECT_EQ(ev[0].type, "delta");
}

}  // namespace
}  // namespace fathom::http
