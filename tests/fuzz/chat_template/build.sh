#!/usr/bin/env bash
# Builds the chat-template fuzz target with clang's libFuzzer, AddressSanitizer and UBSan (apt-get install clang-14
# libclang-rt-14-dev) and, with "run SECONDS", fuzzes from the committed seed corpus for that long.
#   tests/fuzz/chat_template/build.sh            # build only: build-fuzz/chat_template_fuzz
#   tests/fuzz/chat_template/build.sh run 600    # build, then fuzz for 10 minutes
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
CXX="${CXX:-$(command -v clang++-14 || command -v clang++)}"
OUT="$ROOT/build-fuzz"
mkdir -p "$OUT"
"$CXX" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I "$ROOT/src" "$ROOT"/src/tokenizer/jinja/*.cpp "$ROOT/tests/fuzz/chat_template/fuzz_chat_template.cpp" \
  -o "$OUT/chat_template_fuzz"
echo "built $OUT/chat_template_fuzz"
if [[ "${1:-}" == "run" ]]; then
  SECONDS_TO_RUN="${2:-60}"
  WORK="$OUT/chat_template_corpus"
  mkdir -p "$WORK"
  "$OUT/chat_template_fuzz" "$WORK" "$ROOT/tests/fuzz/chat_template/corpus" \
    -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -dict="$ROOT/tests/fuzz/chat_template/jinja.dict" -print_final_stats=1
fi
