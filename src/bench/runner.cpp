#include "bench/runner.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench/progress.h"
#include "bench/stream_timer.h"

namespace fathom::bench {

using Clock = std::chrono::steady_clock;

Expected<Endpoint> parse_endpoint(const std::string& base_url) {
  auto url = http::parse_url(base_url);
  if (!url) return Status::error("--base-url: " + url.error());
  Endpoint ep;
  ep.host = url->host;
  ep.port = url->port;
  ep.prefix = url->target;
  while (!ep.prefix.empty() && ep.prefix.back() == '/') ep.prefix.pop_back();
  return ep;
}

std::vector<double> arrival_offsets(size_t n, double rate, uint64_t seed) {
  std::vector<double> t(n, 0.0);
  if (!std::isfinite(rate)) return t;
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(rate);
  double at = 0;
  for (size_t i = 0; i < n; ++i) {
    t[i] = at;
    at += gap(rng);
  }
  return t;
}

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Completion bookkeeping shared by the callbacks and the dispatching thread.
struct RunState {
  explicit RunState(size_t n) : results(n) {}
  std::vector<RequestResult> results;
  std::mutex mu;
  std::condition_variable cv;
  size_t n_done = 0;
  int in_flight = 0;
  double last_done = 0;
};

http::ClientRequest make_request(const Endpoint& ep, Backend b, std::string body) {
  http::ClientRequest req;
  req.method = http::Method::kPost;
  req.host = ep.host;
  req.port = ep.port;
  req.target = ep.prefix + backend_path(b);
  req.headers.add("Content-Type", "application/json");
  req.headers.add("Accept", "text/event-stream");
  if (!ep.api_key.empty()) req.headers.add("Authorization", "Bearer " + ep.api_key);
  req.body = std::move(body);
  // Thousands of connects at once can overflow the listen backlog; SYN retries then take seconds.
  req.connect_timeout = std::chrono::milliseconds(60'000);
  return req;
}

}  // namespace

RunOutput run_requests(http::HttpClient& client, const Endpoint& ep, const std::vector<BenchRequest>& requests,
                       const RunOptions& o) {
  const size_t n = requests.size();
  auto state = std::make_shared<RunState>(n);
  const std::vector<double> offsets = arrival_offsets(n, o.request_rate, o.seed);
  // Bodies are built before the clock starts so that JSON encoding does not delay the arrivals.
  std::vector<std::string> bodies(n);
  for (size_t i = 0; i < n; ++i) bodies[i] = build_payload(o.backend, requests[i], o.payload);

  ProgressBar progress(n, o.progress, o.progress_label);
  const uint64_t connects0 = client.n_connects();
  const double cpu0 = cpu_seconds();
  const Clock::time_point t0 = Clock::now();
  auto since = [t0](Clock::time_point t) { return std::chrono::duration<double>(t - t0).count(); };

  for (size_t i = 0; i < n; ++i) {
    if (offsets[i] > 0) std::this_thread::sleep_until(t0 + std::chrono::duration<double>(offsets[i]));
    if (o.max_concurrency > 0) {
      std::unique_lock<std::mutex> lock(state->mu);
      state->cv.wait(lock, [&] { return state->in_flight < o.max_concurrency; });
      ++state->in_flight;
    }
    const double start = since(Clock::now());
    auto timer = std::make_shared<StreamTimer>(o.backend, o.payload.stream, o.payload.ignore_eos, requests[i], start);
    http::StreamCallbacks cbs;
    cbs.on_head = [timer](http::ResponseHead head) { timer->on_status(head.status); };
    cbs.on_data = [timer, since](std::string data, std::function<void()> resume) {
      timer->on_data(since(Clock::now()), data);
      resume();
    };
    cbs.on_done = [timer, since, state, i, &progress, limited = o.max_concurrency > 0](http::ClientError err) {
      const double now = since(Clock::now());
      std::string why;
      if (!err.ok()) why = std::string(http::client_error_name(err.kind)) + ": " + err.message;
      RequestResult r = timer->finish(now, why);
      progress.tick(!r.success);  // before n_done moves: the bar must not be ticked once the run returned
      {
        std::lock_guard<std::mutex> lock(state->mu);
        state->results[i] = std::move(r);
        ++state->n_done;
        if (limited) --state->in_flight;
        state->last_done = std::max(state->last_done, now);
      }
      state->cv.notify_all();
    };
    client.stream(make_request(ep, o.backend, std::move(bodies[i])), std::move(cbs));
  }

  RunOutput out;
  {
    std::unique_lock<std::mutex> lock(state->mu);
    state->cv.wait(lock, [&] { return state->n_done == n; });
    out.duration = state->last_done;
    out.results = std::move(state->results);
  }
  out.client_cpu_s = cpu_seconds() - cpu0;
  out.monotonic_t0 = std::chrono::duration<double>(t0.time_since_epoch()).count();
  out.n_connects = client.n_connects() - connects0;
  return out;
}

Expected<std::string> query_model_name(http::HttpClient& client, const Endpoint& ep) {
  http::ClientRequest req;
  req.host = ep.host;
  req.port = ep.port;
  req.target = ep.prefix + "/v1/models";
  if (!ep.api_key.empty()) req.headers.add("Authorization", "Bearer " + ep.api_key);
  req.connect_timeout = std::chrono::milliseconds(10'000);
  req.first_byte_timeout = std::chrono::milliseconds(30'000);
  auto resp = client.fetch_sync(std::move(req));
  const std::string where = "GET http://" + ep.host + ":" + std::to_string(ep.port) + ep.prefix + "/v1/models";
  if (!resp) return Status::error(where + ": " + resp.error());
  if (resp->status != 200) return Status::error(where + ": HTTP " + std::to_string(resp->status) + " " + resp->body);
  auto j = nlohmann::json::parse(resp->body, nullptr, false);
  if (j.is_discarded() || !j.contains("data") || !j["data"].is_array() || j["data"].empty() ||
      !j["data"][0].contains("id") || !j["data"][0]["id"].is_string()) {
    return Status::error(where + ": no model listed (pass --model)");
  }
  return j["data"][0]["id"].get<std::string>();
}

uint64_t raise_open_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<uint64_t>(lim.rlim_cur);
}

}  // namespace fathom::bench
