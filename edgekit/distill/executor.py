"""Points of a sweep (or benchmark) and the executors that run them.

A :class:`PointTask` is plain data (JSON-able): which teacher, which saved split, which distillation
settings, where the result goes. :func:`run_point` is an importable top-level function that runs
one task and writes its result JSON atomically. :class:`InProcessExecutor` runs the tasks one after
another in this process; a distributed engine implements the same ``run(fn, tasks)`` method (submit
every task, yield each ``(task, result or exception)`` as it completes) and is a context manager
(``with`` holds its connection). ``--executor ray[:ADDRESS]`` picks the Ray executor
(:mod:`edgekit.cluster.distill`, docs/ray.md), which ships each task and its inputs to a node and
writes what comes back into the same folder: the result files are the same whichever executor wrote
them.

Resume: :func:`pending` drops tasks whose result file exists with the same task hash, so a sweep
killed mid-way continues at the first unfinished point and never redoes a finished one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol

from ..errors import EdgekitError
from ..fsutil import atomic_write_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PointTask:
    id: str
    teacher_dir: str
    split_dir: str
    settings: dict  # DistillSettings.to_dict()
    result_path: str
    model_dir: str | None = None  # where the student model dir goes (None: not kept)
    tags: dict = field(default_factory=dict)  # grid coordinates etc., copied into the result

    @property
    def hash(self) -> str:
        payload = {"teacher": self.teacher_dir, "split": self.split_dir, "settings": _hash_view(self.settings),
                   "tags": self.tags}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "PointTask":
        return cls(**d)


# Settings fields added after results were first recorded, with the value that means "as before": at that
# value they are left out of the task hash, so points finished before the field existed stay valid.
NEUTRAL_LATE_FIELDS: dict[tuple[str, ...], object] = {("train", "ema"): 0.0}


def _hash_view(settings: dict) -> dict:
    view = json.loads(json.dumps(settings, default=str))
    for path, neutral in NEUTRAL_LATE_FIELDS.items():
        parent = view
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent and parent[path[-1]] == neutral:
            del parent[path[-1]]
    return view


PointFn = Callable[[PointTask], dict]


class Executor(Protocol):
    def run(self, fn: PointFn, tasks: list[PointTask]) -> Iterator[tuple[PointTask, dict | BaseException]]:
        """Run ``fn`` on every task; yield each task with its result (or the exception it raised)."""


class InProcessExecutor:
    """Sequential, in this process. Errors are yielded, not raised (the other points still run);
    KeyboardInterrupt stops the run (finished points are already on disk)."""

    name = "in-process"

    def __enter__(self) -> "InProcessExecutor":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def run(self, fn: PointFn, tasks: list[PointTask]) -> Iterator[tuple[PointTask, dict | BaseException]]:
        for i, task in enumerate(tasks, 1):
            logger.info(f"[{i}/{len(tasks)}] point {task.id}")
            try:
                yield task, fn(task)
            except Exception as exc:  # noqa: BLE001 — reported per point
                logger.warning(f"point {task.id} failed: {type(exc).__name__}: {exc}")
                logger.debug(traceback.format_exc(limit=3))
                yield task, exc


def _in_process(address: str | None, cpus_per_task: float) -> Executor:
    if address:
        raise EdgekitError(f"executor 'in-process' takes no address (got 'in-process:{address}')")
    return InProcessExecutor()


def _ray(address: str | None, cpus_per_task: float) -> Executor:
    from ..cluster.distill import RayExecutor  # imports ray only when it connects

    return RayExecutor(address, cpus_per_task=cpus_per_task)


# name → factory(address or None, CPUs per task); ``NAME[:ADDRESS]`` on the command line
EXECUTORS: dict[str, Callable[[str | None, float], Executor]] = {"in-process": _in_process, "ray": _ray}
EXECUTOR_HELP = ("in-process (default: one point after another here) or ray[:ADDRESS] (each point a Ray task; "
                 "no ADDRESS: a local Ray instance for this run; ADDRESS: the head's HOST:PORT or auto; docs/ray.md)")


def parse_executor(spec: str) -> tuple[str, str | None]:
    """``ray:10.0.0.5:6379`` → ``("ray", "10.0.0.5:6379")``; one line for an unknown executor."""
    name, _, address = spec.strip().partition(":")
    if name not in EXECUTORS:
        raise EdgekitError(f"unknown executor {spec!r}; use in-process or ray[:ADDRESS]")
    return name, address or None


def make_executor(spec: str, cpus_per_task: float = 1.0) -> Executor:
    """The executor named by ``--executor`` (nothing connects before it is entered or run)."""
    name, address = parse_executor(spec)
    return EXECUTORS[name](address, cpus_per_task)


def load_result(task: PointTask) -> dict | None:
    path = Path(task.result_path)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return record if record.get("task_hash") == task.hash and record.get("status") == "done" else None


def pending(tasks: list[PointTask]) -> list[PointTask]:
    return [t for t in tasks if load_result(t) is None]


def run_point(task: PointTask) -> dict:
    """Run one distillation point and write its result record (atomically) to ``task.result_path``."""
    from ..data import Splits
    from ..provenance import stamp
    from ..train.loop import TrainConfig
    from .job import DistillSettings, distill

    s = dict(task.settings)
    s["train"] = TrainConfig(**s["train"])
    if s.get("layer_map") is not None:
        s["layer_map"] = [tuple(p) for p in s["layer_map"]]
    settings = DistillSettings(**s)
    splits = Splits.load(task.split_dir)
    result = distill(task.teacher_dir, splits, task.model_dir, settings, progress=False)
    record = {"id": task.id, "status": "done", "task_hash": task.hash, **task.tags, **result.summary(),
              "history": result.metrics["history"]["epochs"], **stamp()}
    if not task.model_dir:
        record.pop("model_dir", None)
    atomic_write_json(task.result_path, record)
    return record
