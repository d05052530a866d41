"""Temperature × alpha sweeps: one distillation per grid point, resumable, summarised as JSON,
a Markdown table and a heat-map; the best point is chosen by validation macro-F1 (test F1 is
reported, never used for choosing).

```
OUT/
  data/                 the split every point trains on (saved once)
  points/T2_a0.5.json   one record per point (val/test macro-F1, accuracy, params, train time...)
  points/T2_a0.5/       the point's student model directory (unless models are not kept)
  sweep.json            every record + the best point
  sweep.md              the Markdown table
  heatmap.png           validation (and test) macro-F1 over T × alpha
```
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from ..data import Splits
from ..errors import EdgekitError
from ..fsutil import atomic_write_json, atomic_write_text
from .executor import Executor, InProcessExecutor, PointFn, PointTask, load_result, pending, run_point
from .job import DistillSettings

logger = logging.getLogger(__name__)


def point_id(temperature: float, alpha: float) -> str:
    return f"T{temperature:g}_a{alpha:g}"


def ensure_split(splits: Splits, out: Path) -> Path:
    """Save the split once under ``out/data``; refuse to mix a different split into an existing sweep."""
    data_dir = out / "data"
    if (data_dir / "split.json").is_file():
        saved = Splits.load(data_dir)
        if saved.info.get("sha256") != splits.info.get("sha256"):
            raise EdgekitError(f"{out} already holds a sweep on a different data split; use another --out")
        return data_dir
    splits.save(data_dir, overwrite=True)
    return data_dir


def grid_tasks(teacher_dir: str | Path, split_dir: Path, out: Path, base: DistillSettings,
               temperatures: list[float], alphas: list[float], keep_models: bool = True) -> list[PointTask]:
    tasks = []
    for T in temperatures:
        for a in alphas:
            pid = point_id(T, a)
            settings = replace(base, temperature=float(T), alpha=float(a), name=f"{base.name}-{pid}")
            tasks.append(PointTask(
                id=pid, teacher_dir=str(Path(teacher_dir).resolve()), split_dir=str(split_dir.resolve()),
                settings=settings.to_dict(), result_path=str(out / "points" / f"{pid}.json"),
                model_dir=str(out / "points" / pid) if keep_models else None,
                tags={"temperature": float(T), "alpha": float(a)}))
    return tasks


def run_tasks(tasks: list[PointTask], executor: Executor | None = None,
              point_fn: PointFn = run_point) -> tuple[list[dict], list[tuple[str, str]]]:
    """Run the unfinished tasks; return every finished record (in task order) and the failures."""
    todo = pending(tasks)
    if len(todo) < len(tasks):
        logger.info(f"resuming: {len(tasks) - len(todo)} of {len(tasks)} points already done")
    executor = executor or InProcessExecutor()
    failures = []
    for task, result in executor.run(point_fn, todo):
        if isinstance(result, BaseException):
            failures.append((task.id, f"{type(result).__name__}: {result}"))
        else:
            logger.info(f"point {task.id}: val macro-F1 {result['val_macro_f1']:.4f}  test macro-F1 "
                        f"{result['test_macro_f1']:.4f}  ({result['train_seconds']:.0f}s)")
    records = [r for r in (load_result(t) for t in tasks) if r is not None]
    return records, failures


def best_point(records: list[dict]) -> dict | None:
    """Highest validation macro-F1; ties go to higher validation accuracy, then the earlier point."""
    if not records:
        return None
    return max(enumerate(records), key=lambda ir: (ir[1]["val_macro_f1"], ir[1]["val_accuracy"], -ir[0]))[1]


def markdown_table(records: list[dict], title: str = "") -> str:
    best = best_point(records)
    teacher = records[0]["teacher_test_macro_f1"] if records else None
    lines = [f"### {title}" if title else "", ""] if title else []
    if teacher is not None:
        lines += [f"Teacher test macro-F1: {teacher:.4f}. Best point (by validation macro-F1) in bold.", ""]
    lines += ["| T | alpha | val macro-F1 | val acc | test macro-F1 | test acc | params | train s |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in records:
        b = "**" if r is best else ""
        lines.append(f"| {b}{r['temperature']:g}{b} | {b}{r['alpha']:g}{b} | {b}{r['val_macro_f1']:.4f}{b} | "
                     f"{r['val_accuracy']:.4f} | {r['test_macro_f1']:.4f} | {r['test_accuracy']:.4f} | "
                     f"{r['params']:,} | {r['train_seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def heatmap(records: list[dict], path: str | Path, title: str = "macro-F1 over T × alpha") -> Path:
    import numpy as np

    from ..plots import pyplot, save_png

    plt = pyplot()
    Ts = sorted({r["temperature"] for r in records})
    As = sorted({r["alpha"] for r in records})
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key, name in zip(axes, ("val_macro_f1", "test_macro_f1"), ("validation", "test")):
        grid = np.full((len(Ts), len(As)), np.nan)
        for r in records:
            grid[Ts.index(r["temperature"]), As.index(r["alpha"])] = r[key]
        im = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
        ax.set_xticks(range(len(As)), [f"{a:g}" for a in As])
        ax.set_yticks(range(len(Ts)), [f"{t:g}" for t in Ts])
        ax.set_xlabel("alpha (weight of the soft loss)")
        ax.set_ylabel("temperature T")
        ax.set_title(f"{name} macro-F1")
        for i in range(len(Ts)):
            for j in range(len(As)):
                if not np.isnan(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", color="w", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)


def run_sweep(
    teacher_dir: str | Path,
    splits: Splits,
    out: str | Path,
    base: DistillSettings,
    temperatures: list[float] | None = None,
    alphas: list[float] | None = None,
    executor: Executor | None = None,
    point_fn: PointFn = run_point,
    keep_models: bool = True,
) -> dict:
    """Run (or resume) a T × alpha sweep; write sweep.json, sweep.md and heatmap.png under ``out``."""
    from ..models.registry import get_family
    from ..provenance import stamp
    from .students import parse_student

    out = Path(out)
    grid = get_family(parse_student(base.student).family).sweep_grid
    temperatures = list(temperatures or grid["temperature"])
    alphas = list(alphas or grid["alpha"])
    split_dir = ensure_split(splits, out)
    tasks = grid_tasks(teacher_dir, split_dir, out, base, temperatures, alphas, keep_models)
    records, failures = run_tasks(tasks, executor, point_fn)
    best = best_point(records)
    summary = {
        "kind": "edgekit-distill-sweep",
        "teacher": str(teacher_dir), "student": base.student, "loss": base.loss,
        "grid": {"temperature": temperatures, "alpha": alphas},
        "points": records, "best": best, "failures": failures,
        "complete": len(records) == len(tasks), "settings": base.to_dict(), **stamp(),
    }
    atomic_write_json(out / "sweep.json", summary)
    if records:
        title = f"{base.student}, loss {base.loss}"
        atomic_write_text(out / "sweep.md", markdown_table(records, title))
        heatmap(records, out / "heatmap.png", title=f"{title}: macro-F1 over T × alpha")
    return summary

