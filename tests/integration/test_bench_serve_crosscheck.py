"""The same workload measured by `fathom bench serve` and by the independent Python client tools/bench_client.py
must agree within 5% on throughput and TTFT."""
import json
import pathlib
import subprocess
import sys

from bench_serve_helpers import random_args, run_bench, start_fake

CLIENT = pathlib.Path(__file__).resolve().parents[2] / "tools" / "bench_client.py"


def test_independent_client_agrees(fathom_bin, procs, tmp_path):
    # 60 requests, 15 at a time, 16 tokens each: ttft 250 ms, then a token every 20 ms (4 waves of 0.55 s).
    port = start_fake(procs, "--ttft", "0.25", "--itl", "0.02")
    common = ["--max-concurrency", "15"]
    _, ours = run_bench(fathom_bin, port, tmp_path, "--disable-warmup", *common, *random_args(60, 32, 16))
    ref = subprocess.run([sys.executable, str(CLIENT), "--base-url", f"http://127.0.0.1:{port}", "--num-prompts", "60",
                          "--input-len", "32", "--output-len", "16", *common],
                         capture_output=True, text=True, timeout=60)
    assert ref.returncode == 0, ref.stderr
    theirs = json.loads(ref.stdout)
    assert ours["completed"] == theirs["completed"] == 60
    assert ours["total_output_tokens"] == theirs["total_output_tokens"] == 60 * 16
    for key in ("output_throughput", "request_throughput", "mean_ttft_ms", "median_ttft_ms", "mean_tpot_ms",
                "mean_e2el_ms"):
        a, b = ours[key], theirs[key]
        print(f"{key}: fathom {a:.3f} vs independent {b:.3f}")
        assert abs(a - b) <= 0.05 * b, f"{key}: fathom {a:.3f} vs independent {b:.3f}"
