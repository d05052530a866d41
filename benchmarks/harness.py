"""``edgekit bench``: the matrix bundles × modes × targets × threads, resumable, into one JSONL file.

Each finished measurement is appended to the results file as one JSON line (flushed and fsynced)
carrying a ``run_key`` (:mod:`edgekit.runtime.records`); a rerun skips every key already present,
so a killed run resumes where it stopped (a half-written last line from a kill is dropped). Before
anything runs, the plan is validated — bundles, modes, eval labels, targets — so a mistake costs
seconds, not a partial matrix. The measurements run one after another here (:class:`InProcessBench`)
or, with ``--executor ray``, each on the Ray node that owns its target (:mod:`edgekit.cluster.bench`,
docs/ray.md); either way the records land in the one results file as they come.

The source Keras model of each bundle (``manifest.model.source_checkpoint``) is measured on the
local target in the same run (``mode = "keras"``), so converted/unconverted ratios sit side by side.
For BERT-family bundles the ONNX Runtime peer (:mod:`.peers.ort_peer`) adds fp32 and dynamic int8 rows
on the same weights, at each sentence's own length and padded (``ort_*`` modes), when the
``edgekit[onnx]`` extra is installed; otherwise it is skipped with one line. Its ONNX files are
cached in ``onnx/`` next to the results file.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..errors import EdgekitError
from ..fsutil import sha256_file
from ..runtime.bundle import Bundle
from ..runtime.evaldata import load_eval
from ..runtime.records import append_record, read_records, write_records
from .peers.ort_peer import ORT_MODES, OrtPeer
from .peers.ort_peer import applies as ort_applies
from .peers.ort_peer import unavailable as ort_unavailable
from .targets import Job, Target, get_target

logger = logging.getLogger(__name__)


@dataclass
class Planned:
    key: str
    kind: str  # tflite | keras | onnx
    target: str
    job: Job
    label: str
    model_dir: Path | None = None
    bundle_model: str = ""


@dataclass
class BenchPlan:
    bundles: list[Path]
    targets: list[str] = field(default_factory=lambda: ["local"])
    modes: list[str] | None = None
    threads: list[int] = field(default_factory=lambda: [1])
    data: Path | None = None
    synthetic: list[int] | None = None
    limit: int | None = None
    warmup: int = 3
    iterations: int = 50
    baseline: bool = True
    onnx: bool = True
    target_options: dict = field(default_factory=dict)
    # per-target eval limit (emulated targets run a subset): {"arm64:cortex-a72": 40}
    target_limits: dict = field(default_factory=dict)


def _dataset_key(bundle: Bundle, data: Path, limit: int | None) -> str:
    return load_eval(data, bundle.labels, limit=limit).sha256[:12]


def plan_jobs(plan: BenchPlan) -> list[Planned]:
    if not plan.bundles:
        raise EdgekitError("no bundle given")
    if (plan.data is None) == (not plan.synthetic):
        raise EdgekitError("give --data (labelled eval file) or --synthetic LENGTHS, not both or neither")
    if any(t < 1 for t in plan.threads):
        raise EdgekitError("--threads values must be >= 1")
    out: list[Planned] = []
    baselines: dict[str, Planned] = {}  # the source model's rows: Keras, and the ONNX Runtime peer's
    with_ort = plan.onnx and plan.data is not None and ort_unavailable() is None
    for path in plan.bundles:
        bundle = Bundle.open(path)
        name = bundle.manifest["model"]["name"]
        modes = plan.modes or bundle.modes
        for mode in modes:
            bundle.verify(mode)  # unknown mode, missing or changed file: one clear line, before anything runs
        for spec in plan.targets:
            limit = plan.target_limits.get(spec, plan.limit)
            if plan.data is not None:
                dkey = _dataset_key(bundle, plan.data, limit)
                variants = [("data", None, dkey)]
            else:
                variants = [("synthetic", L, f"synthetic{L}x{plan.iterations}") for L in plan.synthetic]
            for mode in modes:
                sha = bundle.mode_entry(mode)["sha256"][:12]
                for threads in plan.threads:
                    for _, length, dkey in variants:
                        job = Job(bundle.path, mode, threads=threads, data=plan.data, synthetic=length,
                                  iterations=plan.iterations, warmup=plan.warmup,
                                  limit=limit if length is None else None)
                        key = f"{name}|{mode}|{sha}|{spec}|t{threads}|{dkey}"
                        label = f"{name}/{mode} {spec} t{threads}" + (f" L{length}" if length else "")
                        out.append(Planned(key, "tflite", spec, job, label, bundle_model=name))
            # the unconverted source model (Keras; ONNX Runtime on its weights), locally once per
            # (model dir, threads)
            ort = with_ort and ort_applies(bundle.manifest["model"].get("family"))
            if (plan.baseline or ort) and plan.data is not None and spec == "local":
                src = Path(str(bundle.manifest["model"].get("source_checkpoint", "")))
                if not (src / "edgekit_model.json").is_file():
                    logger.warning(f"baseline: {name}: source model {src} not found, Keras and ONNX Runtime rows "
                                   "skipped")
                    continue
                wsha = sha256_file(src / "model.weights.h5")[:12] if (src / "model.weights.h5").is_file() else "?"
                dkey = _dataset_key(bundle, plan.data, plan.limit)
                for threads in plan.threads:
                    key = f"{name}|keras|{wsha}|local|t{threads}|{dkey}"
                    if plan.baseline and key not in baselines:
                        job = Job(bundle.path, "keras", threads=threads, data=plan.data, warmup=plan.warmup,
                                  limit=plan.limit, extra={"buckets": [b for b, _ in bundle.buckets]})
                        baselines[key] = Planned(key, "keras", "local", job, f"{name}/keras (source) local t{threads}",
                                                 model_dir=src, bundle_model=name)
                    for mode in ORT_MODES if ort else ():
                        key = f"{name}|{mode}|{wsha}|local|t{threads}|{dkey}"
                        if key not in baselines:
                            job = Job(bundle.path, mode, threads=threads, data=plan.data, warmup=plan.warmup,
                                      limit=plan.limit)
                            baselines[key] = Planned(key, "onnx", "local", job, f"{name}/{mode} local t{threads}",
                                                     model_dir=src, bundle_model=name)
    out.extend(baselines.values())
    return out


# ---------------------------------------------------------------------------------------------- running
def _run_keras(p: Planned, timeout: float = 7200) -> dict:
    with tempfile.TemporaryDirectory(prefix="edgekit-keras-") as tmp:
        out = Path(tmp) / "r.json"
        job = p.job
        cmd = [sys.executable, "-m", "edgekit.benchmarks.keras_baseline", "--model-dir", str(p.model_dir),
               "--data", str(job.data), "--threads", str(job.threads), "--warmup", str(job.warmup),
               "--buckets", ",".join(map(str, job.extra["buckets"])), "--bundle-model", p.bundle_model,
               "--out", str(out)]
        if job.limit is not None:
            cmd += ["--limit", str(job.limit)]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        if proc.returncode != 0 or not out.is_file():
            from .targets import runner_error

            raise EdgekitError(runner_error(proc.stderr + proc.stdout, p.label))
        return json.loads(out.read_text())


def _progress(total: int, enabled: bool):
    """The bar, or None when none shows (``--no-progress``, stderr not a terminal, ``--quiet``): then each
    measurement is a log line."""
    if not enabled:
        return None
    from ..progress import progress_bar

    bar = progress_bar(desc="bench", total=total, unit="run", leave=True)
    return None if bar.disable else bar


class Measurer:
    """Runs planned measurements on this machine, one at a time: each target's driver (made and checked
    when first needed, closed at the end), the Keras baseline, the ONNX Runtime peer (its ONNX files
    cached in ``onnx_dir``)."""

    def __init__(self, target_options: dict, onnx_dir: Path) -> None:
        self.options = target_options
        self.targets: dict[str, Target] = {}
        self.peer = OrtPeer(onnx_dir)

    def target(self, spec: str) -> Target:
        if spec not in self.targets:
            self.targets[spec] = get_target(spec, **self.options)
            self.targets[spec].check()
        return self.targets[spec]

    def measure(self, p: Planned) -> dict:
        runners: dict[str, Callable[[], dict]] = {"tflite": lambda: self.target(p.target).run(p.job),
                                                  "keras": lambda: _run_keras(p),
                                                  "onnx": lambda: self.peer.run(p.job, p.model_dir)}
        return runners[p.kind]()

    def close(self) -> None:
        for t in self.targets.values():
            t.close()


Outcome = Iterator[tuple[Planned, "dict | EdgekitError"]]


class InProcessBench:
    """The matrix one measurement after another on this machine (every target checked before the first)."""

    name = "in-process"

    def __enter__(self) -> "InProcessBench":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def run(self, plan: BenchPlan, todo: list[Planned], onnx_dir: Path,
            starting: Callable[[Planned], None]) -> Outcome:
        measurer = Measurer(plan.target_options, onnx_dir)
        try:
            for spec in dict.fromkeys(p.target for p in todo):
                measurer.target(spec)
            for p in todo:
                starting(p)
                try:
                    yield p, measurer.measure(p)
                except EdgekitError as exc:
                    yield p, exc
        finally:
            measurer.close()


def _ray_bench(address: str | None, cpus_per_task: float, targets: list[str]):
    from ..cluster.bench import RayBench  # imports ray only when it connects

    return RayBench(address, cpus_per_task, targets)


def _in_process(address: str | None, cpus_per_task: float, targets: list[str]) -> InProcessBench:
    from ..cluster.bench import NODE_LOCAL

    if address:
        raise EdgekitError(f"executor 'in-process' takes no address (got 'in-process:{address}')")
    on_nodes = [t for t in targets if t.startswith(NODE_LOCAL)]
    if on_nodes:
        raise EdgekitError(f"target {on_nodes[0]!r} is the machine of a Ray node: run with --executor ray[:ADDRESS]")
    return InProcessBench()


# name → factory(address or None, CPUs per measurement, target specs); ``NAME[:ADDRESS]`` on the command line
BENCH_EXECUTORS: dict[str, Callable] = {"in-process": _in_process, "ray": _ray_bench}


def bench_executor(spec: str, cpus_per_task: float, targets: list[str]):
    """The executor named by ``--executor`` for a matrix on ``targets`` (nothing connects before it is entered)."""
    name, _, address = spec.strip().partition(":")
    if name not in BENCH_EXECUTORS:
        raise EdgekitError(f"unknown executor {spec!r}; use in-process or ray[:ADDRESS]")
    return BENCH_EXECUTORS[name](address or None, cpus_per_task, targets)


def _outcomes(executor, plan: BenchPlan, todo: list[Planned], out: Path,
              starting: Callable[[Planned], None]) -> Outcome:
    """The executor's results; it is entered (a cluster joined or started) only when there is work to do."""
    if todo:
        with executor as runner:
            yield from runner.run(plan, todo, out.parent / "onnx", starting)


def run_bench(plan: BenchPlan, out: str | Path, progress: bool = True,
              on_record: Callable[[dict], None] | None = None, executor=None) -> dict:
    """Run every planned measurement not already in ``out``; returns counts and failures. ``executor``:
    :class:`InProcessBench` (default) or :class:`edgekit.cluster.bench.RayBench` (docs/ray.md); either way
    each record is appended here as soon as it is measured."""
    out = Path(out)
    planned = plan_jobs(plan)
    done = {r.get("run_key") for r in read_records(out)}
    todo = [p for p in planned if p.key not in done]
    skipped = len(planned) - len(todo)
    if plan.onnx and plan.data is not None:
        reason = ort_unavailable()
        if reason:
            logger.info(reason)
    if skipped:
        logger.info(f"resume: {skipped} of {len(planned)} measurements already in {out}, {len(todo)} to run")
    failures: list[str] = []
    bar = _progress(len(planned), progress)
    if bar is not None:
        bar.update(skipped)

    def starting(p: Planned) -> None:
        if bar is not None:
            bar.set_postfix_str(p.label, refresh=True)
        else:
            logger.info(f"bench: {p.label} …")

    t_start = time.perf_counter()
    try:
        for p, result in _outcomes(executor or InProcessBench(), plan, todo, out, starting):
            if isinstance(result, EdgekitError):
                failures.append(str(result))
                logger.warning(f"failed: {result}")
            else:
                result["run_key"] = p.key
                append_record(out, result)
                if on_record:
                    on_record(result)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    summary = {"planned": len(planned), "skipped": skipped, "ran": len(todo) - len(failures),
               "failed": len(failures), "failures": failures, "out": str(out),
               "seconds": round(time.perf_counter() - t_start, 1)}
    return summary


def prune_results(plan: BenchPlan, out: str | Path) -> int:
    """Drop records that are not part of ``plan`` (an older plan's); returns how many were dropped."""
    keys = {p.key for p in plan_jobs(plan)}
    records = read_records(out)
    kept = [r for r in records if r.get("run_key") in keys]
    if len(kept) != len(records):
        write_records(out, kept)
    return len(records) - len(kept)
