// Small server pieces: constant-time key comparison and Bearer parsing, CORS origin matching, the proxy
// announcement body, and the Prometheus exposition (histogram buckets are cumulative).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/auth.h"
#include "server/cors.h"
#include "server/metrics.h"
#include "server/proxy_registration.h"

namespace fathom::server {
namespace {

http::Request with_auth(const std::string& value) {
  http::Request r;
  r.path = "/v1/models";
  r.headers.add("Authorization", value);
  return r;
}

TEST(ServerAuth, BearerKeys) {
  const std::vector<std::string> keys = {"alpha", "beta-key"};
  EXPECT_TRUE(authorized(keys, with_auth("Bearer alpha")));
  EXPECT_TRUE(authorized(keys, with_auth("bEaReR beta-key")));
  EXPECT_FALSE(authorized(keys, with_auth("Bearer alph")));
  EXPECT_FALSE(authorized(keys, with_auth("Bearer alphaa")));
  EXPECT_FALSE(authorized(keys, with_auth("Basic alpha")));
  EXPECT_FALSE(authorized(keys, http::Request{}));
  EXPECT_TRUE(authorized({}, http::Request{}));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("a", ""));
  http::Request h;
  h.path = "/health";
  EXPECT_TRUE(auth_exempt(h));
}

TEST(ServerCors, OriginMatching) {
  CorsPolicy any{{"*"}, false};
  EXPECT_EQ(any.allowed_origin("http://x"), "*");
  CorsPolicy cred{{"*"}, true};
  EXPECT_EQ(cred.allowed_origin("http://x"), "http://x");  // '*' is not valid with credentials
  CorsPolicy list{{"http://a", "http://b"}, false};
  EXPECT_EQ(list.allowed_origin("http://b"), "http://b");
  EXPECT_EQ(list.allowed_origin("http://c"), "");
  EXPECT_FALSE(CorsPolicy{}.enabled());
}

TEST(ServerProxyRegistration, LmdeployNodeBody) {
  auto j = nlohmann::json::parse(node_add_body({"http://p:8000", "http://10.0.0.1:23333", "ds"}));
  EXPECT_EQ(j["url"], "http://10.0.0.1:23333");
  EXPECT_EQ(j["status"]["models"], nlohmann::json::array({"ds"}));
  EXPECT_EQ(j["status"]["role"], 1);
}

TEST(ServerMetrics, ExpositionAndHistograms) {
  ServerMetrics m;
  m.prompt_tokens = 10;
  m.cached_tokens = 4;
  m.ttft.observe(0.003);
  m.ttft.observe(0.2);
  m.ttft.observe(1000);
  EngineStats s;
  s.pages_total = 8;
  s.pages_in_use = 2;
  const std::string text = m.render(&s, "tiny");
  EXPECT_NE(text.find("fathom:prefix_cache_hit_rate 0.4"), std::string::npos);
  EXPECT_NE(text.find("fathom:gpu_cache_usage_perc 0.25"), std::string::npos);
  EXPECT_NE(text.find("fathom:time_to_first_token_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("fathom:time_to_first_token_seconds_bucket{le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("fathom:time_to_first_token_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("fathom:time_to_first_token_seconds_count 3\n"), std::string::npos);
  EXPECT_EQ(m.render(nullptr, "x").find("cache_pages_in_use"), std::string::npos);  // no engine yet
}

}  // namespace
}  // namespace fathom::server
