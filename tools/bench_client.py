"""An independent, minimal serving-benchmark client (Python standard library only) used to cross-check
`fathom bench serve`: same metric definitions (vLLM / profile_restful_api.py), different code and language.

    python3 tools/bench_client.py --base-url http://127.0.0.1:23333 --backend lmdeploy --num-prompts 200 \
        --input-len 32 --output-len 64 [--max-concurrency 50] [--model NAME] [--output-json out.json]

Every request is an HTTP/1.1 POST on its own connection (asyncio streams, chunked transfer decoded here), sent
with ignore_eos; TTFT is the first SSE chunk with non-empty text, ITL the gaps between text chunks, latency the
last SSE event, TPOT (latency - ttft) / (output_len - 1) with output_len = usage.completion_tokens if the server
sent it, else the requested length. Prints one JSON object with vLLM --save-result key names.
"""
import argparse
import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlparse


async def read_chunked(reader):
    """Yields body pieces of a chunked HTTP/1.1 response as they arrive."""
    while True:
        size_line = await reader.readline()
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        yield data


async def one_request(host, port, path, body, chat, requested_len):
    out = {"success": False, "ttft": 0.0, "latency": 0.0, "itl": [], "output_len": 0, "error": ""}
    st = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
    except OSError as e:
        out["error"] = f"connect: {e}"
        return out
    try:
        raw = json.dumps(body).encode()
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(raw)}\r\nConnection: close\r\n\r\n".encode() + raw)
        await writer.drain()
        status_line = await reader.readline()
        status = int(status_line.split()[1])
        headers = {}
        while True:
            ln = await reader.readline()
            if ln in (b"\r\n", b"\n", b""):
                break
            k, v = ln.decode("latin-1").split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if status != 200:
            out["error"] = f"HTTP {status}: {(await reader.read(2048)).decode(errors='replace')}"
            return out
        if "chunked" not in headers.get("transfer-encoding", ""):
            out["error"] = "expected a chunked event stream"
            return out
        buf = b""
        last = None
        usage = None
        async for piece in read_chunked(reader):
            now = time.perf_counter()
            buf += piece
            while b"\n\n" in buf:
                event, buf = buf.split(b"\n\n", 1)
                for line in event.split(b"\n"):
                    if not line.startswith(b"data:"):
                        continue
                    data = line[5:].strip()
                    out["latency"] = now - st
                    if data == b"[DONE]":
                        continue
                    obj = json.loads(data)
                    if obj.get("usage"):
                        usage = obj["usage"].get("completion_tokens")
                    choices = obj.get("choices") or []
                    if not choices:
                        continue
                    text = (choices[0].get("delta") or {}).get("content") if chat else choices[0].get("text")
                    if not text:
                        continue
                    if last is None:
                        out["ttft"] = now - st
                    else:
                        out["itl"].append(now - last)
                    last = now
        if last is None:
            out["error"] = "no text chunk"
            return out
        out["output_len"] = usage if usage is not None else requested_len
        out["success"] = True
        return out
    except (OSError, ValueError, asyncio.IncompleteReadError) as e:
        out["error"] = f"{type(e).__name__}: {e}"
        return out
    finally:
        writer.close()


def percentile(values, q):
    v = sorted(values)
    if not v:
        return 0.0
    pos = q / 100 * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def summarise(results, duration):
    ok = [r for r in results if r["success"]]
    ttfts = [r["ttft"] for r in ok]
    tpots = [(r["latency"] - r["ttft"]) / (r["output_len"] - 1) for r in ok if r["output_len"] > 1]
    itls = [g for r in ok for g in r["itl"]]
    e2e = [r["latency"] for r in ok]
    total_out = sum(r["output_len"] for r in ok)
    res = {"duration": duration, "completed": len(ok), "failed": len(results) - len(ok),
           "total_output_tokens": total_out, "request_throughput": len(ok) / duration,
           "output_throughput": total_out / duration, "errors": [r["error"] for r in results]}
    for name, vals in (("ttft", ttfts), ("tpot", tpots), ("itl", itls), ("e2el", e2e)):
        ms = [x * 1000 for x in vals]
        res[f"mean_{name}_ms"] = statistics.fmean(ms) if ms else 0.0
        res[f"median_{name}_ms"] = percentile(ms, 50)
        res[f"p99_{name}_ms"] = percentile(ms, 99)
    return res


async def run(args):
    u = urlparse(args.base_url)
    chat = args.backend.endswith("chat")
    path = (u.path.rstrip("/") or "") + ("/v1/chat/completions" if chat else "/v1/completions")
    prompt = " ".join(["hello"] * args.input_len)
    sem = asyncio.Semaphore(args.max_concurrency or args.num_prompts)

    def body():
        b = {"model": args.model, "temperature": 0.0, "stream": True, "ignore_eos": True}
        if chat:
            b.update(messages=[{"role": "user", "content": prompt}], max_completion_tokens=args.output_len)
        else:
            b.update(prompt=prompt, max_tokens=args.output_len, best_of=1)
        return b

    async def limited():
        async with sem:
            return await one_request(u.hostname, u.port or 80, path, body(), chat, args.output_len)

    start = time.perf_counter()
    results = await asyncio.gather(*(limited() for _ in range(args.num_prompts)))
    return summarise(results, time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", required=True)
    p.add_argument("--backend", default="lmdeploy", choices=["lmdeploy", "lmdeploy-chat", "openai", "openai-chat"])
    p.add_argument("--model", default="fake-model")
    p.add_argument("--num-prompts", type=int, default=100)
    p.add_argument("--input-len", type=int, default=32)
    p.add_argument("--output-len", type=int, default=64)
    p.add_argument("--max-concurrency", type=int, default=0)
    p.add_argument("--output-json")
    args = p.parse_args()
    res = asyncio.run(run(args))
    text = json.dumps(res, indent=1)
    if args.output_json:
        with open(args.output_json, "w") as f:
            f.write(text)
    print(text)
    return 0 if res["completed"] else 1


if __name__ == "__main__":
    sys.exit(main())
