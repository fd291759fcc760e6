"""Load on the tiny model: many concurrent SSE streams all complete correctly, and clients that disconnect
mid-stream leave no cache pages in use and no growth in resident memory. Sizes come from the environment so that
CI runs a modest variant: FATHOM_LOAD_STREAMS (default 2000 streams of FATHOM_LOAD_TOKENS = 2 tokens each) and
FATHOM_LOAD_DISCONNECTS (default 200). Greedy sampling, as `fathom bench throughput` uses: the tiny model's
near-uniform distributions make top-p sampling (its generation_config default) sort most of the vocabulary."""
import asyncio
import json
import os
import resource
import time

import pytest

from conftest import Processes, http_call, wait_until
from test_api_server import MODEL, launch

N_STREAMS = int(os.environ.get("FATHOM_LOAD_STREAMS", "2000"))
N_TOKENS = int(os.environ.get("FATHOM_LOAD_TOKENS", "2"))
N_DISCONNECTS = int(os.environ.get("FATHOM_LOAD_DISCONNECTS", "200"))


@pytest.fixture(scope="module")
def server(fathom_bin):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4 * N_STREAMS + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    ps = Processes()
    proc, base = launch(ps, fathom_bin, "--max-batch-size", "256", "--io-threads", "2")
    yield proc, base
    ps.cleanup()


def request_bytes(host, body):
    data = json.dumps(body).encode()
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: " + host.encode() +
            b"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
            str(len(data)).encode() + b"\r\n\r\n" + data)


def dechunk(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return head.decode(), out.decode()


async def one_stream(host, port, idx):
    body = {"model": MODEL, "messages": [{"role": "user", "content": f"request {idx}"}], "max_tokens": N_TOKENS,
            "stream": True, "stream_options": {"include_usage": True}, "ignore_eos": True, "temperature": 0}
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request_bytes(host, body))
    await writer.drain()
    raw = await reader.read(-1)
    writer.close()
    head, text = dechunk(raw)
    assert head.startswith("HTTP/1.1 200"), head
    events = [e[len("data: "):] for e in text.split("\n\n") if e]
    assert events[-1] == "[DONE]", events[-3:]
    chunks = [json.loads(e) for e in events[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    usage = chunks[-1]["usage"]
    assert chunks[-1]["choices"] == [] and usage["completion_tokens"] == N_TOKENS
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    return chunks[0]["id"]


async def many_streams(host, port, n):
    return await asyncio.gather(*(one_stream(host, port, i) for i in range(n)))


def metric(base, name):
    status, text, _ = http_call("GET", base + "/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_concurrent_streams_all_complete(server):
    proc, base = server
    host, port = base.removeprefix("http://").split(":")
    t0 = time.time()
    ids = asyncio.run(many_streams(host, int(port), N_STREAMS))
    elapsed = time.time() - t0
    assert len(set(ids)) == N_STREAMS
    assert metric(base, "fathom:cache_pages_in_use") == 0
    assert metric(base, "fathom:num_api_requests_in_flight") == 0
    assert metric(base, "fathom:num_api_requests_waiting") == 0
    print(f"\n{N_STREAMS} streams x {N_TOKENS} tokens in {elapsed:.1f} s")


async def disconnect_mid_stream(host, port, idx):
    body = {"model": MODEL, "messages": [{"role": "user", "content": f"leave {idx}"}], "max_tokens": 2000,
            "stream": True, "ignore_eos": True, "temperature": 0}
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request_bytes(host, body))
    await writer.drain()
    got = b""
    while b"data: {" not in got:  # the first token arrived
        chunk = await reader.read(4096)
        assert chunk, "closed before the first token"
        got += chunk
    writer.transport.abort()  # RST, no goodbye


def test_disconnects_free_every_page_and_memory_returns(server):
    proc, base = server
    host, port = base.removeprefix("http://").split(":")

    async def round_():
        await asyncio.gather(*(disconnect_mid_stream(host, int(port), i) for i in range(N_DISCONNECTS)))

    aborted0 = metric(base, "fathom:num_requests_aborted")
    asyncio.run(round_())  # warm-up round: allocator arenas and buffers reach their working size
    assert wait_until(lambda: metric(base, "fathom:cache_pages_in_use") == 0, timeout=60)
    idle = rss_kib(proc.pid)
    asyncio.run(round_())
    assert wait_until(lambda: metric(base, "fathom:cache_pages_in_use") == 0, timeout=60)
    assert wait_until(lambda: metric(base, "fathom:num_api_requests_in_flight") == 0, timeout=30)
    assert metric(base, "fathom:num_requests_aborted") - aborted0 == 2 * N_DISCONNECTS
    assert metric(base, "fathom:num_requests_running") == 0
    after = rss_kib(proc.pid)
    print(f"\nRSS idle {idle} KiB, after {N_DISCONNECTS} disconnects {after} KiB")
    assert after <= idle + 16 * 1024  # no per-request leak (16 MiB of slack for allocator noise)


async def _overhead_run(host, port, n_prompts, input_len, output_len, concurrency, seed):
    """Closed loop like `fathom bench throughput`: `concurrency` clients, random token prompts, greedy, streamed
    /v1/completions; returns (seconds, output tokens)."""
    import random
    rng = random.Random(seed)
    prompts = [[rng.randrange(100, 100000) for _ in range(input_len)] for _ in range(n_prompts)]
    queue = list(range(n_prompts))
    total = 0

    async def worker():
        nonlocal total
        while queue:
            i = queue.pop()
            body = {"model": MODEL, "prompt": prompts[i], "max_tokens": output_len, "ignore_eos": True,
                    "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}
            data = json.dumps(body).encode()
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
            await writer.drain()
            raw = await reader.read(-1)
            writer.close()
            events = [e[6:] for e in dechunk(raw)[1].split("\n\n") if e]
            total += json.loads(events[-2])["usage"]["completion_tokens"]

    t0 = time.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.time() - t0, total


if __name__ == "__main__":
    # Server-side overhead measurement (docs/performance.md, "## API server"):
    #   python3 tests/integration/test_api_server_load.py http://127.0.0.1:PORT 64 32 64 64
    import sys
    url, n, i, o, c = sys.argv[1], *map(int, sys.argv[2:6])
    h, p = url.removeprefix("http://").split(":")
    secs, toks = asyncio.run(_overhead_run(h, int(p), n, i, o, c, 0))
    print(f"{n} prompts, input {i}, output {o}, concurrency {c}: {secs:.2f} s, {toks} output tokens, "
          f"{toks / secs:.1f} tok/s")
