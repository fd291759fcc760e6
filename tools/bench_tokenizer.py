#!/usr/bin/env python3
"""Encode throughput, one thread, Fathom vs the `tokenizers` library in the same run, on a >= 10 MB synthetic corpus.

Fathom: the Google Benchmark binary build*/tokenizer_bench (BM_Encode, --benchmark_repetitions, median).
tokenizers: Tokenizer.from_file(assets/tokenizer.json); a Python loop of encode(line) and encode_batch(lines), with
TOKENIZERS_PARALLELISM=false (one thread). Throughput = UTF-8 input bytes / CPU seconds of the process (median of
--repeats); wall-clock MB/s is shown too (the build machine is shared, so wall time is noisier).

Usage: python3 tools/bench_tokenizer.py --bench build-tok/tokenizer_bench [--mb 12] [--repeats 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=str(ROOT / "build" / "tokenizer_bench"))
    ap.add_argument("--mb", type=float, default=12.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--corpus", default="/tmp/fathom_tokenizer_bench.jsonl")
    args = ap.parse_args()
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["RAYON_NUM_THREADS"] = "1"
    if not Path(args.corpus).exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "gen_tokenizer_corpus.py"), "--bytes",
                        str(int(args.mb * 1e6)), "--seed", "7", "--out", args.corpus], check=True)
    lines = [json.loads(l) for l in open(args.corpus, encoding="utf-8")]
    n_bytes = sum(len(l.encode("utf-8")) for l in lines)
    print("corpus: %s, %d lines, %.1f MB" % (args.corpus, len(lines), n_bytes / 1e6))

    env = dict(os.environ, FATHOM_TOKENIZER_BENCH_CORPUS=args.corpus)
    res = subprocess.run([args.bench, "--benchmark_filter=BM_Encode", "--benchmark_repetitions=%d" % args.repeats,
                          "--benchmark_format=json", "--benchmark_min_time=0.1"],
                         env=env, check=True, capture_output=True, text=True)
    runs = [b for b in json.loads(res.stdout)["benchmarks"] if b.get("run_type") == "iteration"]
    fathom_cpu = statistics.median(b["bytes_per_second"] for b in runs) / 1e6
    fathom_wall = statistics.median(n_bytes / (b["real_time"] / 1e3) for b in runs) / 1e6

    from tokenizers import Tokenizer
    import tokenizers
    tok = Tokenizer.from_file(str(ROOT / "assets" / "tokenizer.json"))

    def measure(fn):
        cpu, wall = [], []
        for _ in range(args.repeats):
            c0, w0 = time.process_time(), time.perf_counter()
            fn()
            cpu.append(n_bytes / (time.process_time() - c0) / 1e6)
            wall.append(n_bytes / (time.perf_counter() - w0) / 1e6)
        return statistics.median(cpu), statistics.median(wall)

    loop_cpu, loop_wall = measure(lambda: [tok.encode(l, add_special_tokens=False) for l in lines])
    batch_cpu, batch_wall = measure(lambda: tok.encode_batch(lines, add_special_tokens=False))
    print("| encoder | MB/s (CPU time) | MB/s (wall) |")
    print("|---|---|---|")
    print("| Fathom Tokenizer::encode | %.2f | %.2f |" % (fathom_cpu, fathom_wall))
    print("| tokenizers %s encode loop | %.2f | %.2f |" % (tokenizers.__version__, loop_cpu, loop_wall))
    print("| tokenizers %s encode_batch (1 thread) | %.2f | %.2f |" % (tokenizers.__version__, batch_cpu, batch_wall))
    print("speed-up vs best tokenizers (CPU time): %.2fx" % (fathom_cpu / max(loop_cpu, batch_cpu)))


if __name__ == "__main__":
    main()
