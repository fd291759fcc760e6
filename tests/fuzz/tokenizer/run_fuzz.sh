#!/usr/bin/env bash
# Builds the tokenizer libFuzzer target with clang (-fsanitize=fuzzer,address) and runs it for N seconds (default
# 600) on a copy of the committed seed corpus. Needs clang and libclang-rt (Debian: clang-14, libclang-rt-14-dev).
# Usage: tests/fuzz/tokenizer/run_fuzz.sh [seconds] [extra libFuzzer flags...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
secs="${1:-600}"
shift || true
out="${FUZZ_OUT:-$root/build-fuzz}"
mkdir -p "$out/corpus"
CXX="${CXX_FUZZ:-clang++}"
srcs=$(ls "$root"/src/tokenizer/*.cpp | grep -v '/chat_template')
"$CXX" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -DFATHOM_SOURCE_DIR="\"$root\"" -I"$root/src" $srcs "$root/src/core/file_io.cpp" \
  "$root/tests/fuzz/tokenizer/tokenizer_fuzz.cpp" $(pkg-config --cflags --libs libpcre2-8) \
  -o "$out/tokenizer_fuzz"
cp -n "$root"/tests/fuzz/tokenizer/seeds/* "$out/corpus/" 2>/dev/null || true
"$out/tokenizer_fuzz" "$out/corpus" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 "$@"
