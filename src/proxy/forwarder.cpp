#include "proxy/forwarder.h"

#include <atomic>
#include <mutex>

#include "http/json_error.h"

namespace fathom::proxy {

using Clock = std::chrono::steady_clock;

struct Forwarder::Exchange {
  http::Request request;
  http::ResponderPtr responder;
  RequestFacts facts;
  std::vector<std::string> tried;
  int n_attempts = 0;
  std::mutex mu;
  std::shared_ptr<http::ClientCall> call;  // the current upstream call
  bool client_gone = false;
};

namespace {

bool hop_by_hop(std::string_view name) {
  for (std::string_view h : {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer",
                             "upgrade", "proxy-connection", "proxy-authenticate", "proxy-authorization", "host",
                             "expect"}) {
    if (http::iequals(name, h)) return true;
  }
  return false;
}

}  // namespace

void Forwarder::handle(http::Request request, http::ResponderPtr responder) {
  auto facts = read_request_facts(request.body);
  if (!facts) {
    responder->send(http::error_response(400, facts.error(), http::ErrorType::kInvalidRequest));
    return;
  }
  auto ex = std::make_shared<Exchange>();
  ex->request = std::move(request);
  ex->responder = responder;
  ex->facts = std::move(*facts);
  std::weak_ptr<Exchange> weak = ex;
  responder->on_disconnect([weak] {
    auto ex = weak.lock();
    if (!ex) return;
    std::shared_ptr<http::ClientCall> call;
    {
      std::lock_guard<std::mutex> lock(ex->mu);
      ex->client_gone = true;
      call = ex->call;
    }
    if (call) call->cancel();
  });
  attempt(ex);
}

void Forwarder::attempt(const std::shared_ptr<Exchange>& ex) {
  ++ex->n_attempts;
  RouteFailure why = RouteFailure::kNoHealthyNode;
  auto url = registry_.route(ex->facts.model, ex->tried, RouteInput{ex->facts.prompt}, &why);
  if (!url) {
    if (why == RouteFailure::kUnknownModel) {
      ex->responder->send(http::error_response(404, "The model '" + ex->facts.model + "' does not exist.",
                                               http::ErrorType::kNotFound));
    } else if (ex->tried.empty()) {
      ex->responder->send(
          http::error_response(503, "no healthy node can serve this request", http::ErrorType::kUnavailable));
    } else {
      ex->responder->send(http::error_response(
          502, "the node " + ex->tried.back() + " failed and no other node is available", http::ErrorType::kServer));
    }
    return;
  }
  auto target = http::parse_url(*url);
  if (!target) {  // registered URLs are validated on add; keep the invariant cheap to check anyway
    registry_.finish(*url, 0, false);
    ex->responder->send(http::error_response(502, target.error(), http::ErrorType::kServer));
    return;
  }
  http::ClientRequest up;
  up.method = ex->request.method;
  up.host = target->host;
  up.port = target->port;
  up.target = ex->request.target;
  up.body = ex->request.body;
  up.connect_timeout = options_.connect_timeout;
  up.first_byte_timeout = options_.request_timeout;
  up.idle_timeout = options_.request_timeout;
  for (const auto& [k, v] : ex->request.headers) {
    if (!hop_by_hop(k)) up.headers.add(k, v);
  }
  if (!ex->request.remote_addr.empty()) up.headers.add("X-Forwarded-For", ex->request.remote_addr);
  if (auto* host = ex->request.headers.find("Host")) up.headers.add("X-Forwarded-Host", *host);
  up.headers.add("X-Forwarded-Proto", "http");

  struct CallState {
    std::string url;
    Clock::time_point start = Clock::now();
    int status = 0;
    bool head = false;
    std::atomic<int64_t> expected{-1};  // upstream Content-Length (-1: chunked)
    std::atomic<int64_t> forwarded{0};  // body bytes handed to the client
  };
  auto st = std::make_shared<CallState>();
  st->url = *url;
  http::StreamCallbacks cbs;
  cbs.on_head = [ex, st](http::ResponseHead h) {
    st->head = true;
    st->status = h.status;
    st->expected = h.content_length;
    http::Headers out;
    for (const auto& [k, v] : h.headers) {
      if (!hop_by_hop(k)) out.add(k, v);
    }
    ex->responder->begin(h.status, std::move(out), h.content_length);
  };
  cbs.on_data = [ex, st](std::string data, std::function<void()> resume) {
    st->forwarded += static_cast<int64_t>(data.size());
    ex->responder->write(std::move(data), [resume = std::move(resume)](bool ok) {
      if (ok) resume();  // otherwise the client is gone and its disconnect cancels the call
    });
  };
  cbs.on_done = [this, ex, st](http::ClientError err) {
    double seconds = std::chrono::duration<double>(Clock::now() - st->start).count();
    bool gone;
    {
      std::lock_guard<std::mutex> lock(ex->mu);
      ex->call.reset();
      gone = ex->client_gone;
    }
    // A client that closes right after the last byte of a Content-Length body had its whole answer: that is a
    // completed request, even if the close reached us before the upstream's end did.
    const bool complete = st->expected >= 0 && st->forwarded >= st->expected;
    if (err.ok() || complete) {
      registry_.finish(st->url, seconds, st->status < 500);
      ex->responder->end();
      return;
    }
    if (gone || err.kind == http::ClientErrorKind::kCancelled) {
      registry_.finish(st->url, seconds, false, /*cancelled=*/true);
      return;
    }
    registry_.finish(st->url, seconds, false);
    if (st->head) {  // bytes already reached the client: the response cannot be replayed, only cut short
      ex->responder->abort();
      return;
    }
    ex->tried.push_back(st->url);
    if (ex->n_attempts < options_.max_attempts) {
      attempt(ex);
      return;
    }
    bool timeout = err.kind == http::ClientErrorKind::kTimeout;
    ex->responder->send(http::error_response(timeout ? 504 : 502, "upstream " + st->url + ": " + err.message,
                                             timeout ? http::ErrorType::kTimeout : http::ErrorType::kServer));
  };
  std::lock_guard<std::mutex> lock(ex->mu);
  if (ex->client_gone) {
    registry_.finish(st->url, 0, false, /*cancelled=*/true);
    return;
  }
  ex->call = client_.stream(std::move(up), std::move(cbs));
}

}  // namespace fathom::proxy
