// Method + path → handler. Exact paths first, then the longest registered prefix. Unknown path → 404, known path
// with another method → 405 (with Allow), both as OpenAI-shaped JSON errors.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "http/responder.h"

namespace fathom::http {

class Router {
 public:
  void add(Method method, std::string path, Handler handler);
  // Matches every path that starts with `prefix` (e.g. "/metrics" also serves "/metrics/").
  void add_prefix(Method method, std::string prefix, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null → status says why
    int status = 200;                  // 404 or 405 when handler is null
    std::string allow;                 // for 405: the methods the path accepts, "GET, POST"
  };
  Match match(Method method, std::string_view path) const;

  // Runs the matching handler (or answers 404/405); an exception escaping a handler becomes a 500.
  void dispatch(Request request, ResponderPtr responder) const;

 private:
  struct Route {
    Method method;
    std::string path;
    bool prefix;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace fathom::http
