"""Helpers shared by the test_bench_serve*.py files: start the scripted fake server, run `fathom bench serve`."""
import json
import subprocess


def start_fake(procs, *args):
    _, port = procs.python("fake_openai_server.py", *args)
    return port


def run_bench(fathom_bin, port, tmp_path, *args, timeout=120, expect_ok=True, name="out"):
    """Runs `fathom bench serve` against 127.0.0.1:port; returns (completed process, parsed --output-json)."""
    out_json = tmp_path / f"{name}.json"
    argv = [fathom_bin, "bench", "serve", "--base-url", f"http://127.0.0.1:{port}", "--output-json", str(out_json),
            *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if expect_ok:
        assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    data = json.loads(out_json.read_text()) if out_json.exists() else None
    return proc, data


def random_args(n, input_len, output_len, *extra):
    return ["--dataset-name", "random", "--num-prompts", str(n), "--random-input-len", str(input_len),
            "--random-output-len", str(output_len), "--random-range-ratio", "1", *extra]
