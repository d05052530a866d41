"""The ``students`` stage of ``edgekit run``: one BiLSTM and one shallow BERT distilled from the teacher.

Writes ``RUN/students/<name>/`` model directories (converted by the next stage like the teacher) and
reports each student's validation/test macro-F1, parameters and training time. Reused when neither
the teacher's nor the students' settings changed.
"""

from __future__ import annotations

import re

from ..pipeline import StageContext, StudentsSettings, stage


def student_name(spec: str) -> str:
    """``bert:layers=2,strategy=skip`` → ``bert-layers2-skip`` (a folder name)."""
    return re.sub(r"[^a-z0-9]+", "-", spec.lower().replace("layers=", "layers").replace("strategy=", "")).strip("-")


# version 4: BiLSTM embedding from the teacher's per-token context
@stage("students", "distill the students (BiLSTM, shallow BERT)", needs=("data", "teacher"), settings="students",
       version=4)
def run_students(ctx: StageContext) -> dict:
    from .job import DistillSettings, distill, train_config_for
    from ..models.registry import get_family
    from .students import parse_student

    s: StudentsSettings = ctx.settings
    teacher_dir = ctx.inputs["teacher"]["model_dir"]
    result: dict = {"models": {}}
    for spec in s.specs:
        family = parse_student(spec).family
        name = student_name(spec)
        settings = DistillSettings(
            student=spec, loss=get_family(family).run_loss, temperature=s.temperature, alpha=s.alpha,
            train=train_config_for(family, epochs=s.epochs or None, seed=s.seed),
            cache_dir=str(ctx.out / "cache" / "teacher-outputs"), name=name)
        r = distill(teacher_dir, ctx.splits(), ctx.out / "students" / name, settings)
        summary = r.summary()
        result["models"][name] = str(r.model_dir)
        key = name.replace("-", "_")
        result[f"{key}_test_macro_f1"] = summary["test_macro_f1"]
        result[f"{key}_params"] = summary["params"]
        result[f"{key}_train_seconds"] = summary["train_seconds"]
    return result
