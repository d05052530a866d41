"""``edgekit run``: the whole job as stages that declare what they consume, each reused while its inputs hold.

A stage names the stages it needs (``needs=("teacher",)``) and the :class:`RunSettings` field it reads
(``settings="students"``). The driver orders the stages from those declarations, and a stage's
fingerprint is its own settings plus the fingerprints of the stages it needs, so a changed teacher
setting runs the teacher and everything downstream of it again, and nothing else. A stage's run gets a
:class:`StageContext`: its own settings and the results of the stages it declared, nothing more.

A finished stage writes ``.stages/NAME.json`` (fingerprint, seconds, result) under the run folder; a
later run with the same fingerprint reuses it, ``--fresh`` runs every stage again. Stages register with
:func:`stage`; the modules in :data:`STAGE_MODULES` are imported to collect them, so a room adds its
stage in its own module and one line here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .benchmarks.targets.arm64 import DEFAULT_CPU
from .errors import EdgekitError
from .fsutil import atomic_write_json
from .runtime.buckets import DEFAULT_BUCKETS

logger = logging.getLogger(__name__)


class PipelineError(EdgekitError):
    """Stages that cannot be ordered (an unknown need, a cycle) or inputs a selected stage lacks."""


# -------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class DataSettings:
    path: str | None = None  # None: the embedded default dataset
    format: str = "auto"
    seed: int = 42
    encoding: str | None = None  # None: the format's default (latin-1 for FPB, utf-8 otherwise)


@dataclass(frozen=True)
class TeacherSettings:
    model: str | None = None  # None: fine-tune ``backbone``; else import (or copy) this model, no training
    backbone: str = "default"
    epochs: int = 3
    lr: float = 5e-5
    max_length: int = 64
    batch_size: int = 32
    seed: int = 42


@dataclass(frozen=True)
class StudentsSettings:
    specs: tuple[str, ...] = ("bilstm", "bert:layers=2,strategy=skip", "pruned:layers=4,heads=8,ffn=768")
    epochs: int = 0  # 0: the family's default (early stopping on validation)
    temperature: float = 2.0
    alpha: float = 0.5  # weight of the soft loss (edgekit.distill.losses)
    seed: int = 42


@dataclass(frozen=True)
class ConvertSettings:
    modes: tuple[str, ...] = ("fp32", "dynamic_int8", "int8")
    buckets: tuple[int, ...] = DEFAULT_BUCKETS
    calibration_samples: int = 200
    seed: int = 42
    # int8 by each family's recipe where it has one (BERT: int8_dyn_rows, one weight copy; the BiLSTM keeps the
    # TF converter's int8); see converters/recipes.py
    recipe: str | None = "family"


@dataclass(frozen=True)
class BenchSettings:
    arm: bool = False  # add the emulated arm64 target (qemu user-mode)
    arm_cpu: str = DEFAULT_CPU
    arm_limit: int = 100  # test sentences measured on the emulated target (~500x slower)
    threads: tuple[int, ...] = (1,)


@dataclass(frozen=True)
class RunSettings:
    """Everything ``edgekit run`` was asked for: one settings object per stage, built once at the CLI."""

    out: Path = Path("edgekit-run")
    fresh: bool = False  # run every stage again instead of reusing finished ones
    data: DataSettings = field(default_factory=DataSettings)
    teacher: TeacherSettings = field(default_factory=TeacherSettings)
    students: StudentsSettings = field(default_factory=StudentsSettings)
    convert: ConvertSettings = field(default_factory=ConvertSettings)
    bench: BenchSettings = field(default_factory=BenchSettings)


# ---------------------------------------------------------------------------------------- stages
@dataclass(frozen=True)
class StageContext:
    """What a stage's run gets: the run folder, its own settings and the results of the stages it needs."""

    out: Path
    settings: Any  # the stage's own settings object (None for a stage without settings)
    inputs: Mapping[str, dict]  # result of every stage named in ``needs``
    shared: dict[str, Any] = field(default_factory=dict)  # in-memory objects shared by the stages of one run

    def splits(self):
        """The data stage's split (the stage must need ``data``), loaded once per run."""
        if "data" not in self.inputs:
            raise PipelineError("a stage that reads the split must declare needs=('data', ...)")
        split_dir = self.inputs["data"]["split_dir"]
        if self.shared.get("split_dir") != split_dir:
            from .data import Splits

            self.shared.update(split_dir=split_dir, splits=Splits.load(split_dir))
        return self.shared["splits"]


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    run: Callable[[StageContext], dict]
    needs: tuple[str, ...] = ()  # stages whose results this one reads (and whose fingerprints it includes)
    settings: str | None = None  # the RunSettings field this stage reads
    version: int = 1  # raise when the stage's outputs change for the same settings
    # what the stage reads from outside the run besides its settings (e.g. a data file's content hash),
    # as facts that go into its fingerprint: changed input files re-run it
    inputs: Callable[[Any], dict] | None = None


STAGES: dict[str, Stage] = {}

# Modules whose import registers more stages (students, conversion, benchmarks, report).
STAGE_MODULES: tuple[str, ...] = ("edgekit.distill.stage", "edgekit.converters.stage", "edgekit.benchmarks.stages")


def stage(name: str, title: str, *, needs: tuple[str, ...] = (), settings: str | None = None, version: int = 1,
          inputs: Callable[[Any], dict] | None = None):
    """Register the decorated ``run(ctx) -> result`` as the stage ``name`` in :data:`STAGES`."""

    def deco(fn: Callable[[StageContext], dict]) -> Callable[[StageContext], dict]:
        STAGES[name] = Stage(name, title, fn, tuple(needs), settings, version, inputs)
        return fn

    return deco


def registered_stages() -> list[Stage]:
    for module in STAGE_MODULES:
        importlib.import_module(module)
    return list(STAGES.values())


def ordered(stages: Iterable[Stage]) -> list[Stage]:
    """The stages in an order where each comes after every stage it needs (ties: the order given)."""
    by_name = {st.name: st for st in stages}
    for st in by_name.values():
        unknown = [n for n in st.needs if n not in by_name]
        if unknown:
            raise PipelineError(f"stage {st.name!r} needs {', '.join(map(repr, unknown))}, which is not a stage "
                                f"(known: {', '.join(by_name)})")
    done: dict[str, Stage] = {}
    while len(done) < len(by_name):
        ready = [st for st in by_name.values() if st.name not in done and all(n in done for n in st.needs)]
        if not ready:
            raise PipelineError(f"the stages {', '.join(_cycle(by_name, done))} need each other in a cycle")
        done[ready[0].name] = ready[0]
    return list(done.values())


def _cycle(by_name: dict[str, Stage], done: dict[str, Stage]) -> list[str]:
    """The stages left unordered, less those that only wait downstream of the cycle."""
    stuck = {name: st for name, st in by_name.items() if name not in done}
    while True:
        needed = {n for st in stuck.values() for n in st.needs}
        downstream = [name for name in stuck if name not in needed]
        if not downstream:
            return list(stuck)
        for name in downstream:
            del stuck[name]


def own_settings(st: Stage, settings: RunSettings) -> Any:
    if st.settings is None:
        return None
    if not hasattr(settings, st.settings):
        raise PipelineError(f"stage {st.name!r} reads settings {st.settings!r}, which RunSettings does not have")
    return getattr(settings, st.settings)


def fingerprints(settings: RunSettings, stages: Iterable[Stage]) -> dict[str, str]:
    """Stage name → hash of its own settings, its version and the fingerprints of the stages it needs."""
    out: dict[str, str] = {}
    for st in ordered(stages):
        own = own_settings(st, settings)
        out[st.name] = _hash({"settings": dataclasses.asdict(own) if own is not None else None,
                              "inputs": st.inputs(own) if st.inputs is not None else None,
                              "version": st.version, "needs": {n: out[n] for n in st.needs}})
    return out


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------ data and teacher
def _data_inputs(s: DataSettings) -> dict:
    """The data file's content (the embedded default's or the user's file): a changed file re-splits."""
    from .data.default import resource_path
    from .fsutil import sha256_file

    path = resource_path() if s.path is None else Path(s.path)
    return {"sha256": sha256_file(path) if path.is_file() else None}


@stage("data", "load, deduplicate and split the data", settings="data", inputs=_data_inputs)
def run_data(ctx: StageContext) -> dict:
    from .data import load_dataset, split_dataset
    from .data.default import load_default

    s: DataSettings = ctx.settings
    ds = load_default() if s.path is None else load_dataset(s.path, format=s.format, encoding=s.encoding)
    splits = split_dataset(ds, seed=s.seed)
    split_dir = ctx.out / "data"
    splits.save(split_dir, overwrite=True)
    ctx.shared.update(split_dir=str(split_dir), splits=splits)
    return {"split_dir": str(split_dir), "dataset": ds.name, "counts": splits.info["counts"],
            "sha256": splits.info["sha256"]}


def _teacher_inputs(s: TeacherSettings) -> dict:
    """A given model's weights (``--model``): changed weights re-run the teacher and everything after it."""
    from .train.given import source_facts

    return {} if s.model is None else source_facts(s.model)


@stage("teacher", "fine-tune the BERT teacher (or import the --model given)", needs=("data",), settings="teacher",
       inputs=_teacher_inputs)
def run_teacher(ctx: StageContext) -> dict:
    from .train.loop import TrainConfig
    from .train.teacher import train_teacher

    s: TeacherSettings = ctx.settings
    if s.model is not None:
        from .train.given import adopt_teacher

        t = adopt_teacher(s.model, ctx.splits(), ctx.out / "teacher", max_length=s.max_length)["test"]
        return {"model_dir": str(ctx.out / "teacher"), "source_model": s.model, "test_macro_f1": t["macro_f1"],
                "test_accuracy": t["accuracy"]}
    config = TrainConfig(epochs=s.epochs, learning_rate=s.lr, max_length=s.max_length, batch_size=s.batch_size,
                         seed=s.seed)
    result = train_teacher(ctx.splits(), ctx.out / "teacher", backbone=s.backbone, config=config)
    t = result.metrics["test"]
    return {"model_dir": str(result.model_dir), "test_macro_f1": t["macro_f1"], "test_accuracy": t["accuracy"],
            "best_epoch": result.metrics["history"]["best_epoch"],
            "train_seconds": result.metrics["history"]["train_seconds"]}


# ---------------------------------------------------------------------------------------- driver
def run_pipeline(settings: RunSettings, only: Iterable[str] | None = None,
                 stages: Iterable[Stage] | None = None) -> dict:
    """Run ``stages`` (default: every registered stage) in dependency order; returns the run summary.

    ``only`` runs just the named stages; a stage it leaves out that a selected stage needs must have
    finished earlier with the same fingerprint (its recorded result is used).
    """
    plan = ordered(registered_stages() if stages is None else stages)
    fps = fingerprints(settings, plan)
    selected = set(fps) if only is None else set(only)
    unknown = selected - set(fps)
    if unknown:
        raise PipelineError(f"unknown stage(s) {', '.join(sorted(unknown))}; known: {', '.join(fps)}")
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    markers = out / ".stages"
    results: dict[str, dict] = {}
    shared: dict[str, Any] = {}
    summary: dict[str, Any] = {"out": str(out), "stages": {}}
    todo = [st for st in plan if st.name in selected]
    for st in plan:
        if st.name not in selected and any(st.name in other.needs for other in todo):
            results[st.name] = _finished_result(markers, st, fps[st.name], todo)
    for i, st in enumerate(todo, start=1):
        prefix = f"[{i}/{len(todo)}] {st.name}"
        saved = _marker(markers, st.name)
        if saved is not None and saved.get("fingerprint") == fps[st.name] and not settings.fresh:
            logger.info(f"{prefix}: reused ({st.title}; finished earlier, settings unchanged)")
            results[st.name] = saved["result"]
            summary["stages"][st.name] = {**saved["result"], "reused": True}
            continue
        logger.info(f"{prefix}: {st.title} …")
        ctx = StageContext(out=out, settings=own_settings(st, settings), inputs={n: results[n] for n in st.needs},
                           shared=shared)
        t0 = time.perf_counter()
        result = st.run(ctx)
        seconds = round(time.perf_counter() - t0, 1)
        results[st.name] = result
        atomic_write_json(markers / f"{st.name}.json", {"fingerprint": fps[st.name], "seconds": seconds,
                                                          "result": result})
        summary["stages"][st.name] = {**result, "seconds": seconds, "reused": False}
        logger.info(f"{prefix}: done in {seconds:.0f}s")
    atomic_write_json(out / "run.json", summary)
    return summary


def _marker(markers: Path, name: str) -> dict | None:
    path = markers / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _finished_result(markers: Path, st: Stage, fingerprint: str, todo: list[Stage]) -> dict:
    saved = _marker(markers, st.name)
    if saved is None or saved.get("fingerprint") != fingerprint:
        users = ", ".join(other.name for other in todo if st.name in other.needs)
        raise PipelineError(f"stage {users} needs {st.name!r}, which has not finished with these settings in "
                            f"{markers.parent}; run it too")
    return saved["result"]
