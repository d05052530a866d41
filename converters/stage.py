"""The ``convert`` stage of ``edgekit run``: the teacher → a bundle (order 40, after students at 30)."""

from __future__ import annotations

from ..pipeline import RunContext, RunSettings, _teacher_fp, stage


def _convert_fp(s: RunSettings) -> dict:
    return {**_teacher_fp(s), "modes": list(s.convert_modes), "buckets": list(s.convert_buckets),
            "calibration_samples": s.calibration_samples}


@stage("convert", "convert the teacher to TFLite (bucketed signatures, parity-gated bundle)", _convert_fp, order=40)
def run_convert(ctx: RunContext) -> dict:
    from .convert import ConvertOptions, convert_model_dir

    s = ctx.settings
    model_dir = ctx.out / "teacher"
    out = ctx.out / "bundles" / "teacher"
    options = ConvertOptions(modes=list(s.convert_modes), buckets=list(s.convert_buckets),
                             calibration_samples=s.calibration_samples, overwrite=True, seed=s.seed)
    manifest = convert_model_dir(model_dir, out, ctx.splits(), options, log=ctx.log)
    result: dict = {"bundle": str(out)}
    for mode, e in manifest["modes"].items():
        result[f"{mode}_mb"] = round(e["bytes"] / 1e6, 2)
        result[f"{mode}_agreement"] = e["parity"]["argmax_agreement"]
    return result
