#!/usr/bin/env bash
# Fathom against llama.cpp on the same machine, in the same run (issue 8: CPU performance).
#
#   LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin tools/bench_vs_llamacpp.sh [--reps N] [--no-serve] [--only-serve]
#
# llama.cpp is the user's own CPU build (this script never fetches or builds it): LLAMA_CPP_BIN must hold
# llama-bench, llama-batched-bench and llama-server. Fathom's side comes from FATHOM_BUILD (default: build/):
# model_forward_bench and fathom.
#
# What it does:
#   1. creates the presets if missing, in the folders model_forward_bench uses (/tmp/fathom-bench-{tiny,small,
#      small-fp8}; same default seed, so both engines run the same weights);
#   2. converts them with tools/preset_to_gguf.py (needs `pip install -r tools/requirements-peer.txt`):
#      tiny bf16, small bf16, small Q8_0 (GGUFs cached under $PEER_WORK, default /tmp/fathom-peer);
#   3. runs each workload N times (default 3), Fathom and llama.cpp back to back, alternating which goes first:
#        prefill 512          model_forward_bench BM_Prefill/<preset>/512   vs  llama-bench -p 512 -n 0
#        decode B=1           model_forward_bench BM_Decode/<preset>/1      vs  llama-bench -p 0 -n 128
#        decode B=32          model_forward_bench BM_Decode/small/32        vs  llama-batched-bench -npp 128 -ntg 128
#                                                                                -npl 32 (S_TG)
#        fp8 decode B=1       model_forward_bench BM_Decode/small_fp8/1     vs  llama-bench -p 0 -n 128 on Q8_0
#        (and with lm_head quantized at load, BM_Decode/small_fp8_head/1, against the same Q8_0 run)
#        serve                fathom bench serve (64 prompts, input 256, output 128, concurrency 16, random) against
#                             fathom serve api_server  vs  against llama-server -np 16
#   4. prints a markdown table of medians and ratios (Fathom / llama.cpp; for p99 TTFT llama.cpp / Fathom, so
#      > 1 is better for Fathom everywhere), plus the raw per-repetition values and the load average.
#
# Each value is itself the median of INNER (default 3) samples: --benchmark_repetitions for model_forward_bench,
# -r for llama-bench (its samples_ts); llama-batched-bench and the serve runs are single samples.
# For every measurement the script also reports other people's CPU use while it ran ("others", in cores): the
# machine's non-idle time from /proc/stat minus this script's own children (servers, benches, client), from
# /proc/$$/stat. llama.cpp's threads spin at barriers and slow down far more than Fathom's when a core is taken by
# someone else (seen here: llama-server fell from ~124 to ~12 output tok/s), so trust only rows with others ≈ 0.
#
# Environment: THREADS (default 2), REPS (default 3), INNER (default 3), PEER_WORK (default /tmp/fathom-peer), PYTHON (python3),
# FATHOM_BUILD, FATHOM_PORT / LLAMA_PORT (default: free ports), SERVE_PROMPTS (64), SERVE_INPUT (256),
# SERVE_OUTPUT (128), SERVE_CONCURRENCY (16), SERVE_RANGE_RATIO (0, as scripts/run.sh), SERVER_READY_TIMEOUT (300 s),
# LLAMA_BENCH_EXTRA / LLAMA_SERVER_EXTRA (extra flags, e.g. "-fa on").
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
SERVE=1
SERVE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --reps=*) REPS=${1#*=}; shift ;;
    --no-serve) SERVE=0; shift ;;
    --only-serve) SERVE_ONLY=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "bench_vs_llamacpp: $*" >&2; exit 1; }

THREADS=${THREADS:-2}
PYTHON=${PYTHON:-python3}
FATHOM_BUILD=${FATHOM_BUILD:-$here/build}
PEER_WORK=${PEER_WORK:-/tmp/fathom-peer}
SERVE_PROMPTS=${SERVE_PROMPTS:-64}
SERVE_INPUT=${SERVE_INPUT:-256}
SERVE_OUTPUT=${SERVE_OUTPUT:-128}
SERVE_CONCURRENCY=${SERVE_CONCURRENCY:-16}
SERVE_RANGE_RATIO=${SERVE_RANGE_RATIO:-0}
SERVER_READY_TIMEOUT=${SERVER_READY_TIMEOUT:-300}
INNER=${INNER:-3}
LLAMA_BENCH_EXTRA=${LLAMA_BENCH_EXTRA:-}
LLAMA_SERVER_EXTRA=${LLAMA_SERVER_EXTRA:-}

[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer (got '$REPS')"
[[ "$INNER" =~ ^[1-9][0-9]*$ ]] || die "INNER must be a positive integer (got '$INNER')"
[ -n "${LLAMA_CPP_BIN:-}" ] || die "set LLAMA_CPP_BIN to the folder with your llama.cpp build's llama-bench, llama-batched-bench and llama-server (this script does not fetch or build llama.cpp)"
LLAMA_CPP_BIN=$(cd "$LLAMA_CPP_BIN" 2>/dev/null && pwd) || die "LLAMA_CPP_BIN=$LLAMA_CPP_BIN is not a folder"
for b in llama-bench llama-batched-bench llama-server; do
  [ -x "$LLAMA_CPP_BIN/$b" ] || die "$LLAMA_CPP_BIN/$b not found or not executable"
done
for b in fathom model_forward_bench; do
  [ -x "$FATHOM_BUILD/$b" ] || die "$FATHOM_BUILD/$b not found: build Fathom first (scripts/build.sh) or set FATHOM_BUILD"
done
command -v curl >/dev/null || die "curl is needed (readiness checks)"
"$PYTHON" -c 'import gguf, numpy' 2>/dev/null || die "the gguf package is missing: $PYTHON -m pip install -r $here/tools/requirements-peer.txt"

mkdir -p "$PEER_WORK"
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out_dir="$PEER_WORK/run-$run_id"
mkdir -p "$out_dir"
results="$out_dir/results.tsv"   # workload <TAB> side <TAB> rep <TAB> value
: >"$results"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
echo "load_start	$(load_avg)" >"$out_dir/load.tsv"

# ---- servers are ours to stop, by pid ----------------------------------------------------------------------------
server_pids=()
cleanup() {
  local p
  for p in "${server_pids[@]:-}"; do
    [ -n "$p" ] || continue
    if kill -0 "$p" 2>/dev/null; then
      kill -INT "$p" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  server_pids=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready PID URL LOG NAME: /health answers 200 (llama-server and fathom both answer 503 while loading)
wait_ready() {
  local pid=$1 url=$2 logf=$3 name=$4 code=000
  for _ in $(seq 1 "$SERVER_READY_TIMEOUT"); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited during start-up; its log ($logf):" >&2
      tail -n 40 "$logf" >&2
      return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/health" || true)
    [ "$code" = "200" ] && return 0
    sleep 1
  done
  echo "$name not ready after $SERVER_READY_TIMEOUT s (last /health: $code); its log ($logf):" >&2
  tail -n 40 "$logf" >&2
  return 1
}

# cpu_snap: "<machine non-idle ticks> <total ticks> <this shell's own + reaped children's ticks>". Our background
# servers count once they are reaped (cleanup waits for them), so take the second snapshot after cleanup.
cpu_snap() {
  local user nice sys idle iowait irq softirq steal self
  read -r _ user nice sys idle iowait irq softirq steal _ </proc/stat
  self=$(sed 's/.*) //' "/proc/$$/stat" | awk '{print $12 + $13 + $14 + $15}')
  echo "$(( user + nice + sys + irq + softirq + steal )) $(( user + nice + sys + idle + iowait + irq + softirq + steal )) $self"
}
# others_cores SNAP0 SNAP1: cores' worth of CPU used by processes not ours between the snapshots
others_cores() {
  local b0 t0 s0 b1 t1 s1
  read -r b0 t0 s0 <<<"$1"
  read -r b1 t1 s1 <<<"$2"
  awk -v b=$(( b1 - b0 )) -v t=$(( t1 - t0 )) -v s=$(( s1 - s0 )) -v n="$(nproc)" \
    'BEGIN { o = (t > 0) ? (b - s) / t * n : 0; if (o < 0) o = 0; printf "%.2f", o }'
}
# measured SIDE WORKLOAD CMD...: run CMD, then note others' CPU during it
measured() {
  local side=$1 workload=$2 s0 s1 o; shift 2
  s0=$(cpu_snap)
  "$@"
  s1=$(cpu_snap)
  o=$(others_cores "$s0" "$s1")
  printf '%s\t%s\t%s\n' "$workload" "$side" "$o" >>"$out_dir/others.tsv"
  log "  ($side $workload: others used $o cores meanwhile)"
}

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; }

# ---- presets and GGUF copies -------------------------------------------------------------------------------------
ensure_preset() {  # name preset dtype
  local dir=/tmp/fathom-bench-$1
  if [ ! -f "$dir/config.json" ] || ! ls "$dir"/*.safetensors >/dev/null 2>&1; then
    log "creating preset $2 ($3) in $dir"
    "$FATHOM_BUILD/fathom" model create --preset "$2" --dtype "$3" --out "$dir" >&2
  fi
}
ensure_gguf() {  # src_dir outtype dest
  local src=$1 outtype=$2 dest=$3
  if [ ! -f "$dest" ] || [ "$src/config.json" -nt "$dest" ] || [ "$here/tools/preset_to_gguf.py" -nt "$dest" ]; then
    log "converting $src -> $dest ($outtype)"
    "$PYTHON" "$here/tools/preset_to_gguf.py" "$src" --outtype "$outtype" --out "$dest"
  fi
}
ensure_preset tiny tiny bf16
ensure_preset small small bf16
ensure_preset small-fp8 small fp8
G_TINY=$PEER_WORK/tiny-bf16.gguf
G_SMALL=$PEER_WORK/small-bf16.gguf
G_SMALL_Q8=$PEER_WORK/small-q8_0.gguf
ensure_gguf /tmp/fathom-bench-tiny bf16 "$G_TINY"
ensure_gguf /tmp/fathom-bench-small bf16 "$G_SMALL"
ensure_gguf /tmp/fathom-bench-small q8_0 "$G_SMALL_Q8"

# ---- one measurement each ----------------------------------------------------------------------------------------
# fathom_forward WORKLOAD FILTER REP: one Google Benchmark repetition of one case; its tok/s counter.
fathom_forward() {
  local workload=$1 filter=$2 rep=$3 f="$out_dir/fathom-$1-$3.json"
  "$FATHOM_BUILD/model_forward_bench" --benchmark_filter="$filter" --benchmark_repetitions="$INNER" \
    --benchmark_out="$f" --benchmark_out_format=json >"$f.stdout" 2>"$f.stderr" ||
    { tail -n 20 "$f.stderr" >&2; die "model_forward_bench --benchmark_filter='$filter' failed"; }
  local v
  v=$("$PYTHON" - "$f" <<'EOF'
import json, statistics, sys
d = json.load(open(sys.argv[1]))
b = [x for x in d["benchmarks"] if x.get("run_type", "iteration") == "iteration"]
names = sorted({x["run_name"] for x in b})
if len(names) != 1:
    sys.exit(f"expected one benchmark, got {names}")
print(statistics.median(x["tok/s"] for x in b))
EOF
) || die "no tok/s in $f (filter '$filter' matched nothing?)"
  record "$workload" fathom "$rep" "$v"
  log "  fathom  $workload: $v tok/s"
}

# llama_bench WORKLOAD MODEL REP ARGS...: llama-bench's avg_ts for one test.
llama_bench() {
  local workload=$1 model=$2 rep=$3; shift 3
  local f="$out_dir/llama-$workload-$rep.json"
  # shellcheck disable=SC2086
  "$LLAMA_CPP_BIN/llama-bench" -m "$model" -t "$THREADS" -r "$INNER" -o json "$@" $LLAMA_BENCH_EXTRA \
    >"$f" 2>"$f.stderr" || { tail -n 20 "$f.stderr" >&2; die "llama-bench $* failed"; }
  local v
  v=$("$PYTHON" -c 'import json,statistics,sys; d=json.load(open(sys.argv[1])); assert len(d)==1, d; print(statistics.median(d[0]["samples_ts"]))' "$f") ||
    die "could not read llama-bench output $f"
  record "$workload" llama.cpp "$rep" "$v"
  log "  llama   $workload: $v tok/s"
}

# llama_batched WORKLOAD MODEL REP B: S_TG of llama-batched-bench, B sequences, 128 prompt + 128 generated each.
llama_batched() {
  local workload=$1 model=$2 rep=$3 B=$4
  local f="$out_dir/llama-$workload-$rep.jsonl" ctx=$(( B * 256 + 256 ))
  # shellcheck disable=SC2086
  "$LLAMA_CPP_BIN/llama-batched-bench" -m "$model" -t "$THREADS" -c "$ctx" -b 2048 -ub 512 \
    -npp 128 -ntg 128 -npl "$B" --output-format jsonl $LLAMA_BENCH_EXTRA >"$f" 2>"$f.stderr" ||
    { tail -n 20 "$f.stderr" >&2; die "llama-batched-bench failed"; }
  local v
  v=$("$PYTHON" - "$f" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.lstrip().startswith("{")]
if not rows:
    rows = [json.loads(l) for l in open(sys.argv[1] + ".stderr") if l.lstrip().startswith("{")]
print(rows[-1]["speed_tg"])
EOF
) || die "no speed_tg in $f"
  record "$workload" llama.cpp "$rep" "$v"
  log "  llama   $workload: $v tok/s (S_TG)"
}

bench_serve() {  # SIDE PORT REP
  local side=$1 port=$2 rep=$3 f="$out_dir/serve-$1-$3.json"
  "$FATHOM_BUILD/fathom" bench serve --backend openai --base-url "http://127.0.0.1:$port" --dataset-name random \
    --num-prompts "$SERVE_PROMPTS" --random-input-len "$SERVE_INPUT" --random-output-len "$SERVE_OUTPUT" \
    --random-range-ratio "$SERVE_RANGE_RATIO" --max-concurrency "$SERVE_CONCURRENCY" --seed 0 --disable-tqdm \
    --output-json "$f" >"$f.stdout" 2>"$f.stderr" ||
    { tail -n 30 "$f.stdout" "$f.stderr" >&2; die "fathom bench serve against $side failed"; }
  local vals
  vals=$("$PYTHON" - "$f" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d = d[0] if isinstance(d, list) else d
if d["failed"]:
    sys.exit(f"{d['failed']} requests failed")
print(d["output_throughput"], d["p99_ttft_ms"] / 1000.0)
EOF
) || die "bench serve against $side: $vals (see $f)"
  read -r tput ttft <<<"$vals"
  record serve_tput "$side" "$rep" "$tput"
  record serve_p99_ttft "$side" "$rep" "$ttft"
  log "  $side serve: $tput output tok/s, p99 TTFT $ttft s"
}

serve_fathom() {  # REP
  local port=${FATHOM_PORT:-$(free_port)} logf="$out_dir/fathom-server-$1.log"
  "$FATHOM_BUILD/fathom" serve api_server /tmp/fathom-bench-small --server-name 127.0.0.1 --server-port "$port" \
    --threads "$THREADS" --cache-tokens $(( SERVE_CONCURRENCY * 1024 )) >"$logf" 2>&1 &
  local pid=$!
  server_pids+=("$pid")
  wait_ready "$pid" "http://127.0.0.1:$port" "$logf" "fathom api_server" || die "fathom api_server did not start"
  bench_serve fathom "$port" "$1"
  cleanup
}

serve_llama() {  # REP
  local port=${LLAMA_PORT:-$(free_port)} logf="$out_dir/llama-server-$1.log"
  # -c: 16 slots x 512 tokens (a prompt of <= 256 plus 128 generated fits in a slot either way)
  # shellcheck disable=SC2086
  "$LLAMA_CPP_BIN/llama-server" -m "$G_SMALL" --host 127.0.0.1 --port "$port" -t "$THREADS" \
    -np "$SERVE_CONCURRENCY" -c $(( SERVE_CONCURRENCY * 512 )) --no-webui $LLAMA_SERVER_EXTRA >"$logf" 2>&1 &
  local pid=$!
  server_pids+=("$pid")
  wait_ready "$pid" "http://127.0.0.1:$port" "$logf" "llama-server" || die "llama-server did not start"
  bench_serve llama.cpp "$port" "$1"
  cleanup
}

# pair REP FATHOM_CMD... -- PEER_CMD...: run both, Fathom first on odd repetitions, llama.cpp first on even ones.
pair() {
  local rep=$1; shift
  local a=() b=() label=$2
  [ "$1" = serve_fathom ] && label=serve
  while [ "$1" != "--" ]; do a+=("$1"); shift; done
  shift
  b=("$@")
  if [ $(( rep % 2 )) -eq 1 ]; then
    measured fathom "$label" "${a[@]}"; measured llama.cpp "$label" "${b[@]}"
  else
    measured llama.cpp "$label" "${b[@]}"; measured fathom "$label" "${a[@]}"
  fi
}

log "results in $out_dir (reps $REPS, threads $THREADS, load $(load_avg))"
for rep in $(seq 1 "$REPS"); do
  log "repetition $rep/$REPS (load $(load_avg))"
  echo "rep$rep	$(load_avg)" >>"$out_dir/load.tsv"
  if [ "$SERVE_ONLY" = 0 ]; then
    pair "$rep" fathom_forward small_pp512 '^BM_Prefill/small/512' "$rep" -- llama_bench small_pp512 "$G_SMALL" "$rep" -p 512 -n 0
    pair "$rep" fathom_forward small_tg '^BM_Decode/small/1/' "$rep" -- llama_bench small_tg "$G_SMALL" "$rep" -p 0 -n 128
    pair "$rep" fathom_forward small_b32 '^BM_Decode/small/32/' "$rep" -- llama_batched small_b32 "$G_SMALL" "$rep" 32
    pair "$rep" fathom_forward small_fp8_tg '^BM_Decode/small_fp8/1/' "$rep" -- llama_bench small_fp8_tg "$G_SMALL_Q8" "$rep" -p 0 -n 128
    pair "$rep" fathom_forward small_fp8h_tg '^BM_Decode/small_fp8_head/1/' "$rep" -- llama_bench small_fp8h_tg "$G_SMALL_Q8" "$rep" -p 0 -n 128
    pair "$rep" fathom_forward tiny_pp512 '^BM_Prefill/tiny/512' "$rep" -- llama_bench tiny_pp512 "$G_TINY" "$rep" -p 512 -n 0
    pair "$rep" fathom_forward tiny_tg '^BM_Decode/tiny/1/' "$rep" -- llama_bench tiny_tg "$G_TINY" "$rep" -p 0 -n 128
  fi
  if [ "$SERVE" = 1 ]; then
    pair "$rep" serve_fathom "$rep" -- serve_llama "$rep"
  fi
done
echo "load_end	$(load_avg)" >>"$out_dir/load.tsv"
touch "$out_dir/others.tsv"

# ---- table -------------------------------------------------------------------------------------------------------
"$PYTHON" - "$results" "$out_dir/load.tsv" "$REPS" "$THREADS" "$INNER" "$out_dir/others.tsv" <<'EOF' | tee "$out_dir/table.md"
import statistics, sys
from collections import defaultdict
results, loadf, reps, threads, inner, othersf = sys.argv[1:7]
others = defaultdict(list)
for line in open(othersf):
    w, side, o = line.rstrip("\n").split("\t")
    others[("serve_tput" if w == "serve" else w, side)].append(float(o))
    if w == "serve":
        others[("serve_p99_ttft", side)].append(float(o))
vals = defaultdict(list)
for line in open(results):
    w, side, rep, v = line.rstrip("\n").split("\t")
    vals[(w, side)].append(float(v))
rows = [  # workload, label, unit, Fathom case, llama.cpp case, higher is better
    ("small_pp512", "small bf16 prefill 512", "tok/s", "BM_Prefill/small/512", "llama-bench pp512", True),
    ("small_tg", "small bf16 decode B=1", "tok/s", "BM_Decode/small/1", "llama-bench tg128", True),
    ("small_b32", "small bf16 decode B=32", "tok/s", "BM_Decode/small/32", "batched-bench B=32 S_TG", True),
    ("small_fp8_tg", "small fp8 decode B=1 vs Q8_0", "tok/s", "BM_Decode/small_fp8/1", "llama-bench tg128 (Q8_0)", True),
    ("small_fp8h_tg", "small fp8 + --lm-head-dtype fp8, B=1 vs Q8_0", "tok/s", "BM_Decode/small_fp8_head/1", "llama-bench tg128 (Q8_0)", True),
    ("tiny_pp512", "tiny bf16 prefill 512", "tok/s", "BM_Prefill/tiny/512", "llama-bench pp512", True),
    ("tiny_tg", "tiny bf16 decode B=1", "tok/s", "BM_Decode/tiny/1", "llama-bench tg128", True),
    ("serve_tput", "serve: output tok/s", "tok/s", "fathom api_server", "llama-server -np 16", True),
    ("serve_p99_ttft", "serve: p99 TTFT", "s", "fathom api_server", "llama-server -np 16", False),
]
fmt = lambda x: f"{x:,.1f}" if x >= 10 else f"{x:.2f}"
print(f"\n## Fathom vs llama.cpp, same run (medians of {reps} repetitions x {inner} samples; {threads} threads)\n")
print("| workload | Fathom | llama.cpp | ratio | others' CPU (cores) F / L | Fathom case | llama.cpp case |")
print("|---|---|---|---|---|---|---|")
for w, label, unit, fc, lc, higher in rows:
    f, l = vals.get((w, "fathom")), vals.get((w, "llama.cpp"))
    if not f and not l:
        continue
    fm = statistics.median(f) if f else None
    lm = statistics.median(l) if l else None
    ratio = "—"
    if fm and lm:
        ratio = f"{fm / lm:.2f}×" if higher else f"{lm / fm:.2f}× (llama.cpp / Fathom)"
    oth = lambda side: f"{max(others[(w, side)]):.2f}" if others.get((w, side)) else "—"
    print(f"| {label} ({unit}) | {fmt(fm) if fm is not None else '—'} | {fmt(lm) if lm is not None else '—'} | {ratio} "
          f"| {oth('fathom')} / {oth('llama.cpp')} | {fc} | {lc} |")
print("\nRaw values per repetition:\n")
for (w, side), v in sorted(vals.items()):
    o = others.get((w, side), [])
    print(f"- {w} {side}: " + ", ".join(fmt(x) for x in v)
          + (" (others' CPU: " + ", ".join(f"{x:.2f}" for x in o) + " cores)" if o else ""))
print("\n\"others' CPU\" is the worst repetition's CPU use by processes not started by this script, in cores, while "
      "the value was measured; rows where it is well above 0 compare a disturbed peer (llama.cpp's spinning threads "
      "suffer far more from a busy core than Fathom's).")
print("\nLoad average (1/5/15 min): " + "; ".join(" ".join(l.split("\t")) for l in open(loadf).read().splitlines()))
EOF
log "done: $out_dir/table.md"
