#!/usr/bin/env bash
# Builds the api_server request-parsing libFuzzer target with clang (-fsanitize=fuzzer,address,undefined) and
# runs it for N seconds (default 600) on a copy of the committed seed corpus. Needs clang and libclang-rt
# (Debian: clang-14, libclang-rt-14-dev). CMake does not need clang: this script is the only way the target builds.
# Usage: tests/fuzz/server/run_fuzz.sh [seconds] [extra libFuzzer flags...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
secs="${1:-600}"
shift || true
out="${FUZZ_OUT:-$root/build-fuzz-server}"
mkdir -p "$out/corpus"
CXX="${CXX_FUZZ:-clang++}"
"$CXX" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$root/src" \
  "$root/src/server/request_parser.cpp" "$root/src/server/reasoning_parser.cpp" \
  "$root/src/server/tool_call_parser.cpp" "$root/tests/fuzz/server/request_fuzz.cpp" -o "$out/request_fuzz"
cp -n "$root"/tests/fuzz/server/corpus/* "$out/corpus/" 2>/dev/null || true
"$out/request_fuzz" "$out/corpus" -dict="$root/tests/fuzz/server/request.dict" -max_total_time="$secs" \
  -max_len=8192 -timeout=10 -rss_limit_mb=2048 "$@"
