"""One settings entry per conversion mode: how to configure the converter, what graph it needs, its gate.

A mode is data plus one function that turns a SavedModel (one fixed-shape signature per bucket) into
.tflite bytes and a report for the manifest (:class:`Converted`). Add a mode with :func:`register_mode`;
nothing else branches on mode names.

Modes:

* ``fp32``          float32, no optimisation: the reference.
* ``fp16``          float16 weights (dequantized at load / by the delegate), float compute.
* ``dynamic_int8``  int8 weights, float activations quantized on the fly per op (no calibration).
* ``int8``          int8 weights and int8 activations calibrated on real training sentences of every bucket.
                    With a recipe (:mod:`.recipes`; the BERT family's ``int8_dyn_rows``) the recipe names which
                    layers take static int8 activations, which dynamic-range ones and which stay float; the
                    TF converter's path (the BiLSTM) is full integer with float fallback for the ops the
                    family marks as fragile plus the ops chosen from measured per-layer error (see
                    :mod:`.quantize`). ``int8_io`` makes the logits int8 too (ids/mask/segment_ids stay
                    int32: they are indices).
* ``int16x8``       int16 activations, int8 weights: the most faithful quantized mode, slow on CPUs
                    (unaccelerated reference kernels) — an accuracy reference, not a deployment mode;
                    not in the default modes (``--modes int16x8``). See :mod:`.quantize` (6.).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from ..errors import EdgekitError


class UnknownModeError(EdgekitError):
    pass


@dataclass(frozen=True)
class Thresholds:
    """Parity gate: the converted file against the source Keras model on the check split."""

    min_argmax_agreement: float
    max_macro_f1_drop: float
    max_abs_logit_error: float | None = None  # only meaningful for float modes

    def to_dict(self) -> dict:
        d = {"min_argmax_agreement": self.min_argmax_agreement, "max_macro_f1_drop": self.max_macro_f1_drop}
        if self.max_abs_logit_error is not None:
            d["max_abs_logit_error"] = self.max_abs_logit_error
        return d

    def replace(self, **kw) -> "Thresholds":
        return Thresholds(**{**self.__dict__, **{k: v for k, v in kw.items() if v is not None}})


@dataclass(frozen=True)
class Mode:
    name: str
    description: str
    thresholds: Thresholds
    # "float": the family's exact graph; "quant": its quantization-friendly variant (e.g. BERT's
    # attention mask value -30 instead of -1e9, which would eat the int8 range of the scores)
    graph: str
    needs_calibration: bool
    convert: Callable[["ConvertJob"], "Converted"]
    note: str = ""

    @property
    def file_name(self) -> str:
        return f"model_{self.name}.tflite"


@dataclass(frozen=True)
class CalibrationData:
    """Real training sentences for full-integer calibration: ``(signature, feeds)`` pairs of every bucket."""

    samples: tuple[tuple[str, dict], ...]
    summary: dict  # how they were drawn (per bucket), for the manifest


@dataclass(frozen=True)
class ConvertJob:
    """What a mode's ``convert`` gets: the exported SavedModel and the options that concern it."""

    saved_model_dir: str
    signature_keys: tuple[str, ...]
    calibration: CalibrationData | None = None  # full-integer modes
    float_fallback_patterns: tuple[str, ...] = ()
    fallback_groups: dict = field(default_factory=dict)  # candidate groups for the measured search
    int8_io: bool = False
    per_tensor_dense: bool = False  # dynamic int8: per-tensor dense weights (tflite-support 0.4.4 loads them)
    fallback: str = "auto"  # int8: "none", "family" (the family's fragile ops) or "auto" (+ measured)
    fill_calibration: bool = False  # int8: calibrate with bucket-filling samples too (always for int16x8)
    target_agreement: float = 0.99  # "auto": the held-out agreement the measured search aims for
    # "auto": scores a candidate file against the source model on held-out sentences (see quantize.py)
    evaluate: Callable[[bytes], dict] | None = None
    recipe: str | None = None  # int8: quantize the fp32 file by this recipe (converters/recipes.py)


@dataclass(frozen=True)
class Converted:
    """A mode's output: the .tflite bytes and what the manifest records about how they were made."""

    model: bytes
    report: dict = field(default_factory=dict)  # float fallback chosen, calibration facts... (quantized modes)


MODES: dict[str, Mode] = {}


def register_mode(mode: Mode) -> Mode:
    MODES[mode.name] = mode
    return mode


def get_mode(name: str) -> Mode:
    try:
        return MODES[name]
    except KeyError:
        raise UnknownModeError(f"unknown mode {name!r}; known: {', '.join(MODES)}") from None


def modes_help() -> str:
    """``fp32 (float32 reference), ...``: every registered mode with its description, for help texts."""
    return ", ".join(f"{m.name} ({m.description}{'; ' + m.note.split(':')[0] if m.note else ''})"
                     for m in MODES.values())


def parse_modes(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"fp32,int8"`` or names → known, unique mode names in the order given (``all``: every mode)."""
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    if not names:
        raise UnknownModeError(f"no modes given; known: {', '.join(MODES)}")
    if "all" in names:
        return tuple(MODES)
    for n in names:
        get_mode(n)
    return tuple(dict.fromkeys(names))


# ------------------------------------------------------------------------------------ converters
def _converter(job: ConvertJob):
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_saved_model(job.saved_model_dir, signature_keys=list(job.signature_keys))
    # Builtin ops only: Select-TF (Flex) ops run in no interpreter a device has (docs/toolchain.md §3.7).
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return conv


def _fp32(job: ConvertJob) -> Converted:
    return Converted(_converter(job).convert())


def _fp16(job: ConvertJob) -> Converted:
    import tensorflow as tf

    conv = _converter(job)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_types = [tf.float16]
    return Converted(conv.convert())


def _dynamic_int8(job: ConvertJob) -> Converted:
    import tensorflow as tf

    conv = _converter(job)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if job.per_tensor_dense:
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True  # noqa: SLF001
    return Converted(conv.convert())


def _dynamic_int8_pt(job: ConvertJob) -> Converted:
    return _dynamic_int8(replace(job, per_tensor_dense=True))


def _int8(job: ConvertJob) -> Converted:
    if job.recipe is not None:
        from .recipes import int8_by_recipe

        return int8_by_recipe(_fp32(job).model, job)
    from .quantize import full_integer

    return full_integer(job, activations="int8")


def _int16x8(job: ConvertJob) -> Converted:
    from .quantize import full_integer

    return full_integer(job, activations="int16")


register_mode(Mode("fp32", "float32 reference", Thresholds(0.995, 0.005, 0.05), "float", False, _fp32))
register_mode(Mode("fp16", "float16 weights, float compute", Thresholds(0.99, 0.01), "float", False, _fp16))
register_mode(Mode("dynamic_int8", "int8 weights, dynamic-range activations", Thresholds(0.98, 0.02), "float",
                   False, _dynamic_int8))
register_mode(Mode("dynamic_int8_pt", "int8 weights per tensor, dynamic-range activations",
                   Thresholds(0.98, 0.02), "float", False, _dynamic_int8_pt,
                   note="for legacy runtimes: the per-tensor FULLY_CONNECTED kernels that tflite-runtime 2.14 and "
                        "tflite-support 0.4.4 run (per-channel dynamic int8 needs ai-edge-litert)"))
register_mode(Mode("int8", "int8 weights, calibrated int8 activations (by recipe: where the recipe says)",
                   Thresholds(0.97, 0.02), "quant", True, _int8))
register_mode(Mode("int16x8", "int16 activations, int8 weights", Thresholds(0.97, 0.02), "quant", True, _int16x8,
                   note="accuracy reference, not a deployment mode: LiteRT's int16 kernels are unaccelerated "
                        "reference code (20-26x slower than fp32 on x86)"))
