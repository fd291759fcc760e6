"""A small fake api_server for proxy tests: OpenAI-shaped endpoints with controlled speed and failures.

Run as a process (so that tests can kill or SIGSTOP it): python3 fake_upstream.py --name A --model m [--delay S]
It prints its port on the first line of stdout. Request bodies may steer it:
  "stream": true            -> SSE, "tokens" events (default 5) spaced "delay" seconds apart, then [DONE]
  "fail_status": 422        -> that status with an OpenAI error body naming this node
  "tokens", "delay"         -> per-request override of the defaults
GET /stats returns {"requests": {path: n}, "cancelled": n, "completed": n}.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.cancelled = 0
        self.completed = 0

    def count(self, path):
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1

    def bump(self, field):
        with self.lock:
            setattr(self, field, getattr(self, field) + 1)


def make_handler(args, stats):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send_json(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                self.send_json(200, {"status": "healthy", "message": ""})
            elif self.path == "/v1/models":
                self.send_json(200, {"object": "list", "data": [{"id": args.model, "object": "model"}]})
            elif self.path == "/stats":
                with stats.lock:
                    self.send_json(200, {"requests": stats.requests, "cancelled": stats.cancelled,
                                         "completed": stats.completed})
            else:
                self.send_json(404, {"error": {"message": "no route", "type": "not_found_error"}})

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            stats.count(self.path)
            try:
                req = json.loads(raw or b"{}")
            except ValueError:
                return self.send_json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
            delay = float(req.get("delay", args.delay))
            tokens = int(req.get("tokens", 5))
            if "fail_status" in req:
                st = int(req["fail_status"])
                return self.send_json(st, {"error": {"message": f"failed on {args.name}", "type": "x",
                                                     "param": None, "code": st}})
            if self.path == "/v1/encode":
                return self.send_json(200, {"input_ids": [1, 2, 3], "length": 3, "node": args.name})
            if not req.get("stream"):
                time.sleep(delay * tokens)
                stats.bump("completed")
                return self.send_json(200, {"node": args.name, "path": self.path,
                                            "forwarded_for": self.headers.get("X-Forwarded-For"),
                                            "auth": self.headers.get("Authorization"),
                                            "choices": [{"text": "x" * tokens}]})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(tokens):
                    ev = f"data: {json.dumps({'node': args.name, 'i': i})}\n\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                    self.wfile.flush()
                    time.sleep(delay)
                done = b"data: [DONE]\n\n"
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done))
                self.wfile.flush()
                stats.bump("completed")
            except (BrokenPipeError, ConnectionResetError):
                stats.bump("cancelled")
                self.close_connection = True

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", default="node")
    p.add_argument("--model", default="fake-model")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--delay", type=float, default=0.0)
    args = p.parse_args()
    stats = Stats()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args, stats))
    server.daemon_threads = True
    server.request_queue_size = 256
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
