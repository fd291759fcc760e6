#include "core/sysinfo.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace fathom {

static int64_t meminfo_field(const char* key) {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  int64_t kb = 0;
  const size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, key, n) == 0 && line[n] == ':') {
      long long v = 0;
      if (std::sscanf(line + n + 1, "%lld", &v) == 1) kb = v;
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

int64_t total_memory_bytes() { return meminfo_field("MemTotal"); }
int64_t available_memory_bytes() { return meminfo_field("MemAvailable"); }

int64_t resident_memory_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long long size = 0, rss = 0;
  const int got = std::fscanf(f, "%lld %lld", &size, &rss);
  std::fclose(f);
  return got == 2 ? rss * sysconf(_SC_PAGESIZE) : 0;
}

}  // namespace fathom
