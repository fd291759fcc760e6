"""Two "nodes" on one machine: two network namespaces joined by a veth pair, mpirun in the first, the second rank
launched inside the other namespace by an rsh agent, MPI over TCP between them (no shared memory). TP2 logits and
DP2/EP2 greedy generation must equal the single-process results. Needs root and `ip netns` (skips otherwise)."""
import json
import os
import shutil
import subprocess
import uuid

import numpy as np
import pytest

MPIRUN = shutil.which("mpirun")
IP = shutil.which("ip")
pytestmark = pytest.mark.skipif(MPIRUN is None or IP is None or os.geteuid() != 0,
                                reason="needs root, mpirun and iproute2's ip")


def sh(*args):
    return subprocess.run(args, capture_output=True, text=True)


@pytest.fixture
def two_nodes(tmp_path):
    tag = uuid.uuid4().hex[:6]
    ns = [f"fathom-{tag}-a", f"fathom-{tag}-b"]
    addrs = ["10.77.0.1", "10.77.0.2"]
    if sh(IP, "netns", "add", ns[0]).returncode != 0:
        pytest.skip("cannot create network namespaces here")
    try:
        sh(IP, "netns", "add", ns[1])
        va, vb = f"fa{tag}", f"fb{tag}"
        for cmd in ([IP, "link", "add", va, "type", "veth", "peer", "name", vb],
                    [IP, "link", "set", va, "netns", ns[0]], [IP, "link", "set", vb, "netns", ns[1]],
                    [IP, "-n", ns[0], "addr", "add", addrs[0] + "/24", "dev", va],
                    [IP, "-n", ns[1], "addr", "add", addrs[1] + "/24", "dev", vb],
                    [IP, "-n", ns[0], "link", "set", va, "up"], [IP, "-n", ns[1], "link", "set", vb, "up"],
                    [IP, "-n", ns[0], "link", "set", "lo", "up"], [IP, "-n", ns[1], "link", "set", "lo", "up"]):
            r = subprocess.run(cmd, capture_output=True, text=True)
            assert r.returncode == 0, (cmd, r.stderr)
        launched = tmp_path / "launched"
        agent = tmp_path / "agent.sh"
        agent.write_text(f"""#!/bin/sh
host="$1"; shift
case "$host" in
  {addrs[0]}) ns={ns[0]} ;;
  {addrs[1]}) ns={ns[1]} ;;
  *) echo "unknown host $host" >&2; exit 1 ;;
esac
echo "$ns" >> {launched}
exec {IP} netns exec "$ns" sh -c "$*"
""")
        agent.chmod(0o755)
        hosts = tmp_path / "hostfile"
        hosts.write_text(f"{addrs[0]} slots=1\n{addrs[1]} slots=1\n")
        base = [IP, "netns", "exec", ns[0], MPIRUN, "--mca", "plm_rsh_agent", str(agent), "--hostfile", str(hosts),
                "-np", "2", "--map-by", "node", "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include",
                "10.77.0.0/24", "--mca", "oob_tcp_if_include", "10.77.0.0/24"]
        yield base, launched, ns
    finally:
        for n in ns:
            sh(IP, "netns", "del", n)


ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def test_tp2_across_namespaces(fathom_bin, tmp_path, two_nodes):
    base, launched, ns = two_nodes
    d = tmp_path / "m"
    subprocess.run([fathom_bin, "model", "create", "--preset", "tiny", "--out", str(d), "--override",
                    '{"vocab_size": 1000, "num_hidden_layers": 3}'], check=True, capture_output=True)
    ids = "0,5,9,77,300,41"
    one = subprocess.run([fathom_bin, "logits", str(d), "--ids", ids, "--all-positions"], check=True,
                         capture_output=True, text=True)
    p = subprocess.run(base + [fathom_bin, "logits", str(d), "--ids", ids, "--all-positions", "--tp", "2"],
                       capture_output=True, text=True, timeout=180, env=ENV)
    assert p.returncode == 0, p.stdout + p.stderr
    assert ns[1] in launched.read_text()  # the second rank really ran in the other namespace
    a = np.array(json.loads(one.stdout)["logits"])
    b = np.array(json.loads(p.stdout.strip().splitlines()[-1])["logits"])
    assert np.abs(a - b).max() <= 5e-3


def test_dp2_ep2_generate_across_namespaces(fathom_bin, tmp_path, two_nodes):
    base, launched, ns = two_nodes
    d = tmp_path / "m"
    subprocess.run([fathom_bin, "model", "create", "--preset", "tiny", "--out", str(d), "--override",
                    '{"num_hidden_layers": 2}'], check=True, capture_output=True)
    args = ["generate", str(d), "--prompt", "Hello there", "--max-tokens", "12", "--temperature", "0"]
    one = subprocess.run([fathom_bin, *args], check=True, capture_output=True, text=True, timeout=120)
    p = subprocess.run(base + [fathom_bin, *args, "--dp", "2", "--ep", "2"], capture_output=True, text=True,
                       timeout=180, env=ENV)
    assert p.returncode == 0, p.stdout + p.stderr
    assert ns[1] in launched.read_text()
    assert p.stdout.strip() == one.stdout.strip()
