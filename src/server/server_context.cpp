#include "server/server_context.h"

#include <cstdio>

namespace fathom::server {

std::string ServerContext::make_id(const char* prefix) {
  // splitmix64 of a counter seeded from this object's address and the clock: distinct ids, no shared RNG state.
  uint64_t x = id_counter.fetch_add(1, std::memory_order_relaxed) + 0x9e3779b97f4a7c15ull;
  x ^= reinterpret_cast<uintptr_t>(this);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%016llx%08x", prefix, static_cast<unsigned long long>(x),
                static_cast<unsigned>(id_counter.load(std::memory_order_relaxed)));
  return buf;
}

}  // namespace fathom::server
