"""Benchmark targets for real: the emulated arm64 Python (qemu user-mode, Debian arm64 sysroot), an
ssh target served by an sshd started here on 127.0.0.1 whose python is that emulated aarch64 one,
and adb (parser on benchmark_model output in both documented forms; no device → one clear line).

The arm64 environment is cached in ``$EDGEKIT_ARM64_CACHE`` (default: ``REPO/.cache/edgekit-arm64``,
inside the CI workspace): the first run downloads ~125 MB, later runs reuse it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgekit import contracts
from edgekit.errors import EdgekitError

REPO = Path(__file__).resolve().parent.parent
EVAL_N = 40  # sentences per emulated run (emulation is ~500x slower than native)


# ---------------------------------------------------------------------------------------------
# fixtures: arm64 environment, a converted bundle, an eval subset


@pytest.fixture(scope="session")
def arm64_env():
    from edgekit.benchmarks.targets import arm64

    cache = Path(os.environ.get("EDGEKIT_ARM64_CACHE") or REPO / ".cache" / "edgekit-arm64")
    os.environ["EDGEKIT_ARM64_CACHE"] = str(cache)
    return arm64.prepare(cache)


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory, tiny_teacher_dir, default_splits) -> Path:
    """The tiny 2-layer BERT converted by edgekit.converters: fp32, dynamic_int8, int8 (parity-gated)."""
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    out = tmp_path_factory.mktemp("bundles") / "small"
    convert_model_dir(tiny_teacher_dir, out, default_splits,
                      ConvertOptions(modes=["fp32", "dynamic_int8", "int8"], calibration_samples=60, check_limit=60,
                                     metadata=False), progress=False)
    return out


@pytest.fixture(scope="session")
def eval_subset(tmp_path_factory, default_splits) -> Path:
    path = tmp_path_factory.mktemp("eval") / "test.jsonl"
    default_splits.test.head(EVAL_N).to_jsonl(path)
    return path


@pytest.fixture(scope="session")
def x86_records(small_bundle, eval_subset) -> dict:
    from edgekit.benchmarks.targets import Job
    from edgekit.benchmarks.targets.local import LocalTarget

    t = LocalTarget()
    return {mode: t.run(Job(small_bundle, mode, data=eval_subset)) for mode in ("fp32", "dynamic_int8", "int8")}


def _agreement(a: list[int], b: list[int]) -> float:
    assert len(a) == len(b) and a
    return sum(x == y for x, y in zip(a, b)) / len(a)


# ---------------------------------------------------------------------------------------------
# arm64 under qemu


def test_arm64_cpuinfo_matches_each_cpu(arm64_env):
    """The /proc/cpuinfo trap: each -cpu sees an ARM-format cpuinfo with its own CPU part."""
    from edgekit.benchmarks.targets import arm64

    probe = "import platform; print(platform.machine()); print(open('/proc/cpuinfo').read())"
    for cpu, (_, _, part, _, _) in arm64.CPUS.items():
        out = subprocess.run([*arm64_env.python_command(cpu), "-c", probe], capture_output=True, text=True,
                             env=arm64_env.env(), timeout=300)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[0] == "aarch64"
        assert f"CPU part\t: 0x{part:03x}" in out.stdout and "GenuineIntel" not in out.stdout
        assert "-cpu" in arm64_env.python_command(cpu) and "max" not in arm64_env.python_command(cpu)


def test_arm64_rejects_unknown_and_max_cpu():
    from edgekit.benchmarks.targets import get_target

    with pytest.raises(EdgekitError, match="wrong int8"):
        get_target("arm64:max")
    with pytest.raises(EdgekitError, match="cortex-a53"):
        get_target("arm64:cortex-a9000")


def test_arm64_predictions_match_x86(arm64_env, small_bundle, eval_subset, x86_records):
    """Float modes: the same predictions as x86; int8 modes: >= 99 % agreement. Latency labelled emulated."""
    from edgekit.benchmarks.targets import Job, get_target

    target = get_target("arm64:cortex-a72", arm64_cache=str(arm64_env.cache))
    for mode in ("fp32", "dynamic_int8", "int8"):
        r = target.run(Job(small_bundle, mode, data=eval_subset))
        assert contracts.check_result(r) == []
        d = r["device"]
        assert d["arch"] == "aarch64" and d["emulated"] is True and d["target"] == "arm64:cortex-a72"
        assert "qemu" in d["emulator"] and "cortex-a72" in d["emulator"] and "Cortex-A72" in d["cpu_model"]
        assert d["runtime"] == {"name": "ai-edge-litert", "version": "2.3.0"}
        assert r["quality"]["n"] == EVAL_N
        ref = x86_records[mode]["predictions"]
        if mode == "int8":
            assert _agreement(ref, r["predictions"]) >= 0.99, mode
        else:
            assert r["predictions"] == ref, mode
            assert r["quality"]["macro_f1"] == pytest.approx(x86_records[mode]["quality"]["macro_f1"])


# ---------------------------------------------------------------------------------------------
# ssh: a real sshd on 127.0.0.1, the emulated aarch64 python behind it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    sshd_bin = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(sshd_bin).is_file():
        pytest.fail("sshd not installed (apt-get install openssh-server): the ssh target must be tested for real")
    d = tmp_path_factory.mktemp("sshd")
    os.chmod(d, 0o700)
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    shutil.copyfile(d / "client_key.pub", d / "authorized_keys")
    os.chmod(d / "authorized_keys", 0o600)
    port = _free_port()
    config = d / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        "AcceptEnv LANG LC_*\nPermitUserEnvironment no\nLogLevel ERROR\n")
    Path("/run/sshd").mkdir(exist_ok=True) if os.geteuid() == 0 else None
    proc = subprocess.Popen([sshd_bin, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                            stderr=open(d / "sshd.log", "wb"))
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                pytest.fail(f"sshd exited: {(d / 'sshd.log').read_text()}")
            time.sleep(0.2)
        else:
            pytest.fail("sshd did not start listening")
        import getpass

        yield {"port": port, "user": getpass.getuser(), "key": d / "client_key",
               "options": ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"], "dir": d}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.poll() is not None  # nothing left running


def _ssh_target(sshd, python: str, port: int | None = None):
    from edgekit.benchmarks.targets import get_target

    return get_target(f"ssh://{sshd['user']}@127.0.0.1:{port or sshd['port']}", remote_python=python,
                      ssh_identity=str(sshd["key"]), ssh_options=sshd["options"], timeout=900)


def test_ssh_target_runs_on_emulated_arm64_behind_sshd(sshd, arm64_env, small_bundle, eval_subset, x86_records,
                                                      tmp_path):
    from edgekit.benchmarks.targets import Job

    # a python path with a space and a quote in it: every remote argument must be quoted
    odd = tmp_path / "py dir's"
    odd.mkdir()
    python = odd / "python3"
    python.symlink_to(arm64_env.launcher("cortex-a72"))
    bundle = shutil.copytree(small_bundle, tmp_path / "my bundle (copy)")
    with _ssh_target(sshd, str(python)) as target:
        r = target.run(Job(bundle, "dynamic_int8", data=eval_subset, limit=20))
        remote_dir = target.remote_dir
        assert remote_dir and remote_dir.startswith("/")
    assert contracts.check_result(r) == []
    assert r["device"]["target"] == f"ssh://{sshd['user']}@127.0.0.1:{sshd['port']}"
    assert r["device"]["arch"] == "aarch64" and r["device"]["emulated"] is True
    assert r["predictions"] == x86_records["dynamic_int8"]["predictions"][:20]
    assert r["bundle"]["path"] == str(bundle)
    assert not Path(remote_dir).exists()  # the session's remote folder is removed on close


def test_ssh_errors_are_clear(sshd, tmp_path, small_bundle, eval_subset):
    from edgekit.benchmarks.targets import Job

    job = Job(small_bundle, "fp32", data=eval_subset, limit=3)
    with pytest.raises(EdgekitError, match="connection refused"):
        _ssh_target(sshd, "python3", port=_free_port()).run(job)
    with pytest.raises(EdgekitError, match="no python on the device"):
        _ssh_target(sshd, "/nonexistent/python3").run(job)
    # a python with numpy but no TFLite runtime, and one without numpy
    site = tmp_path / "site"
    site.mkdir()
    import numpy

    (site / "numpy").symlink_to(Path(numpy.__file__).parent)
    libs = Path(numpy.__file__).parent.parent / "numpy.libs"
    if libs.exists():
        (site / "numpy.libs").symlink_to(libs)
    no_litert = tmp_path / "python-no-litert"
    no_litert.write_text(f"#!/bin/sh\nPYTHONPATH={site} exec {sys.executable} -S \"$@\"\n")
    no_numpy = tmp_path / "python-no-numpy"
    no_numpy.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    for p in (no_litert, no_numpy):
        p.chmod(0o755)
    with pytest.raises(EdgekitError, match="no TFLite runtime"):
        _ssh_target(sshd, str(no_litert)).run(job)
    with pytest.raises(EdgekitError, match="no numpy"):
        _ssh_target(sshd, str(no_numpy)).run(job)
    from edgekit.benchmarks.targets.ssh import parse_spec

    assert parse_spec("pi@board.local:2222") == ("pi", "board.local", 2222)
    assert parse_spec("board") == (None, "board", None)
    with pytest.raises(EdgekitError):
        parse_spec("pi@board:99999")


# ---------------------------------------------------------------------------------------------
# adb: benchmark_model output, both forms (samples written in the formats TFLite's docs show)

OLD_FORM = """\
STARTING!
Min num runs: [50]
Num threads: [4]
Graph: [/data/local/tmp/edgekit/model_int8.tflite]
Loaded model /data/local/tmp/edgekit/model_int8.tflite
The input model file size (MB): 7.80512
Initialized session in 21.412ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=38 first=31544 curr=12807 min=12650 max=31544 avg=13263.2 std=3011

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=78 first=12911 curr=12702 min=12588 max=14870 avg=12844.6 std=312

Inference timings in us: Init: 21412, First inference: 31544, Warmup (avg): 13263.2, Inference (avg): 12844.6
Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
Memory footprint delta from the start of the tool (MB): init=9.81641 overall=14.2031
"""

NEW_FORM = """\
INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Num threads: [2]
INFO: Signature to run: [seq64]
INFO: Graph: [/data/local/tmp/edgekit/model_fp32.tflite]
INFO: Loaded model /data/local/tmp/edgekit/model_fp32.tflite
INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
INFO: The input model file size (MB): 90.8841
INFO: Initialized session in 118.73ms.
INFO: Running benchmark for at least 3 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: count=21 first=41210 curr=24109 min=23890 max=41210 avg=25123.9 std=3650 p5=23890 median=24302 p95=41210

INFO: Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: count=50 first=24417 curr=24220 min=23771 max=1.03e+05 avg=2.61547e+04 std=11012 p5=23802 median=24266 p95=30113

INFO: Inference timings in us: Init: 118730, First inference: 41210, Warmup (avg): 25123.9, Inference (avg): 26154.7
INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the actual memory footprint of the model at runtime. Take the information at your discretion.
INFO: Peak memory footprint (MB): init=93.1211 overall=101.48
"""

LOGCAT_SUMMARY_ONLY = """\
11-22 06:00:01.123  4242  4242 I tflite  : Loaded model /data/local/tmp/edgekit/model_dynamic_int8.tflite
11-22 06:00:02.456  4242  4242 I tflite  : Inference timings in us: Init: 8120, First inference: 6150, Warmup (avg): 3.1e+03, Inference (avg): 2950.5
"""


def test_benchmark_model_parser_old_form():
    from edgekit.benchmarks.targets.adb import parse_benchmark_output

    p = parse_benchmark_output(OLD_FORM)
    inf = p["inference"]
    assert inf["count"] == 78 and inf["mean"] == pytest.approx(12.8446) and inf["std"] == pytest.approx(0.312)
    assert inf["min"] == pytest.approx(12.588) and inf["max"] == pytest.approx(14.870)
    assert inf["p50"] is None and inf["p90"] is None  # this form has no percentiles
    assert p["load"] == pytest.approx(21.412) and p["first_inference"] == pytest.approx(31.544)
    assert p["warmup_mean"] == pytest.approx(13.2632) and p["warmup_count"] == 38
    assert p["memory"] == {"init_mb": 9.81641, "overall_mb": 14.2031, "kind": "delta"}
    assert p["model_size_mb"] == pytest.approx(7.80512) and p["forms"] == ["count", "summary"]


def test_benchmark_model_parser_new_form_with_percentiles():
    from edgekit.benchmarks.targets.adb import parse_benchmark_output

    p = parse_benchmark_output(NEW_FORM)
    inf = p["inference"]
    assert inf["count"] == 50 and inf["mean"] == pytest.approx(26.1547)  # "2.61547e+04" us
    assert inf["max"] == pytest.approx(103.0) and inf["p50"] == pytest.approx(24.266)
    assert inf["p5"] == pytest.approx(23.802) and inf["p95"] == pytest.approx(30.113)
    assert p["load"] == pytest.approx(118.73) and p["memory"]["kind"] == "peak"
    assert p["memory"]["overall_mb"] == pytest.approx(101.48)


def test_benchmark_model_parser_summary_only_and_garbage():
    from edgekit.benchmarks.targets.adb import parse_benchmark_output

    p = parse_benchmark_output(LOGCAT_SUMMARY_ONLY)
    assert p["forms"] == ["summary"] and p["inference"]["mean"] == pytest.approx(2.9505)
    assert p["inference"]["count"] is None and p["warmup_mean"] == pytest.approx(3.1)
    assert p["load"] == pytest.approx(8.12) and p["first_inference"] == pytest.approx(6.15)
    count_only = "count=10 first=5000 curr=4000 min=3900 max=5000 avg=4100 std=300\n"
    assert parse_benchmark_output(count_only)["inference"]["mean"] == pytest.approx(4.1)
    with pytest.raises(ValueError, match="no benchmark_model timings"):
        parse_benchmark_output("ERROR: Could not open '/data/local/tmp/x.tflite'.\nAborted\n")


def test_adb_record_is_a_complete_result_record(small_bundle):
    from edgekit.runtime.bundle import Bundle
    from edgekit.benchmarks.targets.adb import parse_benchmark_output, record_from_benchmark

    device = {"arch": "arm64-v8a", "cpu_model": "SM8550", "os": "Android 14", "target": "adb:R5CT", "emulated": False,
              "runtime": {"name": "benchmark_model", "version": "user-supplied"}}
    r = record_from_benchmark(parse_benchmark_output(NEW_FORM), Bundle.open(small_bundle), "fp32", 2, 64, device)
    assert contracts.check_result(r) == []
    assert r["quality"]["macro_f1"] is None and r["timing_ms"]["inference"]["p50"] == pytest.approx(24.266)
    assert r["buckets_used"] == {"64": 50}


def test_adb_without_device_is_one_clear_line(small_bundle, tmp_path):
    from edgekit.benchmarks.targets import Job, get_target

    binary = tmp_path / "benchmark_model"
    binary.write_bytes(b"\x7fELF")
    target = get_target("adb:edgekit-no-such-device", benchmark_binary=str(binary))
    try:
        with pytest.raises(EdgekitError) as err:
            target.run(Job(small_bundle, "fp32", synthetic=64))
    finally:
        if shutil.which("adb"):
            subprocess.run(["adb", "kill-server"], capture_output=True, timeout=30)  # leave no adb daemon behind
    msg = str(err.value)
    assert "\n" not in msg
    if shutil.which("adb"):
        assert "not attached" in msg and "edgekit-no-such-device" in msg
    else:
        assert "adb not found" in msg


# ---------------------------------------------------------------------------------------------
# the harness: `edgekit bench` (resume after a kill, Keras baseline, one-line mistakes)


def _bench_cmd(*args) -> list[str]:
    return [sys.executable, "-c", "from edgekit.cli import main; main()", "bench", *map(str, args)]


def test_bench_resumes_after_kill_and_measures_the_keras_source(small_bundle, eval_subset, tmp_path):
    import signal

    out = tmp_path / "results.jsonl"
    args = [small_bundle, "--data", eval_subset, "--threads", "1,2", "--limit", 20, "--out", out, "--no-progress"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen(_bench_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (out.is_file() and out.read_text().count("\n") >= 2):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # a kill, not a clean exit
    proc.wait()
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert 2 <= len(first) < 8
    with out.open("a") as fh:  # and a record torn in half by the kill
        fh.write(json.dumps(first[0])[:150])
    done = subprocess.run(_bench_cmd(*args), capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr
    assert f"{len(first)} already there" in done.stdout and "already in" in done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    keys = [r["run_key"] for r in records]
    # 3 modes x 2 thread counts + the Keras source model at 1 and 2 threads, each exactly once
    assert len(records) == 8 and len(set(keys)) == 8
    assert records[: len(first)] == first
    assert all(contracts.check_result(r) == [] for r in records)
    keras = [r for r in records if r["bundle"]["mode"] == "keras"]
    assert sorted(r["threads"] for r in keras) == [1, 2]
    assert keras[0]["device"]["runtime"]["name"] == "tensorflow" and keras[0]["bundle"]["model"] == "teacher"
    fp32 = next(r for r in records if r["bundle"]["mode"] == "fp32" and r["threads"] == 1)
    assert keras[0]["predictions"] == fp32["predictions"]  # the conversion is faithful, so argmax agrees
    again = subprocess.run(_bench_cmd(*args), capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0 and "0 measured, 8 already there" in again.stdout


def test_bench_mistakes_are_one_line(small_bundle, eval_subset, tmp_path):
    from click.testing import CliRunner

    from edgekit.cli import cli

    def bench(*args):
        r = CliRunner().invoke(cli, ["bench", *map(str, args), "--out", str(tmp_path / "r.jsonl"), "--no-progress"])
        assert r.exit_code == 2, r.output
        lines = [line for line in r.stderr.strip().splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "Traceback" not in r.output
        return lines[0]

    malformed = shutil.copytree(small_bundle, tmp_path / "malformed")
    (malformed / "manifest.json").write_text('{"schema_version": 1, "model": ')
    assert "not valid JSON" in bench(malformed, "--data", eval_subset)
    assert "no mode 'fp16'" in bench(small_bundle, "--modes", "fp16", "--data", eval_subset)
    missing = shutil.copytree(small_bundle, tmp_path / "missing")
    (missing / "model_int8.tflite").unlink()
    assert "model_int8.tflite" in bench(missing, "--data", eval_subset)
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({"text": "Profit rose.", "label": "positive"}) + "\n"
                   + json.dumps({"text": "Meh.", "label": "so-so"}) + "\n")
    line = bench(small_bundle, "--data", odd)
    assert "odd.jsonl:2" in line and "unknown label 'so-so'" in line
    assert "unknown target" in bench(small_bundle, "--data", eval_subset, "--target", "tpu")
    assert "not prepared" in bench(small_bundle, "--data", eval_subset, "--target", "arm64",
                                   "--arm64-cache", tmp_path / "empty-cache")
    assert not (tmp_path / "r.jsonl").exists()  # validated before anything ran


def test_arm64_prepare_command_reuses_the_cache(arm64_env):
    from click.testing import CliRunner

    from edgekit.cli import cli

    r = CliRunner().invoke(cli, ["arm64", "prepare", "--cache", str(arm64_env.cache)])
    assert r.exit_code == 0, r.output
    assert "reusing" in r.stderr and "arm64 ready" in r.stdout and "python3-aarch64-cortex-a53" in r.stdout


def test_run_pipeline_bench_and_report_stages(small_bundle, eval_subset, tmp_path):
    """The bench and report stages on a run folder: every bundle the convert stage names, the Keras row, a
    report; records of an older plan are dropped when the stage runs again."""
    from dataclasses import replace

    from edgekit.benchmarks import stages
    from edgekit.runtime.records import read_records
    from edgekit.pipeline import BenchSettings, RunSettings, StageContext, fingerprints, ordered, registered_stages

    names = [st.name for st in ordered(registered_stages())]
    assert names[-2:] == ["bench", "report"]  # after data, teacher, students, convert
    run = tmp_path / "run"
    shutil.copytree(small_bundle, run / "bundles" / "small")
    (run / "data").mkdir(parents=True)
    shutil.copyfile(eval_subset, run / "data" / "test.jsonl")
    stale = {"schema_version": 1, "kind": "edgekit-benchmark-result", "run_key": "old|plan"}
    (run / "results").mkdir()
    (run / "results" / "results.jsonl").write_text(json.dumps(stale) + "\n")
    inputs = {"data": {"split_dir": str(run / "data")},
              "convert": {"bundles": {"small": str(run / "bundles" / "small")}}}
    out = stages.run_bench_stage(StageContext(out=run, settings=BenchSettings(), inputs=inputs))
    records = read_records(out["results"])
    assert out["measurements"] == len(records) == 4  # fp32, dynamic_int8, int8 + the Keras source
    assert {r["bundle"]["mode"] for r in records} == {"fp32", "dynamic_int8", "int8", "keras"}
    rep = stages.run_report_stage(StageContext(out=run, settings=None, inputs={"bench": out}))
    assert Path(rep["report"]).is_file() and rep["recommendation"].startswith("teacher/")
    # the fingerprints follow the upstream stages and the arm settings
    s = RunSettings(out=run)
    fp = fingerprints(s, registered_stages())
    arm = fingerprints(replace(s, bench=replace(s.bench, arm=True)), registered_stages())
    teacher = fingerprints(replace(s, teacher=replace(s.teacher, epochs=9)), registered_stages())
    assert fp["bench"] != arm["bench"] and fp["report"] != arm["report"] and fp["convert"] == arm["convert"]
    assert fp["bench"] != teacher["bench"] and fp["report"] != teacher["report"]
