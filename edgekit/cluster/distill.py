"""Distillation points as Ray tasks: ``edgekit sweep|distill-benchmark --executor ray[:ADDRESS]``.

Each point is one Ray task asking for ``--ray-cpus-per-task`` CPUs (TensorFlow in it uses as many
threads). What travels (docs/ray.md): the teacher's folder, the saved split and the ``--unlabelled``
file go into the object store once per run and onto each node once (:mod:`.shipping`). A point runs
in a scratch folder of its node and returns its record, its student model directory and the teacher
outputs it computed. The driver writes the model directory, then the record: the same files, in the
same folder, as :class:`~edgekit.distill.executor.InProcessExecutor`, and the record still marks a
finished point, so a killed driver or node costs only the points that were running, and a rerun
with either executor continues where the last one stopped.

Teacher outputs are computed once per teacher side, not per point. Points that read the same teacher
outputs (same teacher and split contents, student, loss, transfer set, length: :func:`teacher_side`)
form a group; its first point runs alone, and the outputs it computed go to the others through the
object store and into the driver's teacher-output cache (``--cache-dir``), with a list of the group's
files (``ray-group-KEY.json``): a later run whose cache holds them, into this folder or another,
starts every point at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from ..distill.cache import cache_root
from ..distill.executor import PointFn, PointTask
from ..errors import EdgekitError, first_line
from ..fsutil import atomic_directory, atomic_write_bytes, atomic_write_json
from .session import WORKER_ENV, OnSession, RaySession
from .shipping import Shipment, node_scratch, read_files, relocate, relocate_json_files, write_files

logger = logging.getLogger(__name__)

# the settings that decide which teacher outputs a point reads (temperature, alpha, seed... do not)
TEACHER_SIDE = ("student", "loss", "layer_map", "augment", "augment_multiplier", "augment_seed", "unlabelled")


def teacher_side(task: PointTask, teacher: str, split: str) -> str:
    """The key of the points that read the same teacher outputs: the digests of the teacher's and the split's
    files, and the settings that shape the transfer set."""
    s = task.settings
    side = {"teacher": teacher, "split": split, "max_length": s["train"].get("max_length"),
            **{k: s.get(k) for k in TEACHER_SIDE}}
    return hashlib.sha256(json.dumps(side, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _group_list(cache_dir: str | None, key: str) -> Path:
    return cache_root(cache_dir) / f"ray-group-{key}.json"


def cached_group(cache_dir: str | None, key: str) -> dict[str, bytes] | None:
    """The teacher outputs of group ``key`` from the driver's cache, when an earlier run listed them and every
    file is still there."""
    listing = _group_list(cache_dir, key)
    if not listing.is_file():
        return None
    names = json.loads(listing.read_text()).get("files", [])
    files = [listing.parent / n for n in names]
    if not names or not all(f.is_file() for f in files):
        return None
    return {f.name: f.read_bytes() for f in files}


def _keep_in_cache(cache_dir: str | None, key: str, files: dict[str, bytes]) -> None:
    """Files a node computed into the driver's cache, and their names onto group ``key``'s list."""
    root = cache_root(cache_dir)
    for name, data in files.items():
        atomic_write_bytes(root / name, data)
    listing = _group_list(cache_dir, key)
    known = json.loads(listing.read_text()).get("files", []) if listing.is_file() else []
    atomic_write_json(listing, {"files": sorted(set(known) | set(files))})


def run_on_node(fn: PointFn, task: dict, teacher: Shipment, split: Shipment, unlabelled: Shipment | None,
                caches: list) -> tuple[dict, dict[str, bytes] | None, dict[str, bytes]]:
    """One point on a Ray node: ``fn`` on a copy of ``task`` whose paths are this node's; returns
    ``({record, node}, student model files or None, teacher-output files it computed)``, every path in
    them the driver's."""
    import ray

    original = PointTask.from_dict(task)
    given: dict[str, bytes] = {}
    for files in ray.get(caches):
        given.update(files)
    teacher_dir, split_dir = teacher.unpack("teacher"), split.unpack("split")
    node_scratch().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="point-", dir=node_scratch()) as tmp:
        work = Path(tmp)
        cache = work / "cache"
        cache.mkdir()
        write_files(cache, given)
        settings = {**original.settings, "cache_dir": str(cache)}
        mapping = {str(teacher_dir): original.teacher_dir, str(split_dir): original.split_dir,
                   str(cache): original.settings.get("cache_dir")}
        if unlabelled is not None:
            (name,) = unlabelled.files
            settings["unlabelled"] = str(unlabelled.unpack("unlabelled") / name)
            mapping[settings["unlabelled"]] = original.settings["unlabelled"]
        model = work / "model"
        if original.model_dir:
            mapping[str(model)] = original.model_dir
        local = replace(original, teacher_dir=str(teacher_dir), split_dir=str(split_dir), settings=settings,
                        result_path=str(work / "result.json"), model_dir=str(model) if original.model_dir else None)
        record = relocate(fn(local), mapping)
        if "task_hash" in record:
            record["task_hash"] = original.hash
        model_files = None
        if original.model_dir:
            relocate_json_files(model, mapping)
            model_files = read_files(model)
        computed = {n: b for n, b in read_files(cache).items() if n not in given}
    return {"record": record, "node": ray.util.get_node_ip_address()}, model_files, computed


def _unwrap(exc: BaseException) -> BaseException:
    """The exception a point raised on its node (Ray wraps it), or a one-line one for a lost task."""
    from ray.exceptions import RayTaskError

    if isinstance(exc, RayTaskError) and isinstance(exc.cause, BaseException):
        return exc.cause
    return EdgekitError(f"{type(exc).__name__}: {first_line(exc)}")


class RayExecutor(OnSession):
    """Points as Ray tasks on the cluster at ``address`` (None: a local Ray instance for the run)."""

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_task: float = 1.0) -> None:
        self.session = RaySession(address)
        self.cpus_per_task = cpus_per_task

    def run(self, fn: PointFn, tasks: list[PointTask]) -> Iterator[tuple[PointTask, dict | BaseException]]:
        if not tasks:
            return
        with RaySession(self.session.address) as session:  # joins the connection when one is open
            yield from _Run(session.ray, fn, tasks, self.cpus_per_task).results()


class _Run:
    """One executor run: the inputs put once, groups opened by their first point, results written as they
    come."""

    def __init__(self, ray, fn: PointFn, tasks: list[PointTask], cpus_per_task: float) -> None:
        self.ray, self.fn, self.tasks = ray, fn, tasks
        threads = str(max(1, math.ceil(cpus_per_task)))
        env = {**WORKER_ENV, "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads}
        self.remote = ray.remote(run_on_node).options(num_cpus=cpus_per_task, num_returns=3,
                                                      runtime_env={"env_vars": env})
        self.inputs: dict[tuple[str, str], tuple[object, str]] = {}
        self.inflight: dict[object, tuple[PointTask, list]] = {}
        self.shared: dict[str, list] = {}  # group → object refs of its teacher outputs
        self.waiting: dict[str, list[PointTask]] = {}  # group → points held back until its first one is done

    def _ship(self, kind: str, path: str | None, make) -> tuple[object, str] | None:
        """The object ref and digest of an input, put once per run (None: no such input)."""
        if path is None:
            return None
        if (kind, path) not in self.inputs:
            shipment = make(path)
            self.inputs[(kind, path)] = (self.ray.put(shipment), shipment.digest)
        return self.inputs[(kind, path)]

    def _side(self, task: PointTask) -> str:
        return teacher_side(task, self._ship("teacher", task.teacher_dir, Shipment.of_dir)[1],
                            self._ship("split", task.split_dir, Shipment.of_dir)[1])

    def _submit(self, task: PointTask) -> None:
        unlabelled = self._ship("unlabelled", task.settings.get("unlabelled"),
                                lambda p: Shipment.of({Path(p).name: Path(p).read_bytes()}))
        refs = self.remote.remote(self.fn, task.to_dict(), self._ship("teacher", task.teacher_dir, Shipment.of_dir)[0],
                                  self._ship("split", task.split_dir, Shipment.of_dir)[0],
                                  unlabelled[0] if unlabelled else None, self.shared[self._side(task)])
        self.inflight[refs[0]] = (task, refs)

    def _open_groups(self) -> None:
        groups: dict[str, list[PointTask]] = {}
        for task in self.tasks:
            groups.setdefault(self._side(task), []).append(task)
        for key, members in groups.items():
            cached = cached_group(members[0].settings.get("cache_dir"), key)
            self.shared[key] = [self.ray.put(cached)] if cached else []
            first, rest = (members, []) if cached else (members[:1], members[1:])
            self.waiting[key] = rest
            for task in first:
                self._submit(task)
        held = sum(len(w) for w in self.waiting.values())
        logger.info(f"ray: {len(self.inflight)} point(s) submitted" + (
            f", {held} more once the first of their group has computed the teacher outputs" if held else ""))

    def _write(self, task: PointTask, refs: list) -> dict:
        meta, model_files, computed = self.ray.get(refs)
        if computed:
            key = self._side(task)
            _keep_in_cache(task.settings.get("cache_dir"), key, computed)
            self.shared[key].append(refs[2])
        if model_files is not None:
            with atomic_directory(task.model_dir, overwrite=True) as tmp:
                write_files(tmp, model_files)
        atomic_write_json(task.result_path, meta["record"])  # last: the record marks the point done
        logger.info(f"point {task.id} done on {meta['node']}")
        return meta["record"]

    def _release(self, key: str, failed: bool) -> None:
        """After a point of group ``key``: the held-back points start (after a failure, only the next one)."""
        held = self.waiting.get(key) or []
        start, self.waiting[key] = (held[:1], held[1:]) if failed else (held, [])
        for task in start:
            self._submit(task)

    def results(self) -> Iterator[tuple[PointTask, dict | BaseException]]:
        from ray.exceptions import RayError

        self._open_groups()
        while self.inflight:
            ready, _ = self.ray.wait(list(self.inflight), num_returns=1)
            task, refs = self.inflight.pop(ready[0])
            try:
                record = self._write(task, refs)
            except RayError as exc:
                cause = _unwrap(exc)
                logger.warning(f"point {task.id} failed: {type(cause).__name__}: {cause}")
                self._release(self._side(task), failed=True)
                yield task, cause
                continue
            self._release(self._side(task), failed=False)
            yield task, record
