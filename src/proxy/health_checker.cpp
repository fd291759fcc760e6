#include "proxy/health_checker.h"

#include <nlohmann/json.hpp>
#include <set>

namespace fathom::proxy {

// Outstanding probes, shared with their callbacks (which may run after the checker is gone).
struct HealthChecker::Shared {
  std::mutex mu;
  std::set<std::string> in_flight;
};

HealthChecker::HealthChecker(http::HttpClient& client, NodeRegistry& registry, std::chrono::milliseconds interval,
                             std::chrono::milliseconds timeout)
    : client_(client),
      registry_(registry),
      interval_(interval),
      timeout_(timeout),
      shared_(std::make_shared<Shared>()) {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      probe_all();
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  });
}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::probe_all() {
  for (const std::string& url : registry_.urls()) {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (!shared_->in_flight.insert(url).second) continue;  // the previous probe is still waiting
    }
    auto target = http::parse_url(url);
    if (!target) {
      registry_.probe_result(url, false);
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->in_flight.erase(url);
      continue;
    }
    http::ClientRequest req;
    req.method = http::Method::kGet;
    req.host = target->host;
    req.port = target->port;
    req.target = "/health";
    req.connect_timeout = timeout_;
    req.first_byte_timeout = timeout_;
    req.idle_timeout = timeout_;
    NodeRegistry* registry = &registry_;
    client_.fetch(std::move(req), [shared = shared_, registry, url](http::ClientError err, http::Response r) {
      bool ok = err.ok() && r.status == 200;
      if (ok) {
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        if (j.is_object() && j.value("status", "") == "sleeping") ok = false;
      }
      registry->probe_result(url, ok);
      std::lock_guard<std::mutex> lock(shared->mu);
      shared->in_flight.erase(url);
    }, 1 << 16);
  }
}

}  // namespace fathom::proxy
