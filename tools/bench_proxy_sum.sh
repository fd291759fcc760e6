#!/usr/bin/env bash
# Proxy with real api_servers: two nodes (one compute thread each) benchmarked directly at the same time (two
# clients, one per node: the sum of the nodes under the same machine load), then both through
# `fathom serve proxy` with one client sending the same total. Prints the numbers and the ratio proxy / (A + B).
#   tools/bench_proxy_sum.sh [build/fathom] [MODEL]
set -euo pipefail
bin=${1:-build/fathom}
model=${2:-}
pa=24101; pb=24102; pp=24100
args=(--backend lmdeploy --dataset-name random --random-input-len 128 --random-output-len 64
      --random-range-ratio 1 --seed 0 --disable-tqdm)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_ready() { for _ in $(seq 1 120); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/health")" = 200 ] && return 0; sleep 0.5; done; return 1; }
out_tput() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['output_throughput'])" "$1"; }

"$bin" serve api_server $model --server-name 127.0.0.1 --server-port $pa --threads 1 --cache-tokens 65536 >/dev/null 2>&1 & pids+=($!)
"$bin" serve api_server $model --server-name 127.0.0.1 --server-port $pb --threads 1 --cache-tokens 65536 >/dev/null 2>&1 & pids+=($!)
wait_ready http://127.0.0.1:$pa && wait_ready http://127.0.0.1:$pb
"$bin" bench serve "${args[@]}" --num-prompts 48 --max-concurrency 8 --base-url http://127.0.0.1:$pa --output-json /tmp/fathom-sum-a.json >/dev/null &
ca=$!
"$bin" bench serve "${args[@]}" --num-prompts 48 --max-concurrency 8 --base-url http://127.0.0.1:$pb --output-json /tmp/fathom-sum-b.json >/dev/null
wait $ca
"$bin" serve proxy --server-name 127.0.0.1 --server-port $pp --strategy min_expected_latency >/dev/null 2>&1 & pids+=($!)
wait_ready http://127.0.0.1:$pp
for p in $pa $pb; do
  curl -s -X POST "http://127.0.0.1:$pp/nodes/add" -H 'Content-Type: application/json' -d "{\"url\": \"http://127.0.0.1:$p\"}" >/dev/null
done
"$bin" bench serve "${args[@]}" --num-prompts 96 --max-concurrency 16 --base-url http://127.0.0.1:$pp \
  --output-json /tmp/fathom-sum-proxy.json >/dev/null
a=$(out_tput /tmp/fathom-sum-a.json); b=$(out_tput /tmp/fathom-sum-b.json); p=$(out_tput /tmp/fathom-sum-proxy.json)
python3 -c "import sys; a,b,p=map(float,sys.argv[1:]); print(f'node A {a:.1f} tok/s, node B {b:.1f} tok/s, A+B {a+b:.1f}, through proxy {p:.1f}: ratio {p/(a+b):.3f}')" "$a" "$b" "$p"
