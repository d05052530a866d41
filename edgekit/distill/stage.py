"""The ``students`` stage of ``edgekit run``: a BiLSTM and a shallow BERT distilled from the teacher, and the
teacher pruned (``pruned:...``, :mod:`edgekit.prune.student`).

Writes ``RUN/students/<name>/`` model directories (converted by the next stage like the teacher) and
reports each student's test macro-F1, parameters and training time. A spec's prefix picks its kind
(:data:`STUDENT_KINDS`; a model family's name otherwise). Reused when neither the teacher's nor the
students' settings changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import EdgekitError
from ..pipeline import StageContext, StudentsSettings, stage


def student_name(spec: str) -> str:
    """``bert:layers=2,strategy=skip`` → ``bert-layers2-skip`` (a folder name); a pruned student names its shape."""
    return _kind(spec).name(spec)


def _distilled_name(spec: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", spec.lower().replace("layers=", "layers").replace("strategy=", "")).strip("-")


def _check_distilled(spec: str) -> None:
    from .students import parse_student

    parse_student(spec)


def _make_distilled(spec: str, ctx: StageContext, teacher_dir: str, out: Path) -> dict:
    from ..models.registry import get_family
    from .job import DistillSettings, distill, train_config_for
    from .students import parse_student

    s: StudentsSettings = ctx.settings
    family = parse_student(spec).family
    settings = DistillSettings(
        student=spec, loss=get_family(family).run_loss, temperature=s.temperature, alpha=s.alpha,
        train=train_config_for(family, epochs=s.epochs or None, seed=s.seed),
        cache_dir=str(ctx.out / "cache" / "teacher-outputs"), name=out.name)
    return distill(teacher_dir, ctx.splits(), out, settings).summary()


def _check_pruned(spec: str) -> None:
    from ..prune.student import parse_pruned

    parse_pruned(spec)


def _pruned_name(spec: str) -> str:
    from ..prune.student import parse_pruned

    return parse_pruned(spec).name


def _make_pruned(spec: str, ctx: StageContext, teacher_dir: str, out: Path) -> dict:
    from ..prune.student import make_pruned, parse_pruned

    s: StudentsSettings = ctx.settings
    return make_pruned(parse_pruned(spec), teacher_dir, ctx.splits(), out,
                       cache_dir=str(ctx.out / "cache" / "teacher-outputs"), seed=s.seed, temperature=s.temperature,
                       alpha=s.alpha)


@dataclass(frozen=True)
class StudentKind:
    """How a spec becomes a student model directory: checked (one line), named (its folder), made."""

    check: Callable[[str], None]
    name: Callable[[str], str]
    make: Callable[[str, StageContext, str, Path], dict]  # → summary with test_macro_f1, params, train_seconds


# spec prefix → kind; any other prefix is a model family's student, distilled (edgekit.distill.students)
STUDENT_KINDS: dict[str, StudentKind] = {"pruned": StudentKind(_check_pruned, _pruned_name, _make_pruned)}
DISTILLED = StudentKind(_check_distilled, _distilled_name, _make_distilled)


def _kind(spec: str) -> StudentKind:
    return STUDENT_KINDS.get(spec.strip().partition(":")[0].strip().lower(), DISTILLED)


def check_students(specs) -> None:
    """Every spec readable and the folder names distinct: one line before any stage runs."""
    names: dict[str, str] = {}
    for spec in specs:
        _kind(spec).check(spec)
        name = student_name(spec)
        if name in names:
            raise EdgekitError(f"students {names[name]!r} and {spec!r} would share the folder {name!r}")
        names[name] = spec


# version 5: pruned students (STUDENT_KINDS)
@stage("students", "distill the students (BiLSTM, shallow BERT, pruned teacher)", needs=("data", "teacher"),
       settings="students", version=5)
def run_students(ctx: StageContext) -> dict:
    s: StudentsSettings = ctx.settings
    check_students(s.specs)
    teacher_dir = ctx.inputs["teacher"]["model_dir"]
    result: dict = {"models": {}}
    for spec in s.specs:
        name = student_name(spec)
        summary = _kind(spec).make(spec, ctx, teacher_dir, ctx.out / "students" / name)
        result["models"][name] = summary["model_dir"]
        key = name.replace("-", "_")
        result[f"{key}_test_macro_f1"] = summary["test_macro_f1"]
        result[f"{key}_params"] = summary["params"]
        result[f"{key}_train_seconds"] = summary["train_seconds"]
    return result
