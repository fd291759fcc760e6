"""A scripted OpenAI-compatible server for `fathom bench serve` tests: known timings, asyncio, thousands of
concurrent streams on one core.

    python3 fake_openai_server.py [--ttft S] [--itl S] [--tokens-per-chunk K] [--usage] [--role-chunk]
                                  [--fail-every N] [--drop-every N] [--model NAME]

Prints its port on the first line. Each request to /v1/completions or /v1/chat/completions generates
max_tokens (or max_completion_tokens) tokens, in chunks of K tokens; chunk i is written at exactly
arrival + ttft + i * itl (absolute deadlines, so delays do not accumulate). --usage adds a usage-only chunk
(choices: []) before [DONE]; --role-chunk starts chat streams with an empty role-only delta (not a token).
--stamp starts each chunk's text with "[<CLOCK_MONOTONIC seconds when written>]", so a test can tell how late
the client saw each chunk. --fail-every N answers every Nth request with HTTP 500; --drop-every N closes every Nth stream after its first
chunk. GET /stats: {"requests", "completed", "failed_injected", "dropped_injected", "max_open_streams"}.
"""
import argparse
import asyncio
import json
import math
import resource
import sys
import time


class State:
    def __init__(self):
        self.requests = 0
        self.completed = 0
        self.failed_injected = 0
        self.dropped_injected = 0
        self.open_streams = 0
        self.max_open_streams = 0


def chunked(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def sse(obj) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = await reader.readexactly(n) if n else b""
    return method, target, headers, body


def respond(writer, status, obj):
    body = json.dumps(obj).encode()
    writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                 % (status, len(body), body))


async def sleep_until(loop, deadline):
    delay = deadline - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def stream_completion(args, state, writer, path, req, arrival, seq):
    loop = asyncio.get_running_loop()
    chat = path.endswith("/chat/completions")
    n_tokens = int(req.get("max_completion_tokens") or req.get("max_tokens") or 16)
    k = args.tokens_per_chunk
    n_chunks = math.ceil(n_tokens / k)
    if not req.get("stream"):
        await sleep_until(loop, arrival + args.ttft + (n_chunks - 1) * args.itl)
        text = "tok " * n_tokens
        choice = {"index": 0, "message": {"role": "assistant", "content": text}} if chat else {"index": 0, "text": text}
        respond(writer, 200, {"id": "x", "choices": [choice],
                              "usage": {"prompt_tokens": 1, "completion_tokens": n_tokens, "total_tokens": n_tokens + 1}})
        state.completed += 1
        return True
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    state.open_streams += 1
    state.max_open_streams = max(state.max_open_streams, state.open_streams)
    try:
        if chat and args.role_chunk:
            writer.write(chunked(sse({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})))
        drop = args.drop_every and seq % args.drop_every == 0
        sent = 0
        for i in range(n_chunks):
            await sleep_until(loop, arrival + args.ttft + i * args.itl)
            m = min(k, n_tokens - sent)
            sent += m
            text = "tok " * m
            if args.stamp:
                text = f"[{time.monotonic():.6f}]" + text
            choice = {"index": 0, "delta": {"content": text}} if chat else {"index": 0, "text": text}
            writer.write(chunked(sse({"id": "x", "choices": [choice]})))
            if drop:
                state.dropped_injected += 1
                await writer.drain()
                writer.transport.abort()
                return False
        if args.usage:
            writer.write(chunked(sse({"id": "x", "choices": [],
                                      "usage": {"prompt_tokens": 1, "completion_tokens": n_tokens}})))
        writer.write(chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()
        state.completed += 1
        return True
    finally:
        state.open_streams -= 1


async def handle(args, state, reader, writer):
    try:
        while True:
            try:
                method, target, headers, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            arrival = asyncio.get_running_loop().time()
            if method == "GET" and target == "/v1/models":
                respond(writer, 200, {"object": "list", "data": [{"id": args.model, "object": "model"}]})
            elif method == "GET" and target == "/stats":
                respond(writer, 200, {"requests": state.requests, "completed": state.completed,
                                      "failed_injected": state.failed_injected,
                                      "dropped_injected": state.dropped_injected,
                                      "max_open_streams": state.max_open_streams})
            elif method == "POST" and target in ("/v1/completions", "/v1/chat/completions"):
                state.requests += 1
                if args.fail_every and state.requests % args.fail_every == 0:
                    state.failed_injected += 1
                    respond(writer, 500, {"error": {"message": "injected failure", "type": "internal_error"}})
                else:
                    if not await stream_completion(args, state, writer, target, json.loads(body), arrival,
                                                   state.requests):
                        return
            else:
                respond(writer, 404, {"error": {"message": "no route " + target}})
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main_async(args):
    state = State()
    server = await asyncio.start_server(lambda r, w: handle(args, state, r, w), "127.0.0.1", args.port,
                                        backlog=65535, limit=1 << 22)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--model", default="fake-model")
    p.add_argument("--ttft", type=float, default=0.0)
    p.add_argument("--itl", type=float, default=0.0)
    p.add_argument("--tokens-per-chunk", type=int, default=1)
    p.add_argument("--usage", action="store_true")
    p.add_argument("--role-chunk", action="store_true")
    p.add_argument("--fail-every", type=int, default=0)
    p.add_argument("--drop-every", type=int, default=0)
    p.add_argument("--stamp", action="store_true")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
