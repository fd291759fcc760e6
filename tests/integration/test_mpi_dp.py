"""The distributed engine through the CLI under mpirun (oversubscribed on two cores):
--dp N --ep N generation equals one process token for token (the expert-parallel forward is bitwise equal);
--tp 2 runs and stops cleanly (rank 0's engine tells the replaying ranks to stop); bench throughput under
--dp 2 --ep 2 completes every request and reports the alltoallv traffic; a rank killed or stopped under load
ends the whole job within seconds with a message naming it."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

MPIRUN = shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun not installed")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
PROMPT = "The quick brown fox jumps over the lazy dog"


@pytest.fixture(scope="module")
def model(fathom_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("dp") / "tiny"
    subprocess.run([fathom_bin, "model", "create", "--preset", "tiny", "--out", str(d)], check=True,
                   capture_output=True)
    return str(d)


def run(cmd, timeout=300):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def generate(fathom_bin, model, *extra):
    return [fathom_bin, "generate", model, "--prompt", PROMPT, "--max-tokens", "12", "--temperature", "0",
            "--ignore-eos", "--threads", "1", *extra]


@pytest.mark.parametrize("np_", [2, 4])
def test_dp_ep_generate_equals_one_process(fathom_bin, model, np_):
    one = run(generate(fathom_bin, model)).stdout
    dp = run([MPIRUN, "-np", str(np_), *generate(fathom_bin, model, "--dp", str(np_), "--ep", str(np_))]).stdout
    assert one.strip() != ""
    assert dp == one


def test_tp2_generate_runs_and_stops(fathom_bin, model):
    t0 = time.time()
    p = run([MPIRUN, "-np", "2", *generate(fathom_bin, model, "--tp", "2")])
    assert "completion tokens: 12" in p.stderr
    assert time.time() - t0 < 120


def test_dp_without_mpirun_is_refused(fathom_bin, model):
    p = subprocess.run(generate(fathom_bin, model, "--dp", "2", "--ep", "2"), capture_output=True, text=True)
    assert p.returncode == 1 and "mpirun -np 2" in p.stderr
    p = subprocess.run(generate(fathom_bin, model, "--dp", "2", "--ep", "1"), capture_output=True, text=True)
    assert p.returncode == 1 and "--dp N --ep N" in p.stderr


def test_bench_throughput_dp2_reports_alltoallv(fathom_bin, model, tmp_path):
    out = tmp_path / "r.json"
    p = run([MPIRUN, "-np", "2", fathom_bin, "bench", "throughput", model, "--dp", "2", "--ep", "2",
             "--num-prompts", "8", "--input-len", "24", "--output-len", "6", "-c", "4", "--threads", "1",
             "--output-json", str(out)])
    r = json.loads(out.read_text())
    assert r["completed"] == 8 and r["world_size"] == 2
    assert len(r["output_lens"]) == 8 and all(n == 6 for n in r["output_lens"])
    line = [l for l in p.stdout.splitlines() if l.startswith("alltoallv bytes per token")][0]
    measured, arith = (float(x) for x in line.replace(",", "").split()[-4::3])
    # Random routing is not exactly uniform, but it is within a factor of two of the uniform arithmetic.
    assert arith / 2 < measured < arith * 2, line


def _rank_pids(mpirun_pid):
    """{rank: pid} of the processes mpirun launched (read from their environment)."""
    ranks = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != mpirun_pid:
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
            if b"OMPI_COMM_WORLD_RANK" in env:
                ranks[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(pid)
        except (OSError, ValueError, IndexError):
            continue
    return ranks


def _under_load(fathom_bin, model, sig, extra=()):
    cmd = [MPIRUN, "-np", "2", fathom_bin, "bench", "throughput", model, "--dp", "2", "--ep", "2",
           "--num-prompts", "2000", "--input-len", "32", "--output-len", "64", "-c", "4", "--threads", "1", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    try:
        deadline = time.time() + 60
        ranks = {}
        while time.time() < deadline and len(ranks) < 2:
            ranks = _rank_pids(proc.pid)
            time.sleep(0.2)
        assert len(ranks) == 2, "ranks did not start"
        time.sleep(4)  # loaded and generating
        assert proc.poll() is None, proc.stdout.read()
        t0 = time.time()
        os.kill(ranks[1], sig)
        out, _ = proc.communicate(timeout=60)
        return proc.returncode, out, time.time() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _rank_pids(proc.pid).values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_killed_rank_ends_the_job_naming_it(fathom_bin, model):
    rc, out, took = _under_load(fathom_bin, model, signal.SIGKILL)
    assert rc != 0
    assert took < 15, f"took {took:.1f} s"
    assert "rank 1" in out, out[-3000:]


def test_stopped_rank_ends_the_job_naming_it(fathom_bin, model):
    rc, out, took = _under_load(fathom_bin, model, signal.SIGSTOP, ("--dist-timeout", "3"))
    assert rc != 0
    assert took < 20, f"took {took:.1f} s"
    assert "rank 1 has not been heard from" in out, out[-3000:]
