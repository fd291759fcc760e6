// Plain HTTP request/response values shared by the server, the client and their users. No Boost here: callers of
// the HTTP layer (server routes, proxy, bench) see only these types.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fathom::http {

enum class Method { kGet, kPost, kPut, kDelete, kHead, kOptions, kPatch, kOther };

std::string_view method_name(Method m);
Method parse_method(std::string_view name);  // case-sensitive, as RFC 9110 says; unknown → kOther

// Reason phrase for a status line ("OK", "Not Found", ...); "Unknown" for codes we never send.
std::string_view status_reason(int status);

// Ordered header list; names compare case-insensitively.
class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  void set(std::string name, std::string value);  // replaces every entry with that name
  void erase(std::string_view name);
  const std::string* find(std::string_view name) const;
  std::string get(std::string_view name, std::string_view fallback = {}) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  const std::vector<Entry>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<Entry> items_;
};

bool iequals(std::string_view a, std::string_view b);

struct Request {
  Method method = Method::kGet;
  std::string target;  // as sent: path[?query]
  std::string path;    // target before '?'
  std::string query;   // after '?', undecoded
  Headers headers;
  std::string body;
  std::string remote_addr;  // peer IP, for X-Forwarded-For
  bool keep_alive = true;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
};

Response json_response(int status, std::string body);
Response text_response(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");

}  // namespace fathom::http
