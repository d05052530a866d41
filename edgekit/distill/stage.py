"""The ``students`` stage of ``edgekit run``: one BiLSTM and one shallow BERT distilled from the teacher.

Writes ``RUN/students/<name>/`` model directories (converted by the next stage like the teacher) and
reports each student's validation/test macro-F1, parameters and training time. Reused when neither
the teacher's nor the students' settings changed.
"""

from __future__ import annotations

import re

from ..pipeline import RunContext, RunSettings, _teacher_fp, stage

# Student spec → loss recipe used by the run (hidden-state matching only where widths agree).
RUN_LOSSES = {"bilstm": "hard,kl", "bert": "hard,kl,hidden_mse"}


def student_name(spec: str) -> str:
    """``bert:layers=2,strategy=skip`` → ``bert-layers2-skip`` (a folder name)."""
    return re.sub(r"[^a-z0-9]+", "-", spec.lower().replace("layers=", "layers").replace("strategy=", "")).strip("-")


def _students_fp(s: RunSettings) -> dict:
    return {**_teacher_fp(s), "students": list(s.students), "temperature": s.distill_temperature,
            "alpha": s.distill_alpha, "epochs": s.student_epochs,
            "stage_version": 4}  # 4: BiLSTM embedding from the teacher's per-token context


@stage("students", "distill the students (BiLSTM, shallow BERT)", _students_fp, order=30)
def run_students(ctx: RunContext) -> dict:
    from .job import DistillSettings, distill, train_config_for
    from .students import parse_student

    s = ctx.settings
    teacher_dir = ctx.results.get("teacher", {}).get("model_dir") or str(ctx.out / "teacher")
    result: dict = {"models": {}}
    for spec in s.students:
        family = parse_student(spec).family
        name = student_name(spec)
        settings = DistillSettings(
            student=spec, loss=RUN_LOSSES[family], temperature=s.distill_temperature, alpha=s.distill_alpha,
            train=train_config_for(family, epochs=s.student_epochs or None, seed=s.seed),
            cache_dir=str(ctx.out / "cache" / "teacher-outputs"), name=name)
        r = distill(teacher_dir, ctx.splits(), ctx.out / "students" / name, settings, log=ctx.log)
        summary = r.summary()
        result["models"][name] = str(r.model_dir)
        key = name.replace("-", "_")
        result[f"{key}_test_macro_f1"] = summary["test_macro_f1"]
        result[f"{key}_params"] = summary["params"]
        result[f"{key}_train_seconds"] = summary["train_seconds"]
    return result
