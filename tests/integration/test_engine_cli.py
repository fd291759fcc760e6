"""`fathom generate` and `fathom bench throughput` as a user runs them, on the embedded tiny model."""
import json
import subprocess


def run(fathom_bin, *args, timeout=300):
    return subprocess.run([fathom_bin, *args], capture_output=True, text=True, timeout=timeout)


def test_generate_same_seed_same_text(fathom_bin):
    args = ["generate", "--prompt", "The quick brown fox", "--max-tokens", "12", "--temperature", "0.9",
            "--seed", "7", "--ignore-eos"]
    a = run(fathom_bin, *args)
    b = run(fathom_bin, *args)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert "completion tokens: 12" in a.stderr
    c = run(fathom_bin, *args[:-2], "8", "--ignore-eos")
    assert c.returncode == 0, c.stderr
    assert c.stdout != a.stdout


def test_generate_rejects_a_request_that_cannot_fit(fathom_bin):
    r = run(fathom_bin, "generate", "--prompt", "hello", "--max-tokens", "500", "--cache-tokens", "64",
            "--session-len", "100")
    assert r.returncode == 1
    assert "error:" in r.stderr and "session length 100" in r.stderr


def test_bench_throughput_writes_vllm_keys(fathom_bin, tmp_path):
    out = tmp_path / "result.json"
    r = run(fathom_bin, "bench", "throughput", "--num-prompts", "5", "--input-len", "12", "--output-len", "4",
            "-c", "3", "--output-json", str(out))
    assert r.returncode == 0, r.stderr
    assert "Output token throughput" in r.stdout
    res = json.loads(out.read_text())
    for key in ["duration", "completed", "failed", "total_input_tokens", "total_output_tokens",
                "request_throughput", "input_throughput", "output_throughput", "mean_ttft_ms", "median_ttft_ms",
                "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "p99_tpot_ms", "mean_itl_ms", "median_itl_ms",
                "p99_itl_ms", "mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms", "input_lens", "output_lens",
                "ttfts", "itls", "errors"]:
        assert key in res, key
    assert res["completed"] == 5 and res["failed"] == 0
    assert res["output_lens"] == [4] * 5
    assert res["input_lens"] == [12] * 5
    assert res["total_output_tokens"] == 20
    assert all(len(itl) == 3 for itl in res["itls"])
    assert res["output_throughput"] > 0


def test_chat_is_multi_turn_and_reuses_the_previous_turn(fathom_bin):
    r = subprocess.run([fathom_bin, "chat", "--max-tokens", "6", "--temperature", "0", "--cache-block-seq-len", "4"],
                       input="hello there, how are you doing today?\nand tomorrow?\n/exit\n",
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    turns = [line for line in r.stderr.splitlines() if line.startswith("[6 tokens")]
    assert len(turns) == 2, r.stderr
    assert turns[0] == "[6 tokens, 0 from the prefix cache]"
    cached = int(turns[1].split(",")[1].split()[0])
    assert cached >= 8  # the first turn's prompt (full 4-token pages) is served from the cache
    assert r.stdout.count(">>> ") == 3
