#include "server/auth.h"

namespace fathom::server {

bool constant_time_equal(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() != b.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool authorized(const std::vector<std::string>& keys, const http::Request& request) {
  if (keys.empty()) return true;
  const std::string* header = request.headers.find("Authorization");
  if (!header) return false;
  std::string_view auth = *header;
  constexpr std::string_view kScheme = "bearer ";
  if (auth.size() < kScheme.size() || !http::iequals(auth.substr(0, kScheme.size()), kScheme)) return false;
  std::string_view token = auth.substr(kScheme.size());
  bool ok = false;
  for (const std::string& k : keys) ok |= constant_time_equal(token, k);  // no early exit
  return ok;
}

bool auth_exempt(const http::Request& request) {
  return request.method == http::Method::kOptions || request.path.starts_with("/health");
}

}  // namespace fathom::server
