// Each strategy's choices match its definition (LMDeploy's algorithms, round robin, SGLang-style cache_aware).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <random>

#include "proxy/prefix_index.h"
#include "proxy/strategy.h"

namespace fathom::proxy {
namespace {

Candidate node(std::string url, int64_t unfinished = 0, std::optional<double> speed = std::nullopt,
               double mean_latency = std::numeric_limits<double>::infinity()) {
  Candidate c;
  c.url = std::move(url);
  c.unfinished = unfinished;
  c.speed = speed;
  c.mean_latency = mean_latency;
  return c;
}

TEST(Strategy, ParseNamesIsClosed) {
  EXPECT_EQ(*parse_strategy("min_expected_latency"), StrategyKind::kMinExpectedLatency);
  EXPECT_EQ(*parse_strategy("cache_aware"), StrategyKind::kCacheAware);
  EXPECT_FALSE(parse_strategy("least_busy"));
  for (auto k : {StrategyKind::kRandom, StrategyKind::kMinExpectedLatency, StrategyKind::kMinObservedLatency,
                 StrategyKind::kRoundRobin, StrategyKind::kCacheAware}) {
    EXPECT_EQ(*parse_strategy(strategy_name(k)), k);
    EXPECT_EQ(make_strategy(k, 1)->kind(), k);
  }
}

TEST(Strategy, SpeedFillIn) {
  auto s = filled_speeds({node("a", 0, 4.0), node("b"), node("c", 0, 2.0)});
  EXPECT_EQ(s, (std::vector<double>{4.0, 3.0, 2.0}));
  EXPECT_EQ(filled_speeds({node("a"), node("b")}), (std::vector<double>{1.0, 1.0}));
}

TEST(Strategy, RandomIsSpeedWeighted) {
  auto s = make_random_strategy(7);
  std::vector<Candidate> c{node("fast", 0, 2.0), node("slow", 0, 1.0)};
  int n_fast = 0;
  const int n = 30000;
  for (int i = 0; i < n; ++i) n_fast += s->pick(c, {}) == 0;
  EXPECT_NEAR(static_cast<double>(n_fast) / n, 2.0 / 3.0, 0.02);
  std::vector<Candidate> u{node("a"), node("b"), node("c")};
  std::vector<int> counts(3);
  for (int i = 0; i < n; ++i) ++counts[s->pick(u, {})];
  for (int k : counts) EXPECT_NEAR(static_cast<double>(k) / n, 1.0 / 3.0, 0.02);
}

TEST(Strategy, MinExpectedLatencyPicksSmallestUnfinishedOverSpeed) {
  auto s = make_min_expected_latency_strategy(3);
  // expected: a 4/2 = 2, b 1/1 = 1, c 3/1 = 3 → b
  for (int i = 0; i < 50; ++i) EXPECT_EQ(s->pick({node("a", 4, 2.0), node("b", 1, 1.0), node("c", 3, 1.0)}, {}), 1u);
  // Ties are broken uniformly at random.
  std::vector<int> counts(3);
  for (int i = 0; i < 9000; ++i) ++counts[s->pick({node("a", 2), node("b", 2), node("c", 5)}, {})];
  EXPECT_NEAR(counts[0], 4500, 300);
  EXPECT_NEAR(counts[1], 4500, 300);
  EXPECT_EQ(counts[2], 0);
}

// A queueing simulation: node i completes speed_i requests per tick; 3 arrive per tick. A node twice as fast
// receives about twice the requests.
TEST(Strategy, MinExpectedLatencySendsTwiceAsMuchToTwiceFasterNode) {
  auto s = make_min_expected_latency_strategy(11);
  std::vector<Candidate> c{node("fast", 0, 2.0), node("slow", 0, 1.0)};
  std::vector<int> routed(2);
  for (int tick = 0; tick < 5000; ++tick) {
    for (int k = 0; k < 3; ++k) {
      size_t i = s->pick(c, {});
      ++c[i].unfinished;
      ++routed[i];
    }
    c[0].unfinished = std::max<int64_t>(0, c[0].unfinished - 2);
    c[1].unfinished = std::max<int64_t>(0, c[1].unfinished - 1);
  }
  EXPECT_NEAR(static_cast<double>(routed[0]) / routed[1], 2.0, 0.1);
}

TEST(Strategy, MinObservedLatencyArgminWithInfForNoHistory) {
  auto s = make_min_observed_latency_strategy();
  EXPECT_EQ(s->pick({node("a", 0, {}, 0.5), node("b", 0, {}, 0.2), node("c")}, {}), 1u);
  EXPECT_EQ(s->pick({node("new"), node("old", 0, {}, 9.0)}, {}), 1u);  // LMDeploy quirk kept
  EXPECT_EQ(s->pick({node("a", 0, {}, 0.3), node("b", 0, {}, 0.3)}, {}), 0u);
  EXPECT_EQ(s->pick({node("x"), node("y")}, {}), 0u);
}

TEST(Strategy, RoundRobinCycles) {
  auto s = make_round_robin_strategy();
  std::vector<Candidate> c{node("a"), node("b"), node("c")};
  std::vector<size_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(s->pick(c, {}));
  EXPECT_EQ(got, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
}

std::string prompt_for(int group, int variant) {
  return "You are assistant number " + std::to_string(group) + ". " + std::string(400, 'a' + group % 26) +
         " Question " + std::to_string(variant);
}

TEST(Strategy, CacheAwareKeepsRepeatedPrefixesOnOneNode) {
  auto s = make_cache_aware_strategy({});
  std::vector<Candidate> c{node("a"), node("b"), node("c"), node("d")};
  std::map<int, std::set<size_t>> nodes_of_group;
  std::vector<int> per_node(4);
  for (int round = 0; round < 20; ++round) {
    for (int g = 0; g < 8; ++g) {
      size_t i = s->pick(c, {prompt_for(g, round)});
      nodes_of_group[g].insert(i);
      ++per_node[i];
    }
  }
  for (auto& [g, ns] : nodes_of_group) EXPECT_EQ(ns.size(), 1u) << "group " << g;
  // New prefixes went to the least-loaded / smallest store: the 8 groups are spread 2 per node.
  for (int n : per_node) EXPECT_EQ(n, 40);
}

TEST(Strategy, CacheAwareFallsBackToLeastLoadedUnderSkew) {
  CacheAwareOptions o;
  o.balance_abs_threshold = 4;
  o.balance_rel_threshold = 1.5;
  auto s = make_cache_aware_strategy(o);
  std::vector<Candidate> c{node("a"), node("b")};
  size_t home = s->pick(c, {prompt_for(1, 0)});
  size_t other = s->pick(c, {prompt_for(2, 0)});
  ASSERT_NE(home, other);  // a new prefix goes to the node with the smaller store
  EXPECT_EQ(s->pick(c, {prompt_for(1, 1)}), home);  // affinity while balanced
  EXPECT_EQ(s->pick(c, {prompt_for(2, 1)}), other);
  c[home].unfinished = 10;  // 10 - 0 > 4 and 10 > 1.5 * 0: imbalanced → least loaded despite the prefix
  EXPECT_EQ(s->pick(c, {prompt_for(1, 2)}), other);
  c[home].unfinished = 8;  // 8 vs 10: balanced again → affinity beats the small load difference
  c[other].unfinished = 10;
  EXPECT_EQ(s->pick(c, {prompt_for(2, 2)}), other);
}

TEST(Strategy, CacheAwareShortMatchDoesNotStick) {
  auto s = make_cache_aware_strategy({});
  std::vector<Candidate> c{node("a"), node("b")};
  size_t first = s->pick(c, {"shared-start " + std::string(200, 'x')});
  c[first].unfinished = 1;  // balanced, but a prompt sharing < 50% goes to the less loaded node
  EXPECT_NE(s->pick(c, {"shared-start " + std::string(200, 'y')}), first);
}

TEST(PrefixIndex, MatchesLeadingBlocksAndStaysBounded) {
  PrefixIndex idx(4, 10);
  idx.insert("abcdefgh", 1);
  auto m = idx.match("abcdefXX", {1, 2});
  EXPECT_EQ(m[0], 4u);  // "abcd" only: the second block differs
  EXPECT_EQ(m[1], 0u);
  EXPECT_EQ(idx.match("abcdefgh", {1})[0], 8u);
  EXPECT_EQ(idx.match("abc", {1})[0], 0u);  // a partial block is its own block
  for (int i = 0; i < 100; ++i) idx.insert("prompt number " + std::to_string(i), 2);
  EXPECT_LE(idx.n_entries(), 10u);
  EXPECT_EQ(idx.match("abcdefgh", {1})[0], 0u);  // evicted as least recently used
  idx.erase_node(2);
  EXPECT_EQ(idx.n_entries(), 0u);
}

}  // namespace
}  // namespace fathom::proxy
