"""The ``convert`` stage of ``edgekit run``: the teacher and every student → one bundle each.

Needs the teacher and the students: ``RUN/teacher`` → ``RUN/bundles/teacher`` and ``RUN/students/NAME`` →
``RUN/bundles/NAME``, all in the same modes and buckets, each parity-gated.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from ..pipeline import ConvertSettings, StageContext, stage
from .convert import ConvertOptions, convert_model_dir

logger = logging.getLogger(__name__)


def convert_options(s: ConvertSettings) -> ConvertOptions:
    """The run's conversion options (checked when built: ``edgekit run`` builds them before any stage)."""
    # A mode whose conversion or parity gate fails is left out of that bundle (and named in the result and the
    # manifest's failed_modes) instead of stopping the whole run; `edgekit convert` fails instead.
    return ConvertOptions(modes=s.modes, buckets=s.buckets, calibration_samples=s.calibration_samples,
                          overwrite=True, seed=s.seed, on_gate_failure="drop", recipe=s.recipe)


def models_to_convert(inputs: Mapping[str, dict]) -> list[tuple[str, Path]]:
    """``(name, model_dir)``: the teacher first, then the students the students stage wrote."""
    models = [("teacher", Path(inputs["teacher"]["model_dir"]))]
    models += [(name, Path(path)) for name, path in sorted(inputs["students"]["models"].items())]
    return models


@stage("convert", "convert the teacher and the students to TFLite (bucketed signatures, parity-gated bundles)",
       needs=("data", "teacher", "students"), settings="convert")
def run_convert(ctx: StageContext) -> dict:
    options = convert_options(ctx.settings)
    result: dict = {"bundles": {}}
    for name, model_dir in models_to_convert(ctx.inputs):
        out = ctx.out / "bundles" / name
        logger.info(f"converting {name} ({model_dir}) → {out}")
        manifest = convert_model_dir(model_dir, out, ctx.splits(), options)
        result["bundles"][name] = str(out)
        key = name.replace("-", "_")
        for mode, e in manifest["modes"].items():
            result[f"{key}_{mode}_mb"] = round(e["bytes"] / 1e6, 2)
            result[f"{key}_{mode}_agreement"] = e["parity"]["argmax_agreement"]
        for mode, failed in manifest.get("failed_modes", {}).items():
            result[f"{key}_{mode}_failed_gate"] = failed["reason"]
    return result
