"""Many concurrent streams against a fast fake server: every request completes, and the client's own overhead
per request is measured and reported: CPU time per request, and how late the client timestamps each chunk after
the server wrote it (the fake server stamps every chunk with CLOCK_MONOTONIC, which the C++ steady clock shares).
CI runs 2,000 streams at once; FATHOM_BENCH_FULL=1 runs the full 10,000 (numbers in docs/performance.md)."""
import json
import os
import re
import urllib.request

import numpy

from bench_serve_helpers import random_args, run_bench, start_fake

FULL = os.environ.get("FATHOM_BENCH_FULL") == "1"
STAMP = re.compile(r"\[(\d+\.\d+)\]")


def chunk_lags(j):
    """Client arrival time minus server write time, for every text chunk of every successful request."""
    lags = []
    for start, ttft, itls, text in zip(j["start_times"], j["ttfts"], j["itls"], j["generated_texts"]):
        sent = [float(s) for s in STAMP.findall(text)]
        seen = [j["monotonic_t0"] + start + ttft]
        for gap in itls:
            seen.append(seen[-1] + gap)
        assert len(sent) == len(seen)
        lags.extend(b - a for a, b in zip(sent, seen))
    return numpy.array(lags)


def test_concurrent_streams_and_client_overhead(fathom_bin, procs, tmp_path):
    n = 10000 if FULL else 2000
    # Long enough for the (single-threaded Python) server to have read every request before the first answers,
    # so that every stream is open at once.
    ttft = 10.0 if FULL else 2.5
    port = start_fake(procs, "--ttft", str(ttft), "--itl", "0.02", "--usage", "--stamp")
    proc, j = run_bench(fathom_bin, port, tmp_path, "--backend", "openai", "--disable-warmup", "--client-threads",
                        "1", *random_args(n, 16, 8), timeout=600)
    assert j["completed"] == n, [e for e in j["errors"] if e][:3]
    assert j["failed"] == 0
    assert j["max_concurrent_requests"] == n
    assert j["total_output_tokens"] == 8 * n
    stats = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats").read())
    assert stats["max_open_streams"] == n  # all n streams were open at the same time
    lags = chunk_lags(j) * 1000
    assert len(lags) == 8 * n
    cpu_us = j["client_cpu_per_request_us"]
    print(f"\n{n} streams: client CPU {cpu_us:.1f} us/request; chunk seen after written: mean {lags.mean():.2f} ms, "
          f"median {numpy.median(lags):.2f}, p99 {numpy.percentile(lags, 99):.2f}, max {lags.max():.2f}; "
          f"TTFT mean {j['mean_ttft_ms']:.1f} ms (scripted {ttft * 1000:.0f} after the server read the request); "
          f"duration {j['duration']:.2f} s")
    assert "Client CPU per request (us):" in proc.stdout
    assert 0 < cpu_us < 2000
    assert lags.min() > -1.0  # the clocks agree: no chunk is seen before it was written (1 ms rounding slack)
    assert numpy.median(lags) < 50
