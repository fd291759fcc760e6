// --allow-origins / --allow-credentials: CORS headers on every answer (streamed ones too, through a Responder
// wrapper) and the answer to preflight OPTIONS requests.
#pragma once
#include <string>
#include <vector>

#include "http/responder.h"

namespace fathom::server {

struct CorsPolicy {
  std::vector<std::string> allow_origins;  // "*" allows any; empty: CORS off
  bool allow_credentials = false;
  bool enabled() const { return !allow_origins.empty(); }
  // The Access-Control-Allow-Origin value for a request's Origin ("" when not allowed).
  std::string allowed_origin(const std::string& origin) const;
};

// Wraps `inner` so that send() and begin() add the CORS headers for `origin`.
http::ResponderPtr with_cors(http::ResponderPtr inner, const CorsPolicy& policy, const std::string& origin);

// 204 with Access-Control-Allow-{Origin,Methods,Headers,Credentials}, Max-Age.
http::Response preflight_response(const CorsPolicy& policy, const http::Request& request);

}  // namespace fathom::server
