"""fathom serve proxy against fake upstreams: node management, forwarding, streaming, status codes, auth."""
import http.client
import json
import socket
import time

from conftest import http_call, wait_until


def start_proxy(procs, fathom_bin, *extra):
    _, port = procs.start([fathom_bin, "serve", "proxy", "--server-name", "127.0.0.1", "--server-port", "0",
                           "--health-interval", "0.3", "--health-timeout", "0.3", *extra])
    return f"http://127.0.0.1:{port}"


def start_node(procs, name, model="fake-model", delay=0.0):
    _, port = procs.python("fake_upstream.py", "--name", name, "--model", model, "--delay", str(delay))
    return f"http://127.0.0.1:{port}"


def add(proxy, url, models=None, **status):
    st = dict(status)
    if models is not None:
        st["models"] = models
    return http_call("POST", proxy + "/nodes/add", {"url": url, "status": st or None})


def test_node_add_status_remove_and_models(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin)
    a = start_node(procs, "A", model="m1")
    b = start_node(procs, "B", model="m2")
    assert add(proxy, a, ["m1"], role=1)[:2] == (200, "Added successfully")
    assert add(proxy, b)[:2] == (200, "Added successfully")  # no models given: listed from the node itself
    status, nodes, _ = http_call("GET", proxy + "/nodes/status")
    assert status == 200 and set(nodes) == {a, b}
    assert nodes[b]["models"] == ["m2"]
    for n in nodes.values():  # LMDeploy's shape
        assert n["role"] == 1 and n["unfinished"] == 0 and n["latency"] == [] and n["speed"] is None
    status, models, _ = http_call("GET", proxy + "/v1/models")
    assert status == 200 and sorted(m["id"] for m in models["data"]) == ["m1", "m2"]
    # A request for m2 reaches B; latency is recorded like LMDeploy's deque.
    status, body, _ = http_call("POST", proxy + "/v1/completions", {"model": "m2", "prompt": "hi"})
    assert status == 200 and body["node"] == "B" and body["forwarded_for"] == "127.0.0.1"
    assert len(http_call("GET", proxy + "/nodes/status")[1][b]["latency"]) == 1
    assert http_call("POST", proxy + "/nodes/remove", {"url": b})[:2] == (200, "Deleted successfully")
    assert set(http_call("GET", proxy + "/nodes/status")[1]) == {a}
    assert http_call("POST", proxy + "/nodes/remove", {"url": b})[0] == 404
    assert http_call("POST", proxy + "/nodes/add", {"nope": 1})[0] == 400
    dead = "http://127.0.0.1:1"
    assert http_call("POST", proxy + "/nodes/add", {"url": dead})[0] == 502  # cannot list its models


def test_all_endpoints_forwarded_and_errors_shaped(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin)
    status, body, _ = http_call("POST", proxy + "/v1/chat/completions", {"model": "m", "messages": []})
    assert status == 503 and body["error"]["type"] == "unavailable_error" and body["error"]["code"] == 503
    a = start_node(procs, "A", model="m")
    add(proxy, a, ["m"])
    for path in ("/v1/chat/completions", "/v1/completions", "/generate", "/v1/encode"):
        status, body, _ = http_call("POST", proxy + path, {"model": "m", "prompt": "x", "messages": []})
        assert status == 200 and body["node"] == "A", path
    status, body, _ = http_call("POST", proxy + "/v1/chat/completions", {"model": "other", "messages": []})
    assert status == 404 and body["error"]["message"] == "The model 'other' does not exist."
    status, body, _ = http_call("POST", proxy + "/v1/completions", b"{not json")
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    status, body, _ = http_call("GET", proxy + "/nothing")
    assert status == 404 and "error" in body


def test_upstream_status_and_error_body_preserved(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin)
    a = start_node(procs, "A")
    add(proxy, a, ["fake-model"])
    for code in (400, 422, 429, 500):
        status, body, _ = http_call("POST", proxy + "/v1/completions",
                                    {"model": "fake-model", "prompt": "x", "fail_status": code})
        assert status == code
        assert body == {"error": {"message": "failed on A", "type": "x", "param": None, "code": code}}


def read_sse(conn_resp):
    """Yields (arrival time, event payload) from a chunked SSE response read incrementally."""
    buf = b""
    while True:
        chunk = conn_resp.read1(65536) if hasattr(conn_resp, "read1") else conn_resp.read(1)
        if not chunk:
            return
        buf += chunk
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            yield time.time(), ev.decode()


def test_streaming_passes_through_as_it_arrives(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin)
    a = start_node(procs, "A")
    add(proxy, a, ["fake-model"])
    port = int(proxy.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"model": "fake-model", "messages": [], "stream": True, "tokens": 6, "delay": 0.1})
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream"
    events = list(read_sse(resp))
    payloads = [e for _, e in events]
    assert payloads == [f'data: {{"node": "A", "i": {i}}}' for i in range(6)] + ["data: [DONE]"]
    # Not buffered: the events arrive spread out like the node sent them (6 x 0.1 s).
    assert events[5][0] - events[0][0] > 0.35
    # The connection is kept alive for the next request.
    conn.request("POST", "/v1/completions", json.dumps({"model": "fake-model", "prompt": "x"}),
                 {"Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    conn.close()


def test_client_disconnect_cancels_upstream(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin)
    a = start_node(procs, "A")
    add(proxy, a, ["fake-model"])
    port = int(proxy.rsplit(":", 1)[1])
    s = socket.create_connection(("127.0.0.1", port))
    body = json.dumps({"model": "fake-model", "messages": [], "stream": True, "tokens": 200, "delay": 0.05})
    s.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    got = b""
    while got.count(b"data:") < 2:
        got += s.recv(4096)
    s.close()
    # The proxy notices, cancels its upstream call, and the node sees its stream broken long before 10 s.
    assert wait_until(lambda: http_call("GET", a + "/stats")[1]["cancelled"] == 1, timeout=3)
    assert wait_until(lambda: http_call("GET", proxy + "/nodes/status")[1][a]["unfinished"] == 0, timeout=2)


def test_api_keys(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin, "--api-keys", "k1", "k2")
    a = start_node(procs, "A")
    assert add(proxy, a, ["fake-model"])[0] == 200  # /nodes is open, as in LMDeploy
    assert http_call("GET", proxy + "/v1/models")[0] == 401
    status, body, _ = http_call("POST", proxy + "/v1/completions", {"model": "fake-model", "prompt": "x"},
                                {"Authorization": "Bearer wrong"})
    assert status == 401 and body["error"]["type"] == "authentication_error"
    status, body, _ = http_call("POST", proxy + "/v1/completions", {"model": "fake-model", "prompt": "x"},
                                {"Authorization": "bearer k2"})
    assert status == 200 and body["auth"] == "bearer k2"  # passed through to the node
    assert http_call("GET", proxy + "/health")[0] == 200


def test_metrics_count_per_node(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin)
    a = start_node(procs, "A")
    add(proxy, a, ["fake-model"])
    for _ in range(3):
        http_call("POST", proxy + "/v1/completions", {"model": "fake-model", "prompt": "x"})
    http_call("POST", proxy + "/v1/completions", {"model": "fake-model", "prompt": "x", "fail_status": 500})
    status, text, _ = http_call("GET", proxy + "/metrics")
    assert status == 200
    assert f'fathom_proxy_node_requests_total{{node="{a}"}} 4' in text
    assert f'fathom_proxy_node_errors_total{{node="{a}"}} 1' in text
    assert f'fathom_proxy_node_latency_seconds_count{{node="{a}"}} 3' in text
