"""Full-integer int8 from a recipe: ai-edge-quantizer rules applied to the fp32 file, one weight copy.

A recipe is data: a list of ai-edge-quantizer rules (``regex`` over tensor names, ``operation``,
``algorithm_key``, ``op_config``), later rules winning. The quantizer works on the multi-signature fp32
file, so every bucket's signature reads the same quantized weights (one copy, where the TF converter's
representative-dataset path keeps one per signature), and all buckets share one set of activation ranges
calibrated on real training sentences of every bucket.

Named recipes live beside this module in ``recipes/*.json`` (:func:`recipe_names`); ``edgekit convert
--recipe NAME|FILE`` takes one by name, a JSON file of rules, or a bundle (or its manifest) whose int8
entry recorded the recipe it was made with. The bundle records the rules it used in
``modes.int8.quantization.recipe``, so a conversion can be reproduced or hand-tuned without a search.
Why the default recipe keeps what it keeps float is measured in docs/toolchain.md (§ int8 recipes).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ..errors import EdgekitError
from .modes import Converted, ConvertJob

logger = logging.getLogger(__name__)

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
# what each named recipe (recipes/NAME.json) keeps float and what it buys, measured on the FPB teacher
# (docs/toolchain.md, int8 by recipe)
RECIPE_NOTES = {
    "int8_fc": "fully-connected layers int8, the attention and FFN outputs dynamic, the rest float "
               "(FPB teacher: 60.5 MB, test agreement 0.991)",
    "int8_small": "int8_fc + the int8 embedding table (FPB teacher: 25.3 MB, test agreement 0.986)",
}
RULE_KEYS = {"regex", "operation", "algorithm_key", "op_config"}


class RecipeError(EdgekitError):
    """A recipe that cannot be read or applied."""


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.json"))


def recipes_help() -> str:
    return "; ".join(f"{name}: {RECIPE_NOTES.get(name, '')}" for name in recipe_names())


def check_recipe(rules: Any, where: str) -> list[dict]:
    """The rules of a recipe after a shape check (one line naming ``where`` when they are not rules)."""
    if not isinstance(rules, list) or not rules:
        raise RecipeError(f"{where}: a recipe is a non-empty JSON list of rules")
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not {"regex", "operation", "algorithm_key"} <= set(rule):
            raise RecipeError(f"{where}: rule {i} needs regex, operation and algorithm_key")
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise RecipeError(f"{where}: rule {i} has unknown keys {sorted(unknown)}")
    return rules


def load_recipe(spec: str) -> tuple[str, list[dict]]:
    """``(name, rules)`` of a recipe given by name, JSON file, bundle folder or bundle manifest."""
    if spec in recipe_names():
        path = RECIPES_DIR / f"{spec}.json"
        return spec, check_recipe(json.loads(path.read_text(encoding="utf-8")), spec)
    path = Path(spec)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise RecipeError(f"--recipe {spec}: not a recipe name ({', '.join(recipe_names())}), file or bundle")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecipeError(f"--recipe {spec}: not JSON ({exc.__class__.__name__})") from None
    if isinstance(data, dict):  # a manifest: the recipe its int8 file was made with
        recorded = ((data.get("modes") or {}).get("int8") or {}).get("quantization", {}).get("recipe")
        if not isinstance(recorded, dict):
            raise RecipeError(f"--recipe {spec}: this manifest's int8 entry records no recipe")
        return str(recorded.get("name", path.parent.name)), check_recipe(recorded.get("rules"), spec)
    return path.stem, check_recipe(data, spec)


def quantize_with_recipe(float_model: bytes, rules: list[dict], samples: list[tuple[str, dict]],
                         threads: int = 2) -> tuple[bytes, dict]:
    """The int8 file of ``float_model`` under ``rules``, calibrated on ``samples`` ((signature, feeds) pairs
    of every bucket); returns it with facts for the manifest."""
    try:
        from ai_edge_quantizer import quantizer as aeq
    except ImportError:
        raise RecipeError("int8 by recipe needs ai-edge-quantizer (pip install 'edgekit[full]')") from None
    q = aeq.Quantizer(bytearray(float_model), rules)
    calibration = {}
    if q.need_calibration:
        by_signature: dict[str, list[dict]] = {}
        for signature, feeds in samples:
            by_signature.setdefault(signature, []).append(dict(feeds))
        try:
            calibration = q.calibrate(by_signature, num_threads=threads)
        except ValueError as exc:
            raise RecipeError(f"calibration failed: {str(exc).splitlines()[0]}") from None
        calibration = shared_ranges(float_model, calibration)
    try:
        result = q.quantize(calibration or None, enable_progress_report=False)
    except (ValueError, RuntimeError, KeyError) as exc:
        raise RecipeError(f"the recipe does not apply to this model: {str(exc).splitlines()[0]}") from None
    model = bytes(result.quantized_model)
    return model, {"engine": "ai-edge-quantizer", "calibration_signatures": sorted({s for s, _ in samples}),
                   "calibrated_tensors": len(calibration)}


# ops whose second input is a weight tensor whose quantized bias depends on the input's scale
WEIGHTED_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV")


def shared_ranges(float_model: bytes, qsvs: dict[str, dict]) -> dict[str, dict]:
    """One activation range per layer for every bucket's signature.

    The signatures of a bucketed file share each layer's weight and bias buffers, but their activation
    tensors have their own names, so calibration gives each signature its own input range, and an int32
    bias quantized with one signature's input scale would be wrong for the others (the quantizer then
    overwrites the shared bias buffer). The ranges of the tensors that enter each weighted op are
    therefore widened to their union over the signatures that share the op's weights (tensors shared by
    several such groups join them: one range for the connected set). Outputs need no shared range (no
    shared buffer depends on their scale) and keep their own: widening them too cost test agreement on
    the FPB teacher (0.9826 against 0.9884 for inputs only; docs/toolchain.md, int8 by recipe).
    """
    import numpy as np

    from .tflite_file import read_tflite

    info = read_tflite(float_model)
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def join(names: list[str]) -> None:
        for other in names[1:]:
            parent[find(other)] = find(names[0])

    ranged = {name for name, qsv in qsvs.items() if "min" in qsv and "max" in qsv}
    inputs_by_weights: dict[int, list[str]] = {}
    for sg in info.subgraphs:
        for op in sg.ops:
            if op.opcode not in WEIGHTED_OPS or len(op.inputs) < 2 or min(op.inputs[:2]) < 0:
                continue
            weights = sg.tensors[op.inputs[1]]
            if weights.is_constant:
                inputs_by_weights.setdefault(weights.buffer, []).append(sg.tensors[op.inputs[0]].name)
    for names in inputs_by_weights.values():
        join([n for n in names if n in ranged])
    members: dict[str, list[str]] = {}
    for name in parent:
        members.setdefault(find(name), []).append(name)
    out = dict(qsvs)
    for names in members.values():
        if len(names) < 2:
            continue
        low = np.minimum.reduce([np.asarray(qsvs[n]["min"]) for n in names])
        high = np.maximum.reduce([np.asarray(qsvs[n]["max"]) for n in names])
        for n in names:
            out[n] = {**qsvs[n], "min": low, "max": high}
    return out


def int8_by_recipe(float_model: bytes, job: ConvertJob) -> Converted:
    """The int8 mode's file when ``--recipe`` is given: ``float_model`` (the job's fp32 export) quantized by
    the recipe, calibrated on the job's samples; the manifest records the rules."""
    from .tflite_file import read_tflite

    name, rules = load_recipe(job.recipe)
    model, facts = quantize_with_recipe(float_model, rules, list(job.calibration.samples))
    info = read_tflite(model)
    return Converted(model, {**facts, "recipe": {"name": name, "rules": rules}, "float_ops": info.float_ops()})
