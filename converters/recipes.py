"""Full-integer int8 from a recipe: ai-edge-quantizer rules applied to the fp32 file, one weight copy.

A recipe is data (:class:`Recipe`), a JSON list of ai-edge-quantizer rules (``regex`` over tensor names,
``operation``, ``algorithm_key``, ``op_config``; later rules win) or an object that adds how activations
are prepared and ranged::

    {"rules": [...],
     "smooth": {"alpha": 0.5, "layers": "(query|key|value|feedforward_intermediate_dense)"},
     "ranges": "minmax"}

* ``smooth`` (optional): SmoothQuant on the float file first (:mod:`.smooth`): the inputs of the
  fully-connected layers whose names match ``layers`` are divided per channel, their weights multiplied.
* ``ranges``: how each activation's int8 range is chosen from the calibration sentences (:mod:`.ranges`:
  ``minmax``, ``mse``, ``percentile:P``), or ``quantizer`` (ai-edge-quantizer's own moving-average
  calibration; what a list-only recipe gets).
* ``per_row_tables`` (optional, false): lookup tables the rules leave float (``GATHER`` ``no_quantize``) are
  stored as int8 rows with a scale each after quantizing (:mod:`.row_tables`).
* ``bias_correction`` (optional, false): each static int8 layer's mean output error on the calibration
  sentences is taken out of its bias, last (:mod:`.bias_correction`).

The quantizer works on the multi-signature fp32 file, so every bucket's signature reads the same quantized
weights (one copy, where the TF converter's representative-dataset path keeps one per signature), and
all buckets share one set of activation ranges calibrated on real training sentences of every bucket.

Named recipes live beside this module in ``recipes/*.json`` (:func:`recipe_names`); ``edgekit convert
--recipe NAME|FILE`` takes one by name, a JSON file, or a bundle (or its manifest) whose int8 entry
recorded the recipe it was made with. The bundle records the whole recipe in
``modes.int8.quantization.recipe``, so a conversion can be reproduced or hand-tuned without a search.
Why the named recipes keep what they keep float is measured in docs/toolchain.md (§ int8 recipes).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EdgekitError
from .modes import Converted, ConvertJob
from .ranges import RANGE_METHODS, RangeError, calibration_ranges, observe, range_method
from .smooth import smooth

logger = logging.getLogger(__name__)

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
# what each named recipe (recipes/NAME.json) keeps float and what it buys, measured on the FPB teacher
# (docs/toolchain.md, int8 by recipe)
RECIPE_NOTES = {
    "int8_fc": "smoothed, min/max-ranged static int8 query/key/value, pooler and logits, dynamic int8 "
               "attention output and FFN, float embedding table (FPB teacher: 60.0 MB, test agreement "
               "0.994 +- 0.004)",
    "int8_small": "int8_fc with the int8 embedding table (FPB teacher: 24.8 MB, 1.02x dynamic int8, validation "
                  "agreement 0.994 +- 0.003, test 0.991 +- 0.004)",
    "int8_rows": "int8_small_bc with the token table as int8 rows, one scale each (per_row_tables), the BERT family's "
                 "recipe before int8_dyn_rows (FPB teacher: 25.0 MB, test agreement 0.993 +- 0.003 over 11 draws, >= 0.99 in 10, test macro-F1 "
                 "0.890 +- 0.004; KL on 1,390 unseen 50Agree sentences 0.87 against 1.07 x1e-3 for int8_small_bc)",
    "int8_dyn_rows": "int8_rows with query/key/value dynamic-range as well: static int8 activations in the pooler and "
                     "logits only, the BERT family's recipe (on XNNPACK a static int8 layer is no faster than a dynamic "
                     "one, and the static query/key/value activations were the largest error left). FPB teacher, 11 "
                     "draws: 24.6 MB, test agreement 0.994 +- 0.003 (>= 0.99 in 10), test macro-F1 0.888 +- 0.003 "
                     "(fp32 0.888); 1,390 unseen 50Agree sentences: agreement 0.993 +- 0.001 (>= 0.99 in 11), KL 0.53 "
                     "against 0.87 x1e-3 for int8_rows",
    "int8_small_bc": "int8_small with bias correction, the BERT family's recipe before int8_rows (FPB teacher: validation agreement "
                     "0.998 +- 0.002, test 0.989 +- 0.004, test macro-F1 0.889 +- 0.005 against fp32 0.888)",
}
RULE_KEYS = {"regex", "operation", "algorithm_key", "op_config"}
RECIPE_KEYS = {"rules", "ranges", "smooth", "bias_correction", "per_row_tables"}
SMOOTH_KEYS = {"alpha", "layers"}
QUANTIZER_RANGES = "quantizer"  # ai-edge-quantizer's own calibration (moving average of per-sample min/max)


class RecipeError(EdgekitError):
    """A recipe that cannot be read or applied."""


@dataclass(frozen=True)
class Recipe:
    name: str
    rules: list[dict]
    ranges: str = QUANTIZER_RANGES
    smooth: dict | None = None  # {"alpha": float, "layers": regex} or None
    bias_correction: bool = False  # converters/bias_correction.py, after quantizing
    per_row_tables: bool = False  # converters/row_tables.py: float lookup tables → int8 rows, one scale each

    def to_dict(self) -> dict:
        d = {"name": self.name, "rules": self.rules, "ranges": self.ranges}
        d = {**d, "smooth": self.smooth} if self.smooth else d
        d = {**d, "per_row_tables": True} if self.per_row_tables else d
        return {**d, "bias_correction": True} if self.bias_correction else d


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.json"))


def recipes_help() -> str:
    return "; ".join(f"{name}: {RECIPE_NOTES.get(name, '')}" for name in recipe_names())


def _operations() -> set[str] | None:
    try:
        from ai_edge_quantizer import qtyping
    except ImportError:  # checked again, with the install hint, when the recipe is applied
        return None
    return {o.value for o in qtyping.TFLOperationName}


def _regex(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise RecipeError(f"{where} must be a regular expression (a string)")
    try:
        re.compile(value)
    except re.error as exc:
        raise RecipeError(f"{where}: bad regular expression {value!r} ({exc})") from None


def check_rules(rules: Any, where: str) -> list[dict]:
    """The rules of a recipe after a shape check (one line naming ``where`` when they are not rules)."""
    if not isinstance(rules, list) or not rules:
        raise RecipeError(f"{where}: a recipe is a non-empty JSON list of rules")
    operations = _operations()
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not {"regex", "operation", "algorithm_key"} <= set(rule):
            raise RecipeError(f"{where}: rule {i} needs regex, operation and algorithm_key")
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise RecipeError(f"{where}: rule {i} has unknown keys {sorted(unknown)}")
        _regex(rule["regex"], f"{where}: rule {i} regex")
        if operations is not None and rule["operation"] not in operations:
            raise RecipeError(f"{where}: rule {i} names unknown operation {rule['operation']!r}")
    return rules


def check_recipe(data: Any, name: str, where: str) -> Recipe:
    """A :class:`Recipe` from its JSON form (a list of rules, or an object with rules, ranges, smooth)."""
    if isinstance(data, list):
        return Recipe(name, check_rules(data, where))
    if not isinstance(data, dict) or "rules" not in data:
        raise RecipeError(f"{where}: a recipe is a JSON list of rules or an object with \"rules\"")
    unknown = set(data) - RECIPE_KEYS - {"name"}
    if unknown:
        raise RecipeError(f"{where}: unknown recipe keys {sorted(unknown)} (known: {', '.join(sorted(RECIPE_KEYS))})")
    ranges = data.get("ranges", QUANTIZER_RANGES)
    if ranges != QUANTIZER_RANGES:
        if not isinstance(ranges, str):
            raise RecipeError(f"{where}: ranges must be a string ({QUANTIZER_RANGES}, {', '.join(RANGE_METHODS)})")
        try:
            range_method(ranges)
        except RangeError as exc:
            raise RecipeError(f"{where}: {exc}") from None
    smooth = data.get("smooth")
    if smooth is not None:
        if not isinstance(smooth, dict) or set(smooth) - SMOOTH_KEYS or "alpha" not in smooth:
            raise RecipeError(f"{where}: smooth is an object with alpha (0 < alpha < 1) and optional layers (a regex)")
        alpha = smooth["alpha"]
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
            raise RecipeError(f"{where}: smooth alpha must be a number between 0 and 1, got {alpha!r}")
        _regex(smooth.get("layers", ".*"), f"{where}: smooth layers")
    switches = {key: data.get(key, False) for key in ("bias_correction", "per_row_tables")}
    for key, value in switches.items():
        if not isinstance(value, bool):
            raise RecipeError(f"{where}: {key} must be true or false, got {value!r}")
    return Recipe(name, check_rules(data["rules"], where), ranges, smooth, **switches)


def named_recipe(name: str, folder: Path = RECIPES_DIR) -> Recipe:
    """The recipe ``folder/<name>.json`` that ships with edgekit (the int8 recipes, or the task files')."""
    path = folder / f"{name}.json"
    return check_recipe(json.loads(path.read_text(encoding="utf-8")), name, str(path))


def load_recipe(spec: str) -> Recipe:
    """The recipe given by name, JSON file, bundle folder or bundle manifest."""
    if spec in recipe_names():
        return named_recipe(spec)
    path = Path(spec)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.is_file():
        raise RecipeError(f"--recipe {spec}: not a recipe name ({', '.join(recipe_names())}), file or bundle")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecipeError(f"--recipe {spec}: not JSON ({exc.__class__.__name__})") from None
    if isinstance(data, dict) and "modes" in data:  # a manifest: the recipe its int8 file was made with
        recorded = ((data.get("modes") or {}).get("int8") or {}).get("quantization", {}).get("recipe")
        if not isinstance(recorded, dict):
            raise RecipeError(f"--recipe {spec}: this manifest's int8 entry records no recipe")
        return check_recipe(recorded, str(recorded.get("name", path.parent.name)), spec)
    return check_recipe(data, path.stem, spec)


def quantize_with_recipe(float_model: bytes, recipe: Recipe, samples: list[tuple[str, dict]],
                         threads: int = 2) -> tuple[bytes, dict]:
    """The int8 file of ``float_model`` under ``recipe``, calibrated on ``samples`` ((signature, feeds)
    pairs of every bucket); returns it with facts for the manifest."""
    try:
        from ai_edge_quantizer import quantizer as aeq
    except ImportError:
        raise RecipeError("int8 by recipe needs ai-edge-quantizer (pip install 'edgekit[full]')") from None
    facts: dict[str, Any] = {"engine": "ai-edge-quantizer", "calibration_signatures": sorted({s for s, _ in samples})}
    reference = float_model
    if recipe.smooth:
        float_model, facts["smoothing"] = smooth(float_model, samples, alpha=float(recipe.smooth["alpha"]),
                                                 layers=recipe.smooth.get("layers", ".*"), threads=threads)
    with _quiet_quantizer():
        model, facts = _quantize(aeq, float_model, recipe, samples, threads, facts)
    if recipe.per_row_tables:  # before bias correction, which then measures the layers' errors with it
        from .row_tables import per_row_tables

        model, facts["per_row_tables"] = per_row_tables(model)
    if recipe.bias_correction:
        from .bias_correction import bias_correct

        model, facts["bias_correction"] = bias_correct(reference, model, samples, threads)
    return model, facts


@contextlib.contextmanager
def _quiet_quantizer():
    """ai-edge-quantizer draws a tqdm bar for every step of 100 items or more and warns on the root logger
    for each shared bias it writes again (with :func:`shared_ranges` the bytes are the same); edgekit
    reports the conversion's progress itself, so both are off while it runs."""
    import types

    from ai_edge_quantizer.utils import progress_utils

    bars, root = progress_utils.tqdm, logging.getLogger()
    level = root.level
    progress_utils.tqdm = types.SimpleNamespace(tqdm=lambda *args, **kwargs: bars.tqdm(*args, **{**kwargs, "disable": True}))
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        progress_utils.tqdm = bars
        root.setLevel(level)


def _quantize(aeq, float_model: bytes, recipe: Recipe, samples, threads: int, facts: dict) -> tuple[bytes, dict]:
    q = aeq.Quantizer(bytearray(float_model), recipe.rules)
    calibration = {}
    if q.need_calibration:
        if recipe.ranges == QUANTIZER_RANGES:
            by_signature: dict[str, list[dict]] = {}
            for signature, feeds in samples:
                by_signature.setdefault(signature, []).append(dict(feeds))
            try:
                calibration = q.calibrate(by_signature, num_threads=threads)
            except ValueError as exc:
                raise RecipeError(f"calibration failed: {str(exc).splitlines()[0]}") from None
        else:
            calibration = calibration_ranges(observe(float_model, samples, threads), recipe.ranges)
        calibration = shared_ranges(float_model, calibration)
    try:
        result = q.quantize(calibration or None, enable_progress_report=False)
    except (ValueError, RuntimeError, KeyError) as exc:
        raise RecipeError(f"the recipe does not apply to this model: {str(exc).splitlines()[0]}") from None
    return bytes(result.quantized_model), {**facts, "calibrated_tensors": len(calibration)}


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
    the recipe, calibrated on the job's samples; the manifest records the recipe."""
    from .tflite_file import read_tflite

    recipe = load_recipe(job.recipe)
    model, facts = quantize_with_recipe(float_model, recipe, list(job.calibration.samples))
    info = read_tflite(model)
    return Converted(model, {**facts, "recipe": recipe.to_dict(), "float_ops": info.float_ops()})
