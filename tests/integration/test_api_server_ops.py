"""Operating the api_server: /health 503 while loading then 200, --api-keys, CORS, registration with
`fathom serve proxy` through --proxy-url (and withdrawal on shutdown), graceful shutdown mid-stream."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import threading
import urllib.request

import pytest

from conftest import http_call, wait_until
from test_api_server import BASE_ARGS, MODEL, launch

openai = pytest.importorskip("openai")


def default_model_dir(fathom_bin):
    home = pathlib.Path(os.environ.get("FATHOM_HOME", pathlib.Path.home() / ".cache" / "fathom"))
    d = home / "default-tiny"
    if not (d / "config.json").exists():  # any command that resolves the default model creates it
        subprocess.run([fathom_bin, "detokenize", "--ids", "1"], check=True, capture_output=True, timeout=300)
    return d


def test_health_is_503_while_loading_then_200(procs, fathom_bin, tmp_path):
    # tokenizer.json is a FIFO: loading blocks on it until the test writes the real file, so the loading window
    # is as long as the test wants.
    src = default_model_dir(fathom_bin)
    model = tmp_path / "model"
    model.mkdir()
    for f in src.iterdir():
        if f.name != "tokenizer.json":
            (model / f.name).symlink_to(f)
    os.mkfifo(model / "tokenizer.json")
    proc, port = procs.start([fathom_bin, "serve", "api_server", str(model), "--model-name", MODEL, *BASE_ARGS])
    base = f"http://127.0.0.1:{port}"
    status, body, _ = http_call("GET", base + "/health")
    assert status == 503 and body["status"] == "initializing"
    status, body, _ = http_call("POST", base + "/v1/chat/completions",
                                {"model": MODEL, "messages": [{"role": "user", "content": "x"}]})
    assert status == 503 and "loading" in body["error"]["message"]
    with open(model / "tokenizer.json", "wb") as fifo:
        fifo.write((src / "tokenizer.json").read_bytes())
    assert wait_until(lambda: http_call("GET", base + "/health")[0] == 200, timeout=60)
    status, body, _ = http_call("POST", base + "/v1/chat/completions",
                                {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "max_tokens": 2})
    assert status == 200


def test_api_keys(procs, fathom_bin):
    _, base = launch(procs, fathom_bin, "--api-keys", "k1", "secret-two")
    req = {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "max_tokens": 2}
    for path, method, body in [("/v1/models", "GET", None), ("/v1/chat/completions", "POST", req),
                               ("/metrics", "GET", None), ("/generate", "POST", {"prompt": "a", "max_tokens": 1})]:
        status, resp, _ = http_call(method, base + path, body)
        assert status == 401 and resp["error"]["type"] == "authentication_error", path
        status, _, _ = http_call(method, base + path, body, headers={"Authorization": "Bearer wrong"})
        assert status == 401
        status, _, _ = http_call(method, base + path, body, headers={"Authorization": "bearer secret-two"})
        assert status == 200, path
    assert http_call("GET", base + "/health")[0] == 200  # open, as in LMDeploy
    good = openai.OpenAI(base_url=base + "/v1", api_key="k1", max_retries=0)
    assert good.models.list().data[0].id == MODEL
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=base + "/v1", api_key="k11", max_retries=0).models.list()


def test_cors(procs, fathom_bin):
    _, base = launch(procs, fathom_bin, "--allow-origins", "http://a.example", "--allow-credentials")
    _, _, hdrs = http_call("GET", base + "/v1/models", headers={"Origin": "http://a.example"})
    assert hdrs["Access-Control-Allow-Origin"] == "http://a.example"
    assert hdrs["Access-Control-Allow-Credentials"] == "true"
    _, _, hdrs = http_call("GET", base + "/v1/models", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in hdrs
    status, _, hdrs = http_call("OPTIONS", base + "/v1/chat/completions",
                                headers={"Origin": "http://a.example", "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "authorization, content-type"})
    assert status == 204 and "POST" in hdrs["Access-Control-Allow-Methods"]
    assert hdrs["Access-Control-Allow-Headers"] == "authorization, content-type"
    # Streamed answers carry the header too.
    req = urllib.request.Request(base + "/v1/chat/completions", method="POST", data=json.dumps(
        {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "max_tokens": 2, "stream": True}).encode(),
        headers={"Content-Type": "application/json", "Origin": "http://a.example"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.headers["Access-Control-Allow-Origin"] == "http://a.example"
        assert r.read().decode().rstrip().endswith("data: [DONE]")


def test_proxy_registration_and_graceful_shutdown(procs, fathom_bin):
    _, pport = procs.start([fathom_bin, "serve", "proxy", "--server-name", "127.0.0.1", "--server-port", "0",
                            "--health-interval", "0.3"])
    proxy = f"http://127.0.0.1:{pport}"
    server, base = launch(procs, fathom_bin, "--proxy-url", proxy, "--shutdown-grace", "20")
    assert wait_until(lambda: base in http_call("GET", proxy + "/nodes/status")[1], timeout=10)
    nodes = http_call("GET", proxy + "/nodes/status")[1]
    assert nodes[base]["models"] == [MODEL]
    client = openai.OpenAI(base_url=proxy + "/v1", api_key="x", max_retries=0)  # through the proxy
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=3)
    assert r.usage.completion_tokens <= 3

    # SIGTERM while a stream is running: the stream still ends properly, then the node leaves the proxy.
    direct = openai.OpenAI(base_url=base + "/v1", api_key="x", max_retries=0)
    stream = direct.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                            max_tokens=40, stream=True, extra_body={"ignore_eos": True})
    first = next(iter(stream))
    assert first.choices[0].delta.role == "assistant"
    server.send_signal(signal.SIGTERM)
    rest = list(stream)
    assert rest[-1].choices[0].finish_reason == "length"
    assert server.wait(timeout=30) == 0
    assert base not in http_call("GET", proxy + "/nodes/status")[1]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=2)
