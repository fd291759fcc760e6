#!/usr/bin/env bash
# The main job on a fresh machine: install, build, then serve the embedded default model (tiny preset, random
# weights, the real DeepSeek-V3 tokenizer; created on first use) with `fathom serve api_server`, benchmark it with
# `fathom bench serve` (profile_restful_api.py flags and metrics) and stop the server cleanly.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install_deps.sh"
"$here/scripts/build.sh"
bin="$here/build/fathom"
port=${FATHOM_PORT:-23333}
log=$(mktemp /tmp/fathom-api-server.XXXXXX.log)

"$bin" model inspect
"$bin" serve api_server --server-name 127.0.0.1 --server-port "$port" --cache-max-entry-count 0.2 >"$log" 2>&1 &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    kill -INT "$server"
    wait "$server" || true
  fi
}
trap stop_server EXIT

# Ready when /health answers 200 (503 while loading).
for _ in $(seq 1 300); do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "api_server exited during start-up:" >&2
    cat "$log" >&2
    exit 1
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
  [ "$code" = "200" ] && break
  sleep 1
done
[ "$code" = "200" ] || { echo "api_server not ready after 300 s" >&2; cat "$log" >&2; exit 1; }

"$bin" bench serve --backend lmdeploy --base-url "http://127.0.0.1:$port" --dataset-name random \
  --num-prompts 64 --random-input-len 256 --random-output-len 128 --max-concurrency 16 --seed 0 \
  --output-json /tmp/fathom-bench-serve.json --report /tmp/fathom-bench-serve.html
echo "results: /tmp/fathom-bench-serve.json, report: /tmp/fathom-bench-serve.html"
