#include "http/client.h"

#include <charconv>

namespace fathom::http {

Expected<Url> parse_url(std::string_view url) {
  Url out;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return Status::error("URL '" + std::string(url) + "': only http:// is supported");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty()) return Status::error("URL '" + std::string(url) + "' has no host");
  std::string_view host = authority;
  if (authority.front() == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::error("URL '" + std::string(url) + "': bad IPv6 host");
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
  } else {
    size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!authority.empty()) {
    if (authority.front() != ':') return Status::error("URL '" + std::string(url) + "': bad port");
    authority.remove_prefix(1);
    unsigned port = 0;
    auto [p, ec] = std::from_chars(authority.data(), authority.data() + authority.size(), port);
    if (ec != std::errc() || p != authority.data() + authority.size() || port == 0 || port > 65535) {
      return Status::error("URL '" + std::string(url) + "': bad port");
    }
    out.port = static_cast<uint16_t>(port);
  }
  if (host.empty()) return Status::error("URL '" + std::string(url) + "' has no host");
  out.host = std::string(host);
  return out;
}

}  // namespace fathom::http
