// --api-keys: "Authorization: Bearer <key>" checked against every configured key in constant time (the time
// taken depends on neither the key's content nor which key matched). /health and CORS preflights are open.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "http/types.h"

namespace fathom::server {

bool constant_time_equal(std::string_view a, std::string_view b);
// True when no keys are configured or the request carries one of them.
bool authorized(const std::vector<std::string>& keys, const http::Request& request);
// Paths served without a key, as LMDeploy does: /health*, and OPTIONS (CORS preflight).
bool auth_exempt(const http::Request& request);

}  // namespace fathom::server
