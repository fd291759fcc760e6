// What this machine has: memory from /proc/meminfo (0 when unknown).
#pragma once
#include <cstdint>

namespace fathom {

int64_t total_memory_bytes();      // MemTotal
int64_t available_memory_bytes();  // MemAvailable
int64_t resident_memory_bytes();   // this process's RSS (/proc/self/statm)

}  // namespace fathom
