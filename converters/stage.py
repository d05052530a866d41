"""The ``convert`` stage of ``edgekit run``: the teacher and every student → one bundle each.

Order 40, after the students (30): ``RUN/teacher`` → ``RUN/bundles/teacher`` and
``RUN/students/NAME`` → ``RUN/bundles/NAME``, all in the same modes and buckets, each parity-gated.
"""

from __future__ import annotations

from pathlib import Path

from ..pipeline import RunContext, RunSettings, stage


def _convert_fp(s: RunSettings) -> dict:
    from ..distill.stage import _students_fp

    return {**_students_fp(s), "modes": list(s.convert_modes), "buckets": list(s.convert_buckets),
            "calibration_samples": s.calibration_samples}


def models_to_convert(ctx: RunContext) -> list[tuple[str, Path]]:
    """``(name, model_dir)``: the teacher first, then the students the students stage wrote."""
    models = [("teacher", ctx.out / "teacher")]
    students = ctx.results.get("students", {}).get("models", {})
    models += [(name, Path(path)) for name, path in sorted(students.items())]
    return models


@stage("convert", "convert the teacher and the students to TFLite (bucketed signatures, parity-gated bundles)",
       _convert_fp, order=40)
def run_convert(ctx: RunContext) -> dict:
    from .convert import ConvertOptions, convert_model_dir

    s = ctx.settings
    # A mode whose conversion or parity gate fails is left out of that bundle (and named in the result and the
    # manifest's failed_modes) instead of stopping the whole run; `edgekit convert` fails instead.
    options = ConvertOptions(modes=list(s.convert_modes), buckets=list(s.convert_buckets),
                             calibration_samples=s.calibration_samples, overwrite=True, seed=s.seed,
                             on_gate_failure="drop")
    result: dict = {"bundles": {}}
    for name, model_dir in models_to_convert(ctx):
        out = ctx.out / "bundles" / name
        ctx.log(f"converting {name} ({model_dir}) → {out}")
        manifest = convert_model_dir(model_dir, out, ctx.splits(), options, log=ctx.log)
        result["bundles"][name] = str(out)
        key = name.replace("-", "_")
        for mode, e in manifest["modes"].items():
            result[f"{key}_{mode}_mb"] = round(e["bytes"] / 1e6, 2)
            result[f"{key}_{mode}_agreement"] = e["parity"]["argmax_agreement"]
        for mode, failed in manifest.get("failed_modes", {}).items():
            result[f"{key}_{mode}_failed_gate"] = failed["reason"]
    return result
