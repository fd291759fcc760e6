// The server and the client against each other on loopback: keep-alive reuse, limits, timeouts, streaming from a
// foreign thread, disconnect detection and graceful shutdown.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "http/client.h"
#include "http/server.h"
#include "http/sse_parser.h"
#include "http/sse_writer.h"

namespace fathom::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class ServerClientTest : public ::testing::Test {
 protected:
  void start(ServerOptions opts = {}) {
    opts.host = "127.0.0.1";
    opts.port = 0;
    auto s = Server::start(rt_, opts, router_);
    ASSERT_TRUE(s) << s.error();
    server_ = std::move(s.value());
  }
  ClientRequest req(Method m, std::string target, std::string body = "") {
    ClientRequest r;
    r.method = m;
    r.host = "127.0.0.1";
    r.port = server_->port();
    r.target = std::move(target);
    r.body = std::move(body);
    return r;
  }
  void TearDown() override {
    if (server_) server_->stop(100ms);
  }

  IoRuntime rt_{2};
  Router router_;
  std::unique_ptr<Server> server_;
  HttpClient client_{rt_};
};

// A raw socket connected to the server, for misbehaving clients.
int raw_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// Reads until EOF or `limit`; returns what was read.
std::string raw_read_all(int fd, std::chrono::milliseconds limit) {
  timeval tv{static_cast<time_t>(limit.count() / 1000), static_cast<suseconds_t>((limit.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST_F(ServerClientTest, KeepAliveReusesOneConnection) {
  router_.add(Method::kPost, "/echo", [](Request r, ResponderPtr res) {
    res->send(text_response(200, r.body + "|" + r.headers.get("x-tag")));
  });
  start();
  for (int i = 0; i < 20; ++i) {
    auto rq = req(Method::kPost, "/echo", "hello" + std::to_string(i));
    rq.headers.add("X-Tag", "t");
    auto r = client_.fetch_sync(rq);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello" + std::to_string(i) + "|t");
  }
  EXPECT_EQ(client_.n_connects(), 1u);
  EXPECT_EQ(client_.n_idle_connections(), 1u);
}

TEST_F(ServerClientTest, BodyOverLimitIs413) {
  router_.add(Method::kPost, "/echo", [](Request r, ResponderPtr res) { res->send(text_response(200, "ok")); });
  ServerOptions o;
  o.max_body_bytes = 1000;
  start(o);
  auto r = client_.fetch_sync(req(Method::kPost, "/echo", std::string(5000, 'x')));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("\"error\""), std::string::npos);
  auto ok = client_.fetch_sync(req(Method::kPost, "/echo", std::string(1000, 'x')));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerClientTest, SlowHeaderIsCutOff) {
  ServerOptions o;
  o.header_timeout = 300ms;
  start(o);
  int fd = raw_connect(server_->port());
  ASSERT_GT(::send(fd, "GET / HTTP/1.1\r\nHost: x\r\n", 25, 0), 0);  // never finishes the header block
  auto t0 = Clock::now();
  std::string got = raw_read_all(fd, 3000ms);
  auto waited = Clock::now() - t0;
  ::close(fd);
  EXPECT_TRUE(got.empty());
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2000ms);  // closed by the server, not by our receive timeout
}

TEST_F(ServerClientTest, MalformedRequestIs400) {
  start();
  int fd = raw_connect(server_->port());
  std::string junk = "BLAH\x01 / HTTP/1.1\r\n\r\n";
  ASSERT_GT(::send(fd, junk.data(), junk.size(), 0), 0);
  std::string got = raw_read_all(fd, 2000ms);
  ::close(fd);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got;
}

TEST_F(ServerClientTest, SseStreamFromForeignThreadArrivesIncrementally) {
  std::vector<std::thread> workers;
  std::mutex mu;
  router_.add(Method::kGet, "/stream", [&](Request, ResponderPtr res) {
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([res] {
      SseWriter w(res);
      w.begin();
      for (int i = 0; i < 5; ++i) {
        w.send("{\"i\":" + std::to_string(i) + "}");
        std::this_thread::sleep_for(60ms);
      }
      w.done();
    });
  });
  start();
  std::vector<std::pair<std::string, Clock::time_point>> events;
  std::promise<ClientError> done;
  SseParser parser([&](const SseEvent& e) { events.emplace_back(e.data, Clock::now()); });
  StreamCallbacks cbs;
  int status = 0;
  std::string content_type;
  cbs.on_head = [&](ResponseHead h) {
    status = h.status;
    content_type = h.headers.get("content-type");
  };
  cbs.on_data = [&](std::string d, std::function<void()> resume) {
    parser.feed(d);
    resume();
  };
  cbs.on_done = [&](ClientError e) { done.set_value(e); };
  client_.stream(req(Method::kGet, "/stream"), cbs);
  auto err = done.get_future().get();
  EXPECT_TRUE(err.ok()) << err.message;
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(content_type.starts_with("text/event-stream"));
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].first, "{\"i\":0}");
  EXPECT_EQ(events[5].first, "[DONE]");
  // Not buffered until the end: the first event arrived well before the last.
  EXPECT_GT(events[4].second - events[0].second, 150ms);
  std::lock_guard<std::mutex> lock(mu);
  for (auto& t : workers) t.join();
  EXPECT_EQ(client_.n_idle_connections(), 1u);  // chunked body ended cleanly: connection reusable
}

TEST_F(ServerClientTest, ClientDisconnectIsReportedToHandler) {
  std::promise<void> disconnected;
  std::atomic<bool> stop{false};
  std::thread producer;
  router_.add(Method::kGet, "/forever", [&](Request, ResponderPtr res) {
    res->on_disconnect([&] { disconnected.set_value(); });
    SseWriter w(res);
    w.begin();
    producer = std::thread([res, &stop] {
      SseWriter w(res);
      while (!stop && !res->disconnected()) {
        w.send("tick");
        std::this_thread::sleep_for(20ms);
      }
    });
  });
  start();
  std::promise<void> got_data;
  std::atomic<bool> once{false};
  StreamCallbacks cbs;
  cbs.on_data = [&](std::string, std::function<void()> resume) {
    if (!once.exchange(true)) got_data.set_value();
    resume();
  };
  auto call = client_.stream(req(Method::kGet, "/forever"), cbs);
  got_data.get_future().wait();
  auto t0 = Clock::now();
  call->cancel();
  EXPECT_EQ(disconnected.get_future().wait_for(2s), std::future_status::ready);
  EXPECT_LT(Clock::now() - t0, 1s);
  stop = true;
  producer.join();
}

TEST_F(ServerClientTest, ClientTimeoutsAndConnectErrors) {
  std::vector<ResponderPtr> parked;
  std::mutex mu;
  router_.add(Method::kGet, "/hang", [&](Request, ResponderPtr res) {
    std::lock_guard<std::mutex> lock(mu);
    parked.push_back(res);  // never answers while the test runs
  });
  start();
  auto rq = req(Method::kGet, "/hang");
  rq.first_byte_timeout = 200ms;
  auto t0 = Clock::now();
  std::promise<ClientError> p;
  client_.fetch(rq, [&](ClientError e, Response) { p.set_value(e); });
  auto e = p.get_future().get();
  EXPECT_EQ(e.kind, ClientErrorKind::kTimeout);
  EXPECT_LT(Clock::now() - t0, 1500ms);

  int fd = ::socket(AF_INET, SOCK_STREAM, 0);  // a port nobody listens on
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ClientRequest refused = rq;
  refused.port = ntohs(a.sin_port);
  std::promise<ClientError> p2;
  client_.fetch(refused, [&](ClientError e, Response) { p2.set_value(e); });
  EXPECT_EQ(p2.get_future().get().kind, ClientErrorKind::kConnect);
  ::close(fd);
  std::lock_guard<std::mutex> lock(mu);
  parked.clear();
}

TEST_F(ServerClientTest, GracefulStopLetsInFlightRequestFinish) {
  router_.add(Method::kGet, "/slow", [](Request, ResponderPtr res) {
    std::thread([res] {
      std::this_thread::sleep_for(300ms);
      res->send(text_response(200, "finished"));
    }).detach();
  });
  start();
  auto fut = std::async(std::launch::async, [&] { return client_.fetch_sync(req(Method::kGet, "/slow")); });
  std::this_thread::sleep_for(100ms);
  int idle_fd = raw_connect(server_->port());  // an idle keep-alive connection: closed at once
  std::this_thread::sleep_for(50ms);
  auto t0 = Clock::now();
  server_->stop(3000ms);
  EXPECT_LT(Clock::now() - t0, 2000ms);
  auto r = fut.get();
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->body, "finished");
  EXPECT_EQ(r->headers.get("connection"), "close");
  EXPECT_TRUE(raw_read_all(idle_fd, 500ms).empty());
  ::close(idle_fd);
  EXPECT_EQ(server_->n_open_sessions(), 0u);
}

TEST_F(ServerClientTest, HandlerThatDropsResponderGives500) {
  router_.add(Method::kGet, "/forgot", [](Request, ResponderPtr) {});
  start();
  auto r = client_.fetch_sync(req(Method::kGet, "/forgot"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
}

}  // namespace
}  // namespace fathom::http
