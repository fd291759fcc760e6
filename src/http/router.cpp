#include "http/router.h"

#include <exception>

#include "http/json_error.h"

namespace fathom::http {

void Router::add(Method method, std::string path, Handler handler) {
  routes_.push_back({method, std::move(path), false, std::move(handler)});
}

void Router::add_prefix(Method method, std::string prefix, Handler handler) {
  routes_.push_back({method, std::move(prefix), true, std::move(handler)});
}

Router::Match Router::match(Method method, std::string_view path) const {
  const Route* exact = nullptr;
  const Route* best_prefix = nullptr;
  bool path_known = false;
  std::string allow;
  auto note_allow = [&](Method m) {
    std::string_view name = method_name(m);
    if (allow.find(name) != std::string::npos) return;
    if (!allow.empty()) allow += ", ";
    allow += name;
  };
  for (const Route& r : routes_) {
    bool hit = r.prefix ? path.starts_with(r.path) : path == r.path;
    if (!hit) continue;
    path_known = true;
    note_allow(r.method);
    if (r.method != method) continue;
    if (!r.prefix) {
      exact = &r;
    } else if (!best_prefix || r.path.size() > best_prefix->path.size()) {
      best_prefix = &r;
    }
  }
  Match m;
  if (exact || best_prefix) {
    m.handler = &(exact ? exact : best_prefix)->handler;
    return m;
  }
  m.status = path_known ? 405 : 404;
  if (path_known) m.allow = std::move(allow);
  return m;
}

void Router::dispatch(Request request, ResponderPtr responder) const {
  Match m = match(request.method, request.path);
  if (!m.handler) {
    Response r = m.status == 404
                     ? error_response(404, "Not found: " + request.path, ErrorType::kNotFound)
                     : error_response(405, "Method not allowed: " + std::string(method_name(request.method)) +
                                               " " + request.path,
                                      ErrorType::kInvalidRequest);
    if (!m.allow.empty()) r.headers.set("Allow", m.allow);
    responder->send(std::move(r));
    return;
  }
  try {
    (*m.handler)(std::move(request), responder);
  } catch (const std::exception& e) {
    responder->send(error_response(500, std::string("internal error: ") + e.what(), ErrorType::kServer));
  } catch (...) {
    responder->send(error_response(500, "internal error", ErrorType::kServer));
  }
}

}  // namespace fathom::http
