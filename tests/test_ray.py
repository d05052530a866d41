"""``--executor ray`` for real: a Ray cluster of two nodes on loopback, started and stopped here.

The cluster lives in a network and PID namespace of its own (``unshare``; CI runs as root): its only
interface is ``lo``, so Ray's nodes are ``127.0.0.1`` and no traffic leaves the machine (Ray otherwise
binds to and dials the machine's interface address), and everything started in it — the head, the
worker node, the drivers, Ray's daemons and worker processes — dies with the namespace. The worker
node declares ``edgekit-target:local@worker``; each node offers one CPU and each task asks for one,
so a run costs at most two cores.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

SMALL_BILSTM = "bilstm:embedding_dim=16,lstm_units=8"
RAY = str(Path(sys.executable).with_name("ray"))
HEAD = "127.0.0.1:6379"
WORKER_TARGET = "local@worker"
EVAL_N = 20


def _edgekit(*args) -> list[str]:
    return [sys.executable, "-c", "from edgekit.cli import main; main()", *map(str, args)]


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The single ``error:`` line of a failed command (nothing else on stderr but library-free lines)."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0] == lines[-1] and "Traceback" not in proc.stderr, proc.stderr
    return errors[0]


class Namespace:
    """A network and PID namespace of our own: loopback only, and every process started in it (Ray's
    daemons too, however they detach) dies with its PID 1 when :meth:`close` kills the holder."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        # Ray's session folders hold its sockets, whose paths may not exceed 107 bytes: a short folder of our own
        self.ray_root = Path(tempfile.mkdtemp(prefix="edgekit-ray-test-"))
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_TMPDIR": str(self.ray_root / "tmp"),
                    "EDGEKIT_RAY_SCRATCH": str(root / "scratch"), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
        self.holder = subprocess.Popen(["unshare", "--net", "--pid", "--mount-proc", "--kill-child", "--", "bash",
                                        "-c", "ip link set lo up && exec sleep infinity"], start_new_session=True)
        self.init = self._namespace_init()

    def _namespace_init(self) -> int:
        """The namespace's PID 1 (``sleep infinity`` once loopback is up)."""
        children = Path(f"/proc/{self.holder.pid}/task/{self.holder.pid}/children")
        deadline = time.time() + 10
        while time.time() < deadline:
            for pid in children.read_text().split():
                if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep\0"):
                    return int(pid)
            time.sleep(0.05)
        self.close()
        raise RuntimeError("namespace did not come up")

    def command(self, *argv) -> list[str]:
        return ["nsenter", "-t", str(self.init), "-n", "-p", "-m", f"--wd={self.root}", *map(str, argv)]

    def run(self, *argv, check: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.command(*argv), capture_output=True, text=True, env=self.env, timeout=timeout)
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def popen(self, *argv, log: Path) -> subprocess.Popen:
        with log.open("w") as fh:
            return subprocess.Popen(self.command(*argv), stdout=fh, stderr=subprocess.STDOUT, env=self.env,
                                    start_new_session=True)

    def close(self) -> None:
        self.holder.kill()  # --kill-child: the namespace's PID 1 dies, and with it every process inside
        self.holder.wait()
        deadline = time.time() + 20
        while _ours_running(self.ray_root) and time.time() < deadline:
            time.sleep(0.2)
        shutil.rmtree(self.ray_root, ignore_errors=True)


def _ours_running(root: Path) -> list[str]:
    """Ray daemons started under ``root`` that are still alive (``pgrep -f raylet`` and the GCS, ours only)."""
    found = subprocess.run(["pgrep", "-af", "raylet|gcs_server"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if str(root) in line]


class Cluster(Namespace):
    """Head + one worker node declaring ``edgekit-target:local@worker``, one CPU each, with Ray's token
    authentication on (the head's default once a token exists) and a token of this test's own."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
                                # a killed node is declared dead after ~2 s instead of ~30 s
                                "RAY_health_check_period_ms": "500", "RAY_health_check_timeout_ms": "500",
                                "RAY_health_check_failure_threshold": "3"})
        self.worker: subprocess.Popen | None = None
        try:
            self.run(RAY, "start", "--head", "--port", HEAD.split(":")[1], "--num-cpus", 1, "--include-dashboard",
                     "false", "--object-store-memory", 100_000_000, "--temp-dir", self.ray_root / "head",
                     "--disable-usage-stats", check=True)
            self.start_worker()
        except BaseException:
            self.close()
            raise

    def start_worker(self) -> None:
        """The worker node (``ray start --block``: its processes share our process group, so it can be killed)."""
        log = self.root / "worker.log"
        self.worker = self.popen(RAY, "start", "--block", "--address", HEAD, "--num-cpus", 1, "--resources",
                                 json.dumps({f"edgekit-target:{WORKER_TARGET}": 1}), "--object-store-memory",
                                 100_000_000, "--temp-dir", self.ray_root / "worker", log=log)
        deadline = time.time() + 120
        while "Ray runtime started" not in log.read_text():
            assert self.worker.poll() is None and time.time() < deadline, log.read_text()
            time.sleep(0.2)

    def worker_runs(self, title: str) -> bool:
        """Whether a Ray worker process of the worker node (a child of its raylet) runs ``title``."""
        def stat(pid: str) -> list[str]:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # state, ppid, pgid, ...

        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and (proc / "cmdline").read_bytes().startswith(title.encode()):
                    if stat(stat(proc.name)[1])[2] == str(self.worker.pid):
                        return True
            except (OSError, IndexError):
                continue  # a process that exited meanwhile
        return False

    def kill_worker(self) -> None:
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def nodes(self) -> dict[str, str]:
        """Alive node ids: ``head`` and the one offering the worker's target."""
        script = ("import json, ray; ray.init(address='%s', logging_level='ERROR'); "
                  "print(json.dumps([(n['NodeID'], n['Resources']) for n in ray.nodes() if n['Alive']]))" % HEAD)
        proc = self.run(sys.executable, "-c", script, check=True)
        alive = json.loads(proc.stdout.strip().splitlines()[-1])
        return {("head" if "node:__internal_head__" in r else WORKER_TARGET if f"edgekit-target:{WORKER_TARGET}" in r
                 else node): node for node, r in alive}

    def close(self) -> None:
        super().close()
        if self.worker is not None:
            self.worker.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("ray"))
    try:
        yield c
    finally:
        c.close()
        assert not _ours_running(c.ray_root), _ours_running(c.ray_root)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, vocab_path) -> Path:
    from edgekit.benchmarks.fixtures import build_bundle

    return build_bundle(tmp_path_factory.mktemp("ray-bundle") / "bag", vocab_path)


@pytest.fixture(scope="module")
def eval_file(tmp_path_factory, default_splits) -> Path:
    path = tmp_path_factory.mktemp("ray-eval") / "test.jsonl"
    default_splits.test.head(EVAL_N).to_jsonl(path)
    return path


# ---------------------------------------------------------------------------------------------- sweeps
# paths, clocks, and the commit each run stamps (the working tree may move between the two runs)
VOLATILE = {"task_hash", "model_dir", "created", "train_seconds", "history", "git_commit"}


def test_sweep_on_the_cluster_gives_the_in_process_records(cluster, tiny_teacher_dir, tmp_path):
    from edgekit.cli import cli

    args = ["sweep", "--teacher", tiny_teacher_dir, "--student", SMALL_BILSTM, "--epochs", 1,
            "--temperatures", "1,2", "--alphas", "0.5,0.7", "--cache-dir", tmp_path / "cache"]
    log = tmp_path / "driver.log"
    driver = cluster.popen(*_edgekit(*args, "--out", tmp_path / "ray", "--executor", f"ray:{HEAD}"), log=log)
    deadline = time.time() + 300
    while not cluster.worker_runs("ray::run_on_node"):
        assert driver.poll() is None and time.time() < deadline, log.read_text()
        time.sleep(0.1)
    cluster.kill_worker()  # SIGKILL of the worker node with a point on it: Ray runs that point again on the head
    assert driver.wait(timeout=300) == 0, log.read_text()
    cluster.start_worker()
    # the group's first point ran alone and computed the teacher outputs; the others started with them
    assert "1 point(s) submitted, 3 more once the first of their group has computed" in log.read_text()
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert any(n.endswith(".logits.npz") for n in cached) and any(n.startswith("ray-group-") for n in cached)

    here = CliRunner().invoke(cli, [str(a) for a in args] + ["--out", str(tmp_path / "here")])
    assert here.exit_code == 0, here.output
    assert "teacher outputs: computing" not in here.output  # the Ray run left them in the cache
    ray_points = sorted((tmp_path / "ray" / "points").glob("*.json"))
    assert [p.name for p in ray_points] == ["T1_a0.5.json", "T1_a0.7.json", "T2_a0.5.json", "T2_a0.7.json"]
    hits = []
    for path in ray_points:
        a, b = json.loads(path.read_text()), json.loads((tmp_path / "here" / "points" / path.name).read_text())
        assert {k: v for k, v in a.items() if k not in VOLATILE} == {k: v for k, v in b.items() if k not in VOLATILE}
        assert [e["train_loss"] for e in a["history"]] == pytest.approx([e["train_loss"] for e in b["history"]],
                                                                        rel=1e-5)
        assert a["model_dir"] == str(tmp_path / "ray" / "points" / path.stem)
        meta = json.loads((Path(a["model_dir"]) / "metrics.json").read_text())
        # the student's provenance names the driver's teacher and cache, not the node's copies
        assert meta["teacher"]["model_dir"] == str(tiny_teacher_dir.resolve())
        assert meta["settings"]["cache_dir"] == str(tmp_path / "cache")
        hits.append(meta["transfer_set"]["teacher_cache_hit"])
    assert sorted(hits) == [False, True, True, True]  # the teacher ran for the first point only
    summary = json.loads((tmp_path / "ray" / "sweep.json").read_text())
    assert summary["complete"] and not summary["failures"]
    assert not [f for f in (tmp_path / "ray").rglob("*.json") if str(cluster.root / "scratch") in f.read_text()]

    again = cluster.run(*_edgekit(*args, "--out", tmp_path / "ray", "--executor", f"ray:{HEAD}"))
    assert again.returncode == 0 and "resuming: 4 of 4 points already done" in again.stderr, again.stderr

    # another sweep on the same teacher and data: the cache holds its group's teacher outputs, every point starts
    more = [*args[:args.index("--temperatures")], "--temperatures", "3,4", "--alphas", "0.5",
            "--cache-dir", tmp_path / "cache", "--out", tmp_path / "more", "--executor", f"ray:{HEAD}"]
    warm = cluster.run(*_edgekit(*more))
    assert warm.returncode == 0 and "ray: 2 point(s) submitted\n" in warm.stderr, warm.stderr
    for point in ("T3_a0.5", "T4_a0.5"):
        meta = json.loads((tmp_path / "more" / "points" / point / "metrics.json").read_text())
        assert meta["transfer_set"]["teacher_cache_hit"]


# ---------------------------------------------------------------------------------------------- bench
def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _bench(cluster, bundle, eval_file, out, *extra):
    return cluster.run(*_edgekit("bench", bundle, "--data", eval_file, "--limit", EVAL_N, "--out", out,
                                 "--no-progress", "--executor", f"ray:{HEAD}", *extra))


def test_bench_runs_a_target_on_the_node_that_offers_it(cluster, bundle, eval_file, tmp_path):
    out = tmp_path / "results.jsonl"
    done = _bench(cluster, bundle, eval_file, out, "--modes", "fp32,int8", "--target", f"local,{WORKER_TARGET}")
    assert done.returncode == 0, done.stderr
    records = _records(out)
    assert sorted((r["bundle"]["mode"], r["device"]["target"]) for r in records) == [
        ("fp32", "local"), ("fp32", WORKER_TARGET), ("int8", "local"), ("int8", WORKER_TARGET)]
    nodes = cluster.nodes()
    for r in records:
        assert r["ray"]["node_id"] == nodes["head" if r["device"]["target"] == "local" else WORKER_TARGET]
        # the bundle and eval file travelled; the record names the driver's
        assert r["bundle"]["path"] == str(bundle) and r["dataset"]["path"] == str(eval_file)
        assert r["quality"]["n"] == EVAL_N
    by = {(r["bundle"]["mode"], r["device"]["target"]): r for r in records}
    assert by[("fp32", "local")]["predictions"] == by[("fp32", WORKER_TARGET)]["predictions"]
    # the worker node's copy of each mode: manifest narrowed to the mode, vocabulary, labels, its one model file
    copies = sorted((cluster.root / "scratch" / "bundle").iterdir())
    assert len(copies) == 2 and all(len(list(c.glob("*.tflite"))) == 1 for c in copies)


def test_killed_worker_node_then_rerun_completes_without_duplicates(cluster, bundle, eval_file, tmp_path):
    out = tmp_path / "results.jsonl"
    args = [*_edgekit("bench", bundle, "--data", eval_file, "--limit", EVAL_N, "--out", out, "--no-progress",
                      "--executor", f"ray:{HEAD}", "--threads", "1,2", "--target", f"local,{WORKER_TARGET}")]
    driver = cluster.popen(*args, log=tmp_path / "driver.log")
    deadline = time.time() + 300
    while not (out.is_file() and any(f'"target":"{WORKER_TARGET}"' in ln for ln in out.read_text().splitlines())):
        assert driver.poll() is None and time.time() < deadline, (tmp_path / "driver.log").read_text()
        time.sleep(0.2)
    cluster.kill_worker()  # SIGKILL of the worker node mid-run: its raylet, agents and running measurement
    assert driver.wait(timeout=120) == 2, (tmp_path / "driver.log").read_text()
    log = (tmp_path / "driver.log").read_text()
    assert "measurement(s) failed" in log
    first = _records(out)
    assert 1 <= sum(r["device"]["target"] == WORKER_TARGET for r in first) < 6

    cluster.start_worker()
    rerun = cluster.run(*args)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(first)} already there" in rerun.stdout
    records = _records(out)
    keys = [r["run_key"] for r in records]
    assert len(records) == 12 and len(set(keys)) == 12  # 3 modes x 2 threads x 2 targets, each once
    assert records[:len(first)] == first


def test_without_an_address_a_local_instance_offers_every_target_and_is_stopped(bundle, tmp_path):
    # HOME: where Ray keeps the token it makes for a new local instance
    ns = Namespace(tmp_path, {"HOME": str(tmp_path / "home")})
    try:
        out = tmp_path / "r.jsonl"
        proc = ns.run(*_edgekit("bench", bundle, "--synthetic", 16, "--iterations", 3, "--modes", "fp32", "--target",
                                "local,local@board", "--out", out, "--no-progress", "--executor", "ray"))
        assert proc.returncode == 0, proc.stderr
        assert "ray: a local Ray instance, 1 node(s)" in proc.stderr
        assert sorted(r["device"]["target"] for r in _records(out)) == ["local", "local@board"]
        # the command stopped its Ray instance: alive in the namespace are its PID 1 and ps (zombies, which our
        # PID 1 does not reap, are processes that have exited)
        left = [ln.split() for ln in ns.run("ps", "-e", "-o", "stat=,comm=", check=True).stdout.splitlines()]
        assert sorted(comm for stat, comm in left if not stat.startswith("Z")) == ["ps", "sleep"], left
        # a target that fails its own check on its node: that line, before anything runs
        line = _one_error_line(ns.run(*_edgekit("bench", bundle, "--synthetic", 16, "--target", "adb:NOPE", "--out",
                                                tmp_path / "adb.jsonl", "--executor", "ray")))
        assert line.startswith("error: adb not found") and not (tmp_path / "adb.jsonl").exists(), line
    finally:
        ns.close()


# ---------------------------------------------------------------------------------------------- mistakes
def test_a_target_no_node_offers_is_one_line_before_anything_runs(cluster, bundle, eval_file, tmp_path):
    started = time.time()
    line = _one_error_line(_bench(cluster, bundle, eval_file, tmp_path / "r.jsonl", "--target", "local@nowhere"))
    assert "no Ray node offers target 'local@nowhere'" in line and "edgekit-target:local@nowhere" in line
    assert time.time() - started < 60 and not (tmp_path / "r.jsonl").exists()


def test_an_unreachable_address_is_one_line(cluster, bundle, eval_file, tmp_path):
    line = _one_error_line(cluster.run(*_edgekit("bench", bundle, "--data", eval_file, "--out", tmp_path / "r.jsonl",
                                                 "--executor", "ray:127.0.0.1:1"), timeout=60))
    assert line == "error: cannot reach a Ray cluster at 127.0.0.1:1 (Connection refused)"
    line = _one_error_line(cluster.run(*_edgekit("sweep", "--teacher", tmp_path / "t", "--out", tmp_path / "sw",
                                                 "--executor", "ray:127.0.0.1:1"), timeout=60))
    assert "cannot reach a Ray cluster at 127.0.0.1:1" in line and not (tmp_path / "sw").exists()


def test_without_ray_installed_the_error_names_the_extra(tmp_path):
    blocked = "import sys; sys.modules['ray'] = None; from edgekit.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", blocked, "sweep", "--teacher", str(tmp_path / "t"), "--out",
                           str(tmp_path / "sw"), "--executor", "ray"], capture_output=True, text=True, timeout=120)
    assert "pip install 'edgekit[ray]'" in _one_error_line(proc)


def test_nothing_imports_ray_unless_asked():
    script = ("import sys; import edgekit.cli, edgekit.cluster.bench, edgekit.cluster.distill, "
              "edgekit.benchmarks.harness, edgekit.distill.sweep; from edgekit.cli import cli; "
              "from click.testing import CliRunner; CliRunner().invoke(cli, ['sweep', '--help']); "
              "print('ray' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr


def test_executor_specs():
    from edgekit.distill.executor import InProcessExecutor, make_executor, parse_executor
    from edgekit.errors import EdgekitError

    assert parse_executor("ray:10.0.0.5:6379") == ("ray", "10.0.0.5:6379") and parse_executor("ray") == ("ray", None)
    assert isinstance(make_executor("in-process"), InProcessExecutor)
    with pytest.raises(EdgekitError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(EdgekitError, match="takes no address"):
        make_executor("in-process:1.2.3.4:1")
