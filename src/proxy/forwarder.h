// Forwards one client request to a node and relays the answer as it arrives: status and headers as the node sent
// them, body bytes written on as they are read (no buffering, no re-chunking of the content), read paced by the
// client's writes (back-pressure). A request that fails before its response head arrived is retried once on
// another node; a client that goes away cancels the upstream call.
#pragma once
#include <chrono>
#include <memory>

#include "http/client.h"
#include "http/responder.h"
#include "proxy/node_registry.h"

namespace fathom::proxy {

struct ForwardOptions {
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds request_timeout{600'000};  // to the response head, and between body reads
  int max_attempts = 2;  // the first try plus one retry on another node
};

// What a routed request is about, read from its JSON body.
struct RequestFacts {
  std::string model;   // empty when the body names none
  std::string prompt;  // text for prefix affinity: chat messages, completion prompt or generate input
};
Expected<RequestFacts> read_request_facts(std::string_view body);

class Forwarder {
 public:
  Forwarder(http::HttpClient& client, NodeRegistry& registry, ForwardOptions options)
      : client_(client), registry_(registry), options_(options) {}

  void handle(http::Request request, http::ResponderPtr responder);

  struct Exchange;

 private:
  void attempt(const std::shared_ptr<Exchange>& ex);

  http::HttpClient& client_;
  NodeRegistry& registry_;
  ForwardOptions options_;
};

}  // namespace fathom::proxy
