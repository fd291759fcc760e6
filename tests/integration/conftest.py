"""Shared integration-test helpers: the fathom binary, processes that are cleaned up, simple HTTP calls."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fathom_bin():
    path = os.environ.get("FATHOM_BIN", str(ROOT / "build" / "fathom"))
    if not os.path.exists(path):
        pytest.skip(f"fathom binary not found at {path} (set FATHOM_BIN)")
    return path


class Processes:
    """Starts processes whose first stdout line is their port; kills every one at teardown."""

    def __init__(self):
        self.procs = []

    def start(self, argv, timeout=10.0):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        deadline = time.time() + timeout
        line = proc.stdout.readline()
        if not line or time.time() > deadline:
            raise RuntimeError(f"{argv[0]} did not start: {proc.stderr.read()}")
        line = line.strip()
        m = re.fullmatch(r"\d+", line) or re.search(r"http://[^\s/]+:(\d+)", line)
        if not m:
            raise RuntimeError(f"{argv[0]}: no port in its first line {line!r}")
        return proc, int(m.group(m.lastindex or 0))

    def python(self, script, *args):
        return self.start([sys.executable, str(pathlib.Path(__file__).parent / script), *args])

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                except ProcessLookupError:
                    pass
                p.kill()
            p.wait(timeout=10)
            for f in (p.stdout, p.stderr):
                if f:
                    f.close()


@pytest.fixture
def procs():
    ps = Processes()
    yield ps
    ps.cleanup()


def http_call(method, url, body=None, headers=None, timeout=30):
    """(status, parsed JSON or text, headers) for one request; HTTP errors are returned, not raised."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw, hdrs = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        status, raw, hdrs = e.code, e.read(), e.headers
    try:
        return status, json.loads(raw), hdrs
    except ValueError:
        return status, raw.decode(errors="replace"), hdrs


def wait_until(pred, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False
