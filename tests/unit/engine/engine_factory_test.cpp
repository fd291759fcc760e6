#include "engine/engine_factory.h"

#include <gtest/gtest.h>

namespace fathom {

TEST(EngineFactory, ExplicitTokenCountRoundsUpToPages) {
  EngineOptions o;
  o.cache_tokens = 1000;
  o.cache_block_seq_len = 64;
  auto n = plan_cache_blocks(o, /*bytes_per_token=*/100, /*available=*/-1, /*weights=*/0);
  ASSERT_TRUE(n.has_value()) << n.error();
  EXPECT_EQ(*n, 16);
}

TEST(EngineFactory, FractionIsOfTheMemoryLeftAfterWeights) {
  EngineOptions o;
  o.cache_max_entry_count = 0.5;
  o.cache_block_seq_len = 10;
  // 1,000,000 available − 200,000 of weights = 800,000; half of it in pages of 10 × 100 bytes.
  auto n = plan_cache_blocks(o, 100, 1000000, 200000);
  ASSERT_TRUE(n.has_value()) << n.error();
  EXPECT_EQ(*n, 400);
}

TEST(EngineFactory, ErrorsSayWhatToChange) {
  EngineOptions o;
  o.cache_max_entry_count = 0.8;
  auto none = plan_cache_blocks(o, 1000, 100000, 200000);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().find("--cache-max-entry-count"), std::string::npos);
  o.cache_max_entry_count = 1.5;
  EXPECT_FALSE(plan_cache_blocks(o, 1, 1 << 30, 0).has_value());
  o.cache_max_entry_count = 0.8;
  o.cache_block_seq_len = 0;
  EXPECT_NE(plan_cache_blocks(o, 1, 1 << 30, 0).error().find("--cache-block-seq-len"), std::string::npos);
}

TEST(EngineFactory, MemAvailableIsReadable) {
  EXPECT_GT(mem_available_bytes(), 0);
}

TEST(EngineFactory, LoadErrorsNameTheFolder) {
  auto e = load_engine("/nonexistent/model-dir", EngineOptions{});
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().find("/nonexistent/model-dir"), std::string::npos) << e.error();
}

}  // namespace fathom
