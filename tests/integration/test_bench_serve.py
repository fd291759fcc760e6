"""`fathom bench serve` against the scripted fake server: metric definitions checked against known timings,
failures counted and shown, arrivals, concurrency limit, sweeps, datasets, errors."""
import json
import pathlib
import statistics

import pytest

from bench_serve_helpers import random_args, run_bench, start_fake

SAMPLE = pathlib.Path(__file__).resolve().parents[1] / "golden" / "bench" / "sharegpt_sample.json"


def test_metrics_match_scripted_timings(fathom_bin, procs, tmp_path):
    # Every request: 10 tokens in 5 chunks of 2; chunk i at arrival + 0.2 + 0.05 i; then usage and [DONE].
    port = start_fake(procs, "--ttft", "0.2", "--itl", "0.05", "--tokens-per-chunk", "2", "--usage")
    proc, j = run_bench(fathom_bin, port, tmp_path, "--backend", "openai", "--max-concurrency", "4",
                        "--disable-warmup", *random_args(8, 16, 10))
    assert j["completed"] == 8 and j["failed"] == 0
    assert j["output_lens"] == [10] * 8 and j["total_output_tokens"] == 80
    assert j["input_lens"] == [16] * 8 and j["total_input_tokens"] == 128
    for ttft, itls, e2el in zip(j["ttfts"], j["itls"], j["e2els"]):
        assert 0.2 <= ttft < 0.2 + 0.04, ttft
        assert len(itls) == 4  # per chunk, not per token
        for gap in itls:
            assert abs(gap - 0.05) < 0.02, itls
        assert 0.4 <= e2el < 0.4 + 0.04, e2el
    # TPOT = (latency - ttft) / (output_len - 1) = 0.2 / 9 per request.
    assert abs(j["mean_tpot_ms"] - 200 / 9) < 2.0, j["mean_tpot_ms"]
    assert abs(j["mean_ttft_ms"] - 200) < 20 and abs(j["mean_itl_ms"] - 50) < 5
    # Aggregates are the defined functions of the per-request arrays.
    tpots = [(e - t) / (n - 1) for t, e, n in zip(j["ttfts"], j["e2els"], j["output_lens"])]
    assert j["mean_tpot_ms"] == pytest.approx(statistics.fmean(tpots) * 1000, rel=1e-9)
    assert j["mean_ttft_ms"] == pytest.approx(statistics.fmean(j["ttfts"]) * 1000, rel=1e-9)
    assert j["median_itl_ms"] == pytest.approx(statistics.median(g for r in j["itls"] for g in r) * 1000, rel=1e-9)
    assert j["output_throughput"] == pytest.approx(80 / j["duration"], rel=1e-9)
    assert j["request_throughput"] == pytest.approx(8 / j["duration"], rel=1e-9)
    assert j["input_throughput"] == pytest.approx(128 / j["duration"], rel=1e-9)
    # Two waves of four 0.4 s requests.
    assert 0.8 <= j["duration"] < 1.0, j["duration"]
    assert j["max_concurrent_requests"] == 4
    assert "Successful requests:                     8" in proc.stdout
    assert "Mean TPOT (ms):" in proc.stdout and "Mean ITL (ms):" in proc.stdout


def test_chat_role_chunk_is_not_the_first_token(fathom_bin, procs, tmp_path):
    port = start_fake(procs, "--ttft", "0.15", "--itl", "0.02", "--role-chunk")
    _, j = run_bench(fathom_bin, port, tmp_path, "--backend", "lmdeploy-chat", "--disable-warmup",
                     *random_args(4, 8, 6))
    assert j["completed"] == 4
    assert all(0.15 <= t < 0.19 for t in j["ttfts"]), j["ttfts"]
    assert all(len(r) == 5 for r in j["itls"])
    # No usage sent and ignore_eos on: the requested length counts (as profile_restful_api.py does).
    assert j["output_lens"] == [6] * 4


def test_failed_requests_are_counted_and_shown(fathom_bin, procs, tmp_path):
    # Requests 4, 8, 12, 16, 20 get HTTP 500; 5, 10, 15 are cut after their first chunk.
    port = start_fake(procs, "--fail-every", "4", "--drop-every", "5")
    proc, j = run_bench(fathom_bin, port, tmp_path, "--max-concurrency", "1", "--disable-warmup",
                        *random_args(20, 8, 6))
    assert j["failed"] == 8 and j["completed"] == 12
    assert j["total_output_tokens"] == 12 * 6
    errors = [e for e in j["errors"] if e]
    assert sum("HTTP 500" in e and "injected failure" in e for e in errors) == 5
    assert sum("connection closed" in e for e in errors) == 3
    assert "Failed requests:                         8" in proc.stdout
    assert "Failed requests by error:" in proc.stdout
    assert "5 x HTTP 500" in proc.stdout
    assert "bench 20/20 done, 8 failed" in proc.stderr  # the progress report (one line per 10% off a terminal)


def test_poisson_arrivals(fathom_bin, procs, tmp_path):
    port = start_fake(procs)
    _, j = run_bench(fathom_bin, port, tmp_path, "--request-rate", "50", "--disable-warmup", *random_args(60, 8, 4))
    starts = sorted(j["start_times"])
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    span = starts[-1] - starts[0]
    assert 0.6 < span < 2.0, span  # 59 gaps of mean 20 ms
    cv = statistics.pstdev(gaps) / statistics.fmean(gaps)
    assert 0.6 < cv < 1.5, cv  # exponential gaps: coefficient of variation 1 (evenly spaced would give 0)
    _, j2 = run_bench(fathom_bin, port, tmp_path, "--request-rate", "50", "--disable-warmup", *random_args(60, 8, 4),
                      name="again")
    assert abs(j2["start_times"][-1] - j["start_times"][-1]) < 0.05  # same seed, same schedule


def test_max_concurrency_is_respected(fathom_bin, procs, tmp_path):
    port = start_fake(procs, "--ttft", "0.05", "--itl", "0.01")
    _, j = run_bench(fathom_bin, port, tmp_path, "--max-concurrency", "5", "--disable-warmup", *random_args(30, 8, 4))
    stats = json.loads(__import__("urllib.request").request.urlopen(f"http://127.0.0.1:{port}/stats").read())
    assert stats["max_open_streams"] == 5
    assert j["max_concurrent_requests"] <= 5 and j["max_concurrency"] == 5


def test_output_length_sweep_with_nodes(fathom_bin, procs, tmp_path):
    port = start_fake(procs)
    proc, j = run_bench(fathom_bin, port, tmp_path, "--nodes", "2", "--max-bsz", "64", "--disable-warmup",
                        "--dataset-name", "random", "--num-prompts", "10", "--random-input-len", "32",
                        "--random-output-len", "4,8", "--random-range-ratio", "1")
    assert isinstance(j, list) and [p["random_output_len"] for p in j] == [4, 8]
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith("| 64 |")]
    assert len(rows) == 2
    for row, point in zip(rows, j):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[:4] == ["64", "10", "32", str(point["random_output_len"])]
        assert float(cells[4]) == pytest.approx(point["input_throughput"] / 2, abs=0.6)
        assert float(cells[5]) == pytest.approx(point["output_throughput"] / 2, abs=0.6)
        assert point["per_node_output_throughput"] == pytest.approx(point["output_throughput"] / 2)
    assert proc.stdout.count("Serving Benchmark Result") == 2
    assert "Per-node output token throughput (tok/s):" in proc.stdout


def test_sharegpt_dataset_and_model_query(fathom_bin, procs, tmp_path):
    port = start_fake(procs, "--usage")
    proc, j = run_bench(fathom_bin, port, tmp_path, "--backend", "openai-chat", "--dataset-name", "sharegpt",
                        "--dataset-path", str(SAMPLE), "--num-prompts", "12")
    assert j["completed"] == 12 and j["model_id"] == "fake-model"  # from GET /v1/models
    assert j["total_input_tokens"] == sum(j["input_lens"]) and min(j["input_lens"]) >= 4
    assert j["total_output_tokens"] == sum(j["output_lens"])  # from usage


def test_disable_stream(fathom_bin, procs, tmp_path):
    port = start_fake(procs, "--ttft", "0.05", "--itl", "0.01")
    _, j = run_bench(fathom_bin, port, tmp_path, "--backend", "lmdeploy-chat", "--disable-stream",
                     "--disable-warmup", *random_args(4, 8, 5))
    assert j["completed"] == 4
    assert j["ttfts"] == j["e2els"] and all(t >= 0.09 for t in j["ttfts"])


def test_without_usage_or_ignore_eos_output_tokens_are_retokenized(fathom_bin, procs, tmp_path):
    port = start_fake(procs)
    _, j = run_bench(fathom_bin, port, tmp_path, "--disable-ignore-eos", "--disable-warmup", *random_args(3, 8, 5))
    assert j["completed"] == 3
    assert j["total_output_tokens"] == j["total_output_tokens_retokenized"] > 0
    assert j["output_lens"] != [5, 5, 5]  # "tok tok tok tok tok " is not 5 tokens for this tokenizer


def test_user_errors_name_the_flag(fathom_bin, procs, tmp_path):
    port = start_fake(procs)
    proc, _ = run_bench(fathom_bin, port, tmp_path, "--backend", "tgi", *random_args(1, 4, 4), expect_ok=False)
    assert proc.returncode == 2 and "--backend" in proc.stderr
    proc, _ = run_bench(fathom_bin, port, tmp_path, "--dataset-name", "sharegpt", expect_ok=False)
    assert proc.returncode == 2 and "--dataset-path" in proc.stderr
    proc, _ = run_bench(fathom_bin, 1, tmp_path, "--model", "m", *random_args(1, 4, 4), expect_ok=False)
    assert proc.returncode == 2 and "warm-up request" in proc.stderr
