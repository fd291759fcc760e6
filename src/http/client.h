// Async HTTP/1.1 client on an IoRuntime: keep-alive connection pool per host:port, streamed response bodies with
// back-pressure, connect / first-byte / idle timeouts, cancellation. Used by the proxy (pass-through of streams)
// and the serving benchmark (token timing through SseParser).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "http/io_runtime.h"
#include "http/types.h"

namespace fathom::http {

struct Url {
  std::string host;
  uint16_t port = 80;
  std::string target = "/";  // path[?query], never empty
};
// "http://host[:port][/path]" (https is not supported: the proxy and the bench talk to plain-HTTP servers).
Expected<Url> parse_url(std::string_view url);

struct ClientRequest {
  Method method = Method::kGet;
  std::string host;
  uint16_t port = 80;
  std::string target = "/";
  Headers headers;  // Host, Content-Length and Connection are set by the client
  std::string body;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds first_byte_timeout{600'000};  // request written → response head received
  std::chrono::milliseconds idle_timeout{600'000};        // longest pause between two body reads
};

enum class ClientErrorKind { kNone, kConnect, kTimeout, kClosed, kProtocol, kCancelled, kTooLarge };
std::string_view client_error_name(ClientErrorKind kind);

struct ClientError {
  ClientErrorKind kind = ClientErrorKind::kNone;
  std::string message;
  bool ok() const { return kind == ClientErrorKind::kNone; }
};

struct ResponseHead {
  int status = 0;
  Headers headers;
  int64_t content_length = -1;  // -1: chunked or until close
};

struct StreamCallbacks {
  std::function<void(ResponseHead head)> on_head;
  // Body bytes as they arrive (transfer coding removed). Reading pauses until `resume` is called (any thread).
  std::function<void(std::string data, std::function<void()> resume)> on_data;
  // Exactly once: kNone when the body completed, else why it did not. After on_head or not.
  std::function<void(ClientError error)> on_done;
};

class ClientCall {
 public:
  virtual ~ClientCall() = default;
  // Aborts the call (closing its connection); on_done(kCancelled) follows unless it already finished.
  virtual void cancel() = 0;
};

struct ClientOptions {
  size_t max_idle_per_host = 512;
  std::chrono::milliseconds idle_expiry{30'000};  // pooled connections older than this are closed, not reused
};

class HttpClient {
 public:
  explicit HttpClient(IoRuntime& runtime, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Callbacks run on an io thread and must not block.
  std::shared_ptr<ClientCall> stream(ClientRequest request, StreamCallbacks callbacks);

  // Whole response (body up to max_body bytes); callback on an io thread.
  std::shared_ptr<ClientCall> fetch(ClientRequest request, std::function<void(ClientError, Response)> done,
                                    size_t max_body = 64u << 20);

  // Blocking helper for threads that are not io threads (CLI, tests).
  Expected<Response> fetch_sync(ClientRequest request);

  uint64_t n_connects() const;        // TCP connections opened so far
  size_t n_idle_connections() const;  // in the pool now

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace fathom::http
