"""The same workload measured by `fathom bench serve` and by the independent Python client tools/bench_client.py
must agree within 5% on throughput and TTFT."""
import json
import pathlib
import subprocess
import sys

from bench_serve_helpers import random_args, run_bench, start_fake

CLIENT = pathlib.Path(__file__).resolve().parents[2] / "tools" / "bench_client.py"


def test_independent_client_agrees(fathom_bin, procs, tmp_path):
    # 80 requests, 20 at a time, 24 tokens each: ttft 100 ms, then a token every 10 ms (4 waves of 0.33 s).
    port = start_fake(procs, "--ttft", "0.1", "--itl", "0.01")
    common = ["--max-concurrency", "20"]
    _, ours = run_bench(fathom_bin, port, tmp_path, "--disable-warmup", *common, *random_args(80, 32, 24))
    ref = subprocess.run([sys.executable, str(CLIENT), "--base-url", f"http://127.0.0.1:{port}", "--num-prompts", "80",
                          "--input-len", "32", "--output-len", "24", *common],
                         capture_output=True, text=True, timeout=60)
    assert ref.returncode == 0, ref.stderr
    theirs = json.loads(ref.stdout)
    assert ours["completed"] == theirs["completed"] == 80
    assert ours["total_output_tokens"] == theirs["total_output_tokens"] == 80 * 24
    for key in ("output_throughput", "request_throughput", "mean_ttft_ms", "median_ttft_ms", "mean_tpot_ms",
                "mean_e2el_ms"):
        a, b = ours[key], theirs[key]
        assert abs(a - b) <= 0.05 * b, f"{key}: fathom {a:.3f} vs independent {b:.3f}"
