"""Faults and strategies under load: killed node, hung node, restart; choice distributions by node speed."""
import collections
import concurrent.futures
import os
import signal
import threading
import time

from conftest import http_call, wait_until
from test_proxy import add, start_node, start_proxy


def load(proxy, n, concurrency, body=None, on_done=None):
    """n requests from `concurrency` threads; returns the list of (status, body)."""
    body = body or {"model": "fake-model", "prompt": "x", "tokens": 1}

    def one(i):
        r = http_call("POST", proxy + "/v1/completions", dict(body), timeout=30)[:2]
        if on_done:
            on_done(i)
        return r

    with concurrent.futures.ThreadPoolExecutor(concurrency) as ex:
        return list(ex.map(one, range(n)))


def test_killed_node_loses_no_request(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin, "--strategy", "round_robin")
    nodes = []
    for name in "ABC":
        proc_url = start_node(procs, name, delay=0.01)
        nodes.append(proc_url)
        add(proxy, proc_url, ["fake-model"])
    victim = procs.procs[-1]  # node C
    done = [0]
    lock = threading.Lock()

    def count(_):
        with lock:
            done[0] += 1
            if done[0] == 100:
                victim.kill()  # mid-load: its in-flight requests die with it

    results = load(proxy, 400, 16, {"model": "fake-model", "prompt": "x", "tokens": 3}, on_done=count)
    statuses = collections.Counter(s for s, _ in results)
    assert statuses == {200: 400}, statuses
    served = collections.Counter(b["node"] for _, b in results)
    assert served["A"] > 100 and served["B"] > 100
    assert wait_until(lambda: http_call("GET", proxy + "/nodes/status")[1][nodes[2]]["healthy"] is False, 3)


def test_hung_node_is_skipped_and_comes_back(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin, "--strategy", "round_robin")
    a = start_node(procs, "A")
    b = start_node(procs, "B")
    add(proxy, a, ["fake-model"])
    add(proxy, b, ["fake-model"])
    hung = procs.procs[-1]
    os.kill(hung.pid, signal.SIGSTOP)  # B keeps its socket open and never answers
    try:
        t0 = time.time()
        assert wait_until(lambda: http_call("GET", proxy + "/nodes/status")[1][b]["healthy"] is False, 5)
        detected = time.time() - t0
        assert detected < 3, detected
        t1 = time.time()
        results = load(proxy, 50, 8)
        assert all(s == 200 and r["node"] == "A" for s, r in results)
        assert time.time() - t1 < 5  # nothing waited on the hung node
    finally:
        os.kill(hung.pid, signal.SIGCONT)
    assert wait_until(lambda: http_call("GET", proxy + "/nodes/status")[1][b]["healthy"] is True, 5)
    served = collections.Counter(r["node"] for _, r in load(proxy, 40, 4))
    assert served["B"] >= 10, served


def test_retry_before_first_byte_on_refused_node(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin, "--strategy", "round_robin", "--health-interval", "30")
    a = start_node(procs, "A")
    add(proxy, a, ["fake-model"])
    add(proxy, "http://127.0.0.1:9", ["fake-model"])  # nothing listens there; probes are too rare to notice
    results = load(proxy, 20, 2)
    assert all(s == 200 and r["node"] == "A" for s, r in results)
    status = http_call("GET", proxy + "/nodes/status")[1]["http://127.0.0.1:9"]
    assert status["healthy"] is False  # the breaker opened after consecutive failures


def served_counts(nodes):
    return {name: sum(http_call("GET", url + "/stats")[1]["requests"].values()) for name, url in nodes.items()}


def test_min_expected_latency_favours_faster_node(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin, "--strategy", "min_expected_latency")
    nodes = {"fast": start_node(procs, "fast", delay=0.2), "slow": start_node(procs, "slow", delay=0.4)}
    for url in nodes.values():
        add(proxy, url, ["fake-model"])
    load(proxy, 96, 8, {"model": "fake-model", "prompt": "x", "tokens": 1})
    c = served_counts(nodes)
    ratio = c["fast"] / c["slow"]
    assert 1.5 < ratio < 2.6, c  # least outstanding requests: a 2x faster node drains 2x as many


def test_random_follows_registered_speed(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin, "--strategy", "random", "--seed", "5")
    nodes = {"a": start_node(procs, "a"), "b": start_node(procs, "b")}
    add(proxy, nodes["a"], ["fake-model"], speed=3)
    add(proxy, nodes["b"], ["fake-model"], speed=1)
    load(proxy, 400, 8, {"model": "fake-model", "prompt": "x", "tokens": 0})
    c = served_counts(nodes)
    assert 2.3 < c["a"] / c["b"] < 3.9, c


def test_cache_aware_keeps_prefixes_together(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin, "--strategy", "cache_aware")
    for name in "ABC":
        add(proxy, start_node(procs, name), ["fake-model"])
    homes = collections.defaultdict(set)
    for rnd in range(5):
        for g in range(6):
            system = f"system prompt of tenant {g} " + "context " * 60
            body = {"model": "fake-model", "tokens": 0,
                    "messages": [{"role": "system", "content": system}, {"role": "user", "content": f"q{rnd}"}]}
            status, r, _ = http_call("POST", proxy + "/v1/chat/completions", body)
            assert status == 200
            homes[g].add(r["node"])
    assert all(len(h) == 1 for h in homes.values()), homes
    assert len({next(iter(h)) for h in homes.values()}) == 3  # the tenants spread over all nodes


def test_round_robin_even_split(procs, fathom_bin):
    proxy = start_proxy(procs, fathom_bin, "--strategy", "round_robin")
    nodes = {n: start_node(procs, n) for n in "ABC"}
    for url in nodes.values():
        add(proxy, url, ["fake-model"])
    for _ in range(30):
        http_call("POST", proxy + "/v1/completions", {"model": "fake-model", "prompt": "x", "tokens": 0})
    assert served_counts(nodes) == {"A": 10, "B": 10, "C": 10}
