"""Benchmark measurements on the Ray node that owns each target: ``edgekit bench --executor ray[:ADDRESS]``.

A node declares the devices it hosts as Ray custom resources, one per target spec, capacity 1:
``edgekit-target:adb:SERIAL`` for a phone on its USB, ``edgekit-target:ssh://pi@10.0.0.7`` for a
board it reaches, ``edgekit-target:local@NAME`` for its own CPU (``--target local@NAME``: the
runner on the node that declares it). Each (bundle, mode, target, threads) measurement is a Ray
task asking for one unit of its target's resource and ``--ray-cpus-per-task`` CPUs, so it lands on
that node and shares the device with no other measurement (another run's included); within a run
the driver also keeps one measurement per target in flight, in plan order. ``local`` is the
driver's own machine: its rows, and the source model's Keras and ONNX Runtime rows, are tasks pinned
to the driver's node.

What travels (docs/ray.md): for a remote target, the bundle's manifest (narrowed to the one mode),
vocabulary, labels and that mode's model file, and the eval file, each put into the object store once
and written once per node (:mod:`.shipping`); back comes the result record, with the node's paths
replaced by the driver's and ``ray`` (node id and address) added. The driver appends each record to
the results file as it arrives, so resume works as in-process.

Before the first measurement every target is checked on its node (one line when a target fails its
check or no alive node offers it); a target whose node goes away during the run fails its remaining
measurements at once instead of waiting for a node that will not come back.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import replace
from pathlib import Path

from ..benchmarks.harness import BenchPlan, Measurer, Outcome, Planned
from ..errors import EdgekitError, first_line
from ..runtime.bundle import Bundle
from .session import OnSession, RaySession
from .shipping import Shipment, relocate

logger = logging.getLogger(__name__)

RESOURCE_PREFIX = "edgekit-target:"
LOCAL = "local"
NODE_LOCAL = "local@"  # local@NAME: the runner on the node that declares edgekit-target:local@NAME
WATCH_S = 2.0  # how often the driver looks for targets whose node went away


def resource(spec: str) -> str:
    """The custom resource a node declares to host target ``spec``."""
    return RESOURCE_PREFIX + spec


def driver_spec(spec: str) -> str:
    """The target driver a node runs for ``spec`` (``local@NAME`` → ``local``)."""
    return LOCAL if spec.startswith(NODE_LOCAL) else spec


def check_on_node(spec: str, target_options: dict) -> None:
    """A target's own check (device attached, login works, runtime present), on the node hosting it."""
    measurer = Measurer(target_options, Path("."))
    try:
        measurer.target(driver_spec(spec))
    finally:
        measurer.close()


def measure_on_node(p: Planned, target_options: dict, onnx_dir: str, bundle: Shipment | None,
                    data: Shipment | None) -> dict:
    """One planned measurement on this node; shipped files are written here first, and the record names the
    driver's paths, the target as planned and this node."""
    import ray

    job, mapping = p.job, {}
    if bundle is not None:
        folder = bundle.unpack("bundle")
        job, mapping[str(folder)] = replace(job, bundle=folder), str(p.job.bundle)
    if data is not None:
        (name,) = data.files
        path = data.unpack("data") / name
        job, mapping[str(path)] = replace(job, data=path), str(p.job.data)
    measurer = Measurer(target_options, Path(onnx_dir))
    try:
        record = measurer.measure(replace(p, target=driver_spec(p.target), job=job))
    finally:
        measurer.close()
    record = relocate(record, mapping)
    record["device"]["target"] = p.target
    record["ray"] = {"node_id": ray.get_runtime_context().get_node_id(), "node_ip": ray.util.get_node_ip_address()}
    return record


def _one_line(exc: BaseException, what: str) -> EdgekitError:
    """The error a task raised on its node (edgekit's own line as it is), or ``what`` and the first line of
    whatever else ended it (a node that died, a crash)."""
    from ray.exceptions import RayTaskError

    if isinstance(exc, RayTaskError) and isinstance(exc.cause, EdgekitError):
        return exc.cause
    cause = exc.cause if isinstance(exc, RayTaskError) and exc.cause is not None else exc
    return EdgekitError(f"{what}: {type(cause).__name__}: {first_line(cause, limit=200)}")


class RayBench(OnSession):
    """The matrix on the Ray cluster at ``address`` (None: a local Ray instance whose one node offers every
    target in ``targets``)."""

    name = "ray"

    def __init__(self, address: str | None, cpus_per_task: float = 1.0, targets: list[str] = ()) -> None:
        offered = {resource(s): 1.0 for s in targets if s != LOCAL}
        self.session = RaySession(address, resources=offered)
        self.cpus_per_task = cpus_per_task

    def run(self, plan: BenchPlan, todo: list[Planned], onnx_dir: Path, starting) -> Outcome:
        if not todo:
            return
        with RaySession(self.session.address, self.session.resources) as session:
            yield from _Matrix(session, plan, todo, onnx_dir, self.cpus_per_task).results()


class _Matrix:
    """One bench run on the cluster: a queue per target, its head in flight."""

    def __init__(self, session: RaySession, plan: BenchPlan, todo: list[Planned], onnx_dir: Path,
                 cpus: float) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.session, self.ray, self.plan, self.cpus = session, session.ray, plan, cpus
        self.onnx_dir = str(onnx_dir.resolve())
        self.queues: dict[str, deque[Planned]] = {}
        for p in todo:
            self.queues.setdefault(p.target, deque()).append(p)
        driver = NodeAffinitySchedulingStrategy(session.this_node(), soft=False)
        self.placement = {spec: ({"scheduling_strategy": driver} if spec == LOCAL else
                                 {"resources": {resource(spec): 1}}) for spec in self.queues}
        self.inflight: dict[object, Planned] = {}
        self.shipped: dict[tuple, object] = {}

    def _hosts(self) -> dict[str, list[str]]:
        """Per target, the alive nodes that can run its measurements."""
        nodes = self.session.node_resources()
        driver = self.session.this_node()
        enough = {n for n, r in nodes.items() if r.get("CPU", 0) >= self.cpus}
        return {spec: [n for n in enough if (n == driver if spec == LOCAL else resource(spec) in nodes[n])]
                for spec in self.queues}

    def _task(self, fn, spec: str):
        return self.ray.remote(fn).options(num_cpus=self.cpus, max_retries=0, **self.placement[spec])

    def _check_targets(self) -> None:
        for spec, nodes in self._hosts().items():
            if nodes:
                continue
            if spec == LOCAL:
                raise EdgekitError(f"target 'local' runs on the driver's Ray node, which has fewer than {self.cpus:g} "
                                   "CPU(s) for it (--ray-cpus-per-task)")
            raise EdgekitError(f"no Ray node offers target {spec!r} with {self.cpus:g} CPU(s): it needs a node started "
                               f"with --resources '{{\"{resource(spec)}\": 1}}'")
        checks = {self._task(check_on_node, spec).remote(spec, self.plan.target_options): spec
                  for spec, queue in self.queues.items() if any(p.kind == "tflite" for p in queue)}
        for ref, spec in checks.items():  # they run side by side; the first failure in plan order is the line
            try:
                self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:
                raise _one_line(exc, f"target {spec}") from None

    def _shipment(self, key: tuple, make) -> object:
        if key not in self.shipped:
            self.shipped[key] = self.ray.put(make())
        return self.shipped[key]

    def _submit_next(self, spec: str) -> None:
        queue = self.queues[spec]
        if not queue:
            return
        p = queue.popleft()
        bundle = data = None
        if spec != LOCAL:  # another node: the files go with the task
            bundle = self._shipment(("bundle", str(p.job.bundle), p.job.mode), lambda: _mode_files(p))
            if p.job.data is not None:
                data = self._shipment(("data", str(p.job.data)),
                                      lambda: Shipment.of({p.job.data.name: p.job.data.read_bytes()}))
        ref = self._task(measure_on_node, spec).remote(p, self.plan.target_options, self.onnx_dir, bundle, data)
        self.inflight[ref] = p

    def _lost(self) -> Outcome:
        """Targets whose every host went away: their measurement in flight is cancelled, and it and the rest
        of their queue fail."""
        hosts = self._hosts()
        for ref, p in list(self.inflight.items()):
            if not hosts[p.target]:
                self.ray.cancel(ref, force=True)
                del self.inflight[ref]
                for q in [p, *self.queues[p.target]]:
                    yield q, EdgekitError(f"{q.label}: no Ray node offers target {q.target!r} any more (its node "
                                          "left the cluster)")
                self.queues[p.target].clear()

    def results(self) -> Outcome:
        self._check_targets()
        for spec in self.queues:
            self._submit_next(spec)
        while self.inflight:
            ready, _ = self.ray.wait(list(self.inflight), num_returns=1, timeout=WATCH_S)
            for ref in ready:
                p = self.inflight.pop(ref)
                try:
                    record = self.ray.get(ref)
                except self.ray.exceptions.RayError as exc:
                    yield p, _one_line(exc, p.label)
                else:
                    logger.info(f"bench: {p.label} on {record['ray']['node_ip']}")
                    yield p, record
                self._submit_next(p.target)
            yield from self._lost()


def _mode_files(p: Planned) -> Shipment:
    """What a node needs of a bundle for one mode: the manifest narrowed to it, vocabulary, labels, its model."""
    import json

    from ..contracts import LABELS_NAME, MANIFEST_NAME

    bundle = Bundle.open(p.job.bundle)
    mode = bundle.mode_entry(p.job.mode)
    files = {MANIFEST_NAME: json.dumps(bundle.manifest_for([p.job.mode]), indent=2).encode()}
    for name in (str(bundle.manifest["tokenizer"]["vocab_file"]), LABELS_NAME, str(mode["file"])):
        if (bundle.path / name).is_file():
            files[name] = (bundle.path / name).read_bytes()
    return Shipment.of(files)
