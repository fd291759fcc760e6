#include "server/cors.h"

namespace fathom::server {

namespace {

void add_cors_headers(http::Headers& h, const CorsPolicy& p, const std::string& allowed) {
  if (allowed.empty()) return;
  h.set("Access-Control-Allow-Origin", allowed);
  if (allowed != "*") h.set("Vary", "Origin");
  if (p.allow_credentials) h.set("Access-Control-Allow-Credentials", "true");
}

class CorsResponder final : public http::Responder {
 public:
  CorsResponder(http::ResponderPtr inner, const CorsPolicy& p, std::string allowed)
      : inner_(std::move(inner)), policy_(p), allowed_(std::move(allowed)) {}
  void send(http::Response r) override {
    add_cors_headers(r.headers, policy_, allowed_);
    inner_->send(std::move(r));
  }
  void begin(int status, http::Headers headers, int64_t content_length) override {
    add_cors_headers(headers, policy_, allowed_);
    inner_->begin(status, std::move(headers), content_length);
  }
  void write(std::string data, std::function<void(bool)> on_written) override {
    inner_->write(std::move(data), std::move(on_written));
  }
  void end() override { inner_->end(); }
  void abort() override { inner_->abort(); }
  void on_disconnect(std::function<void()> cb) override { inner_->on_disconnect(std::move(cb)); }
  bool disconnected() const override { return inner_->disconnected(); }
  size_t queued_bytes() const override { return inner_->queued_bytes(); }

 private:
  http::ResponderPtr inner_;
  const CorsPolicy& policy_;  // owned by the server, which outlives every responder
  std::string allowed_;
};

}  // namespace

std::string CorsPolicy::allowed_origin(const std::string& origin) const {
  for (const std::string& o : allow_origins) {
    if (o == "*") return allow_credentials && !origin.empty() ? origin : "*";
    if (o == origin) return origin;
  }
  return "";
}

http::ResponderPtr with_cors(http::ResponderPtr inner, const CorsPolicy& policy, const std::string& origin) {
  if (!policy.enabled()) return inner;
  std::string allowed = policy.allowed_origin(origin);
  if (allowed.empty()) return inner;
  return std::make_shared<CorsResponder>(std::move(inner), policy, std::move(allowed));
}

http::Response preflight_response(const CorsPolicy& policy, const http::Request& request) {
  http::Response r;
  r.status = 204;
  const std::string allowed = policy.allowed_origin(request.headers.get("Origin"));
  if (!policy.enabled() || allowed.empty()) {
    r.status = policy.enabled() ? 400 : 405;
    r.headers.set("Content-Type", "text/plain; charset=utf-8");
    r.body = policy.enabled() ? "Disallowed CORS origin" : "CORS is not enabled";
    return r;
  }
  add_cors_headers(r.headers, policy, allowed);
  r.headers.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  const std::string asked = request.headers.get("Access-Control-Request-Headers");
  r.headers.set("Access-Control-Allow-Headers", asked.empty() ? "Authorization, Content-Type" : asked);
  r.headers.set("Access-Control-Max-Age", "600");
  return r;
}

}  // namespace fathom::server
