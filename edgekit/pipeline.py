"""``edgekit run``: the whole job as a list of stages, each reused when its inputs have not changed.

A stage writes its outputs under the run folder and, when it finishes, a marker
``.stages/NAME.json`` with its settings fingerprint and summary. A later run with the same
settings reuses the stage; changed settings (or ``--fresh``) run it again.

Stages register with :func:`stage` and an ``order`` (data 10, teacher 20, students 30, convert 40,
bench 50, report 60); the modules in :data:`STAGE_MODULES` are imported to collect them, so a room
adds its stage in its own module and one line here.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .fsutil import atomic_write_json


@dataclass
class RunSettings:
    out: Path = Path("edgekit-run")
    data: str | None = None  # None: the embedded default dataset
    data_format: str = "auto"
    backbone: str = "default"
    teacher_epochs: int = 3
    teacher_lr: float = 5e-5
    max_length: int = 64
    batch_size: int = 32
    seed: int = 42
    fresh: bool = False
    # students (stage "students", edgekit/distill/stage.py)
    students: tuple[str, ...] = ("bilstm", "bert:layers=2,strategy=skip")
    student_epochs: int = 0  # 0: the family's default (bilstm 15, bert 6; early stopping on validation)
    distill_temperature: float = 2.0
    distill_alpha: float = 0.5  # weight of the soft loss (edgekit.distill.losses)
    # conversion of the teacher (stage "convert", converters/stage.py)
    convert_modes: tuple[str, ...] = ("fp32", "dynamic_int8", "int8")
    convert_buckets: tuple[int, ...] = (16, 32, 64, 128)
    calibration_samples: int = 200
    # benchmarks (stages "bench" and "report", benchmarks/stages.py)
    arm: bool = False  # add the emulated arm64 target (qemu user-mode)
    arm_cpu: str = "cortex-a72"
    arm_limit: int = 100  # test sentences measured on the emulated target (~500x slower)
    bench_threads: tuple[int, ...] = (1,)


@dataclass
class RunContext:
    settings: RunSettings
    log: Callable[[str], None] = print
    results: dict[str, dict] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # in-memory objects shared between stages

    @property
    def out(self) -> Path:
        return Path(self.settings.out)

    def splits(self):
        if "splits" not in self.cache:
            from .data import Splits

            self.cache["splits"] = Splits.load(self.out / "data")
        return self.cache["splits"]


@dataclass
class Stage:
    name: str
    title: str
    run: Callable[[RunContext], dict]
    fingerprint: Callable[[RunSettings], dict]
    order: int


STAGES: dict[str, Stage] = {}

# Modules whose import registers more stages (students, conversion, benchmarks, report).
STAGE_MODULES: tuple[str, ...] = ("edgekit.distill.stage", "edgekit.converters.stage", "edgekit.benchmarks.stages")


def stage(name: str, title: str, fingerprint: Callable[[RunSettings], dict], order: int):
    def deco(fn: Callable[[RunContext], dict]) -> Callable[[RunContext], dict]:
        STAGES[name] = Stage(name, title, fn, fingerprint, order)
        return fn

    return deco


def ordered_stages() -> list[Stage]:
    import importlib

    for module in STAGE_MODULES:
        importlib.import_module(module)
    return sorted(STAGES.values(), key=lambda st: st.order)


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------- stages
def _data_fp(s: RunSettings) -> dict:
    return {"data": s.data, "format": s.data_format, "seed": s.seed}


@stage("data", "load, deduplicate and split the data", _data_fp, order=10)
def run_data(ctx: RunContext) -> dict:
    from .data import load_dataset, split_dataset
    from .data.default import load_default

    s = ctx.settings
    ds = load_default() if s.data is None else load_dataset(s.data, format=s.data_format)
    splits = split_dataset(ds, seed=s.seed)
    splits.save(ctx.out / "data", overwrite=True)
    ctx.cache["splits"] = splits
    return {"dataset": ds.name, "counts": splits.info["counts"], "sha256": splits.info["sha256"]}


def _teacher_fp(s: RunSettings) -> dict:
    return {**_data_fp(s), "backbone": s.backbone, "epochs": s.teacher_epochs, "lr": s.teacher_lr,
            "max_length": s.max_length, "batch_size": s.batch_size}


@stage("teacher", "fine-tune the BERT teacher", _teacher_fp, order=20)
def run_teacher(ctx: RunContext) -> dict:
    from .train.loop import TrainConfig
    from .train.teacher import train_teacher

    s = ctx.settings
    config = TrainConfig(epochs=s.teacher_epochs, learning_rate=s.teacher_lr, max_length=s.max_length,
                         batch_size=s.batch_size, seed=s.seed)
    result = train_teacher(ctx.splits(), ctx.out / "teacher", backbone=s.backbone, config=config, log=ctx.log)
    t = result.metrics["test"]
    return {"model_dir": str(result.model_dir), "test_macro_f1": t["macro_f1"], "test_accuracy": t["accuracy"],
            "best_epoch": result.metrics["history"]["best_epoch"],
            "train_seconds": result.metrics["history"]["train_seconds"]}


# ---------------------------------------------------------------------------------------- driver
def run_pipeline(settings: RunSettings, log: Callable[[str], None] = print,
                 only: list[str] | None = None) -> dict:
    ctx = RunContext(settings, log=log)
    ctx.out.mkdir(parents=True, exist_ok=True)
    markers = ctx.out / ".stages"
    summary: dict[str, Any] = {"out": str(ctx.out), "stages": {}}
    stages = [st for st in ordered_stages() if only is None or st.name in only]
    for i, st in enumerate(stages, start=1):
        fp = _hash(st.fingerprint(settings))
        marker = markers / f"{st.name}.json"
        prefix = f"[{i}/{len(stages)}] {st.name}"
        if marker.is_file() and not settings.fresh:
            saved = json.loads(marker.read_text())
            if saved.get("fingerprint") == fp:
                log(f"{prefix}: reused ({st.title}; finished earlier, settings unchanged)")
                ctx.results[st.name] = saved["result"]
                summary["stages"][st.name] = {**saved["result"], "reused": True}
                continue
        log(f"{prefix}: {st.title} …")
        t0 = time.perf_counter()
        result = st.run(ctx)
        seconds = round(time.perf_counter() - t0, 1)
        ctx.results[st.name] = result
        atomic_write_json(marker, {"fingerprint": fp, "seconds": seconds, "result": result})
        summary["stages"][st.name] = {**result, "seconds": seconds, "reused": False}
        log(f"{prefix}: done in {seconds:.0f}s")
    atomic_write_json(ctx.out / "run.json", summary)
    return summary
