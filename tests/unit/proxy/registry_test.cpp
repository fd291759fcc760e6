#include "proxy/node_registry.h"

#include <gtest/gtest.h>

#include <thread>

namespace fathom::proxy {
namespace {

using namespace std::chrono_literals;

NodeRegistry make(HealthOptions o = {}) { return NodeRegistry(make_round_robin_strategy(), o); }

TEST(Registry, AddRemoveAndRouteByModel) {
  auto r = make();
  r.add("http://a:1", NodeRole::kHybrid, {"m1"}, std::nullopt);
  r.add("http://b:1", NodeRole::kHybrid, {"m1", "m2"}, 3.0);
  EXPECT_TRUE(r.contains("http://a:1"));
  RouteFailure why;
  EXPECT_EQ(*r.route("m2", {}, {}, &why), "http://b:1");
  EXPECT_FALSE(r.route("nope", {}, {}, &why));
  EXPECT_EQ(why, RouteFailure::kUnknownModel);
  EXPECT_TRUE(r.route("", {}, {}, &why));  // no model named: any node
  EXPECT_TRUE(r.remove("http://b:1"));
  EXPECT_FALSE(r.remove("http://b:1"));
  EXPECT_FALSE(r.route("m2", {}, {}, &why));
}

TEST(Registry, UnfinishedAndLatencyWindow) {
  auto r = make();
  r.add("http://a:1", NodeRole::kHybrid, {"m"}, std::nullopt);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(r.route("m", {}, {}, nullptr));
  EXPECT_EQ(r.snapshot()[0].unfinished, 20);
  for (int i = 0; i < 20; ++i) r.finish("http://a:1", 0.1 * i, true);
  auto s = r.snapshot()[0];
  EXPECT_EQ(s.unfinished, 0);
  ASSERT_EQ(s.latency.size(), NodeRegistry::kLatencyWindow);
  EXPECT_DOUBLE_EQ(s.latency.front(), 0.1 * 5);  // the oldest five fell out
  EXPECT_EQ(s.n_requests, 20u);
}

TEST(Registry, ExcludeListSkipsNode) {
  auto r = make();
  r.add("http://a:1", NodeRole::kHybrid, {"m"}, std::nullopt);
  r.add("http://b:1", NodeRole::kHybrid, {"m"}, std::nullopt);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*r.route("m", {"http://a:1"}, {}, nullptr), "http://b:1");
  RouteFailure why;
  EXPECT_FALSE(r.route("m", {"http://a:1", "http://b:1"}, {}, &why));
  EXPECT_EQ(why, RouteFailure::kNoHealthyNode);
}

TEST(Registry, BreakerOpensAfterFailuresAndHalfOpensAfterCooldown) {
  HealthOptions o;
  o.breaker_failures = 3;
  o.breaker_cooldown = 100ms;
  auto r = make(o);
  r.add("http://a:1", NodeRole::kHybrid, {"m"}, std::nullopt);
  r.add("http://b:1", NodeRole::kHybrid, {"m"}, std::nullopt);
  for (int i = 0; i < 3; ++i) {
    r.route("m", {"http://b:1"}, {}, nullptr);
    r.finish("http://a:1", 0, false);
  }
  EXPECT_TRUE(r.snapshot()[0].breaker_open);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*r.route("m", {}, {}, nullptr), "http://b:1");
  std::this_thread::sleep_for(120ms);
  EXPECT_FALSE(r.snapshot()[0].breaker_open);
  // Half-open: one more failure re-opens at once (cooldown doubled).
  r.finish("http://a:1", 0, false);
  EXPECT_TRUE(r.snapshot()[0].breaker_open);
  std::this_thread::sleep_for(120ms);
  EXPECT_TRUE(r.snapshot()[0].breaker_open);  // 200 ms this time
  std::this_thread::sleep_for(100ms);
  r.finish("http://a:1", 0.01, true);  // a success closes it for good
  EXPECT_FALSE(r.snapshot()[0].breaker_open);
  EXPECT_EQ(r.snapshot()[0].n_errors, 4u);
}

TEST(Registry, ProbesTakeNodeOutAndBringItBack) {
  HealthOptions o;
  o.unhealthy_after = 2;
  auto r = make(o);
  r.add("http://a:1", NodeRole::kHybrid, {"m"}, std::nullopt);
  r.probe_result("http://a:1", false);
  EXPECT_TRUE(r.route("m", {}, {}, nullptr));  // one missed probe is tolerated
  r.probe_result("http://a:1", false);
  RouteFailure why;
  EXPECT_FALSE(r.route("m", {}, {}, &why));
  EXPECT_EQ(why, RouteFailure::kNoHealthyNode);
  EXPECT_FALSE(r.snapshot()[0].healthy);
  r.probe_result("http://a:1", true);
  EXPECT_TRUE(r.route("m", {}, {}, nullptr));
}

TEST(Registry, CancelledRequestsAreNotFailures) {
  HealthOptions o;
  o.breaker_failures = 1;
  auto r = make(o);
  r.add("http://a:1", NodeRole::kHybrid, {"m"}, std::nullopt);
  r.route("m", {}, {}, nullptr);
  r.finish("http://a:1", 5.0, false, /*cancelled=*/true);
  auto s = r.snapshot()[0];
  EXPECT_FALSE(s.breaker_open);
  EXPECT_TRUE(s.latency.empty());
  EXPECT_EQ(s.unfinished, 0);
}

TEST(Registry, ReAddKeepsInFlightCountAndRoleFilters) {
  auto r = make();
  r.add("http://a:1", NodeRole::kHybrid, {"m"}, std::nullopt);
  r.route("m", {}, {}, nullptr);
  r.add("http://a:1", NodeRole::kHybrid, {"m", "n"}, 2.0);
  EXPECT_EQ(r.snapshot()[0].unfinished, 1);
  r.add("http://p:1", NodeRole::kPrefill, {"p"}, std::nullopt);
  RouteFailure why;
  EXPECT_FALSE(r.route("p", {}, {}, &why));  // prefill-only nodes do not take plain requests
}

}  // namespace
}  // namespace fathom::proxy
