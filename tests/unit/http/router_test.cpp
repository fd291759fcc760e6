#include "http/router.h"

#include "http/client.h"
#include "http/json_error.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fathom::http {
namespace {

// Records what a handler answered.
class RecordingResponder : public Responder {
 public:
  void send(Response r) override { response = std::move(r); }
  void begin(int, Headers, int64_t) override {}
  void write(std::string, std::function<void(bool)>) override {}
  void end() override {}
  void abort() override {}
  void on_disconnect(std::function<void()>) override {}
  bool disconnected() const override { return false; }
  size_t queued_bytes() const override { return 0; }
  Response response;
};

Handler answer(int status, std::string body) {
  return [status, body](Request, ResponderPtr r) { r->send(text_response(status, body)); };
}

Response run(const Router& router, Method m, std::string path) {
  auto rec = std::make_shared<RecordingResponder>();
  Request req;
  req.method = m;
  req.path = std::move(path);
  router.dispatch(std::move(req), rec);
  return rec->response;
}

TEST(Router, ExactMatchByMethodAndPath) {
  Router r;
  r.add(Method::kGet, "/v1/models", answer(200, "models"));
  r.add(Method::kPost, "/v1/chat/completions", answer(200, "chat"));
  EXPECT_EQ(run(r, Method::kGet, "/v1/models").body, "models");
  EXPECT_EQ(run(r, Method::kPost, "/v1/chat/completions").body, "chat");
}

TEST(Router, UnknownPathIs404WithOpenAiError) {
  Router r;
  r.add(Method::kGet, "/health", answer(200, "ok"));
  Response resp = run(r, Method::kGet, "/nope");
  EXPECT_EQ(resp.status, 404);
  auto j = nlohmann::json::parse(resp.body);
  EXPECT_EQ(j["error"]["type"], "not_found_error");
  EXPECT_EQ(j["error"]["code"], 404);
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_NE(j["error"]["message"].get<std::string>().find("/nope"), std::string::npos);
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router r;
  r.add(Method::kPost, "/nodes/add", answer(200, "added"));
  r.add(Method::kPut, "/nodes/add", answer(200, "put"));
  Response resp = run(r, Method::kGet, "/nodes/add");
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(resp.headers.get("allow"), "POST, PUT");
}

TEST(Router, LongestPrefixWinsAndExactBeatsPrefix) {
  Router r;
  r.add_prefix(Method::kGet, "/metrics", answer(200, "short"));
  r.add_prefix(Method::kGet, "/metrics/x", answer(200, "long"));
  r.add(Method::kGet, "/metrics/x/exact", answer(200, "exact"));
  EXPECT_EQ(run(r, Method::kGet, "/metrics/").body, "short");
  EXPECT_EQ(run(r, Method::kGet, "/metrics/x/y").body, "long");
  EXPECT_EQ(run(r, Method::kGet, "/metrics/x/exact").body, "exact");
  EXPECT_EQ(run(r, Method::kGet, "/metric").status, 404);
}

TEST(Router, ThrowingHandlerBecomes500) {
  Router r;
  r.add(Method::kGet, "/boom", [](Request, ResponderPtr) { throw std::runtime_error("kaput"); });
  Response resp = run(r, Method::kGet, "/boom");
  EXPECT_EQ(resp.status, 500);
  EXPECT_EQ(nlohmann::json::parse(resp.body)["error"]["type"], "server_error");
}

TEST(JsonError, ShapeAndDefaults) {
  auto j = nlohmann::json::parse(error_json(503, {"no healthy node", ErrorType::kUnavailable, "model", "x"}));
  EXPECT_EQ(j["error"]["message"], "no healthy node");
  EXPECT_EQ(j["error"]["type"], "unavailable_error");
  EXPECT_EQ(j["error"]["param"], "model");
  EXPECT_EQ(j["error"]["code"], "x");
  EXPECT_EQ(default_error_type(401), ErrorType::kAuthentication);
  EXPECT_EQ(default_error_type(400), ErrorType::kInvalidRequest);
  EXPECT_EQ(default_error_type(500), ErrorType::kServer);
  Response r = error_response(413, "too big");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.headers.get("content-type"), "application/json");
}

TEST(Headers, CaseInsensitive) {
  Headers h;
  h.add("Content-Type", "a");
  h.set("content-type", "b");
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.get("CONTENT-TYPE"), "b");
  EXPECT_FALSE(h.has("X"));
}

TEST(Url, Parse) {
  auto u = parse_url("http://10.0.0.1:23333/v1/models");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "10.0.0.1");
  EXPECT_EQ(u->port, 23333);
  EXPECT_EQ(u->target, "/v1/models");
  auto d = parse_url("http://node");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 80);
  EXPECT_EQ(d->target, "/");
  EXPECT_FALSE(parse_url("https://x"));
  EXPECT_FALSE(parse_url("http://x:99999"));
  EXPECT_FALSE(parse_url("http://:80"));
}

}  // namespace
}  // namespace fathom::http
