"""The task files: single-signature files with TFLite metadata for the standard BERT-classifier clients.

MediaPipe Tasks ``TextClassifier`` and the Task Library's ``BertNLClassifier`` need exactly three int32
inputs, a float ``[1, N]`` output, a *single* subgraph and TFLite metadata (docs/toolchain.md §5.2), so
the bucketed files cannot serve them. A bundle of a BERT model therefore also carries one
``model_<task mode>_task.tflite`` per task mode (``--task-modes``, default ``fp16,int8_weights``): one
``[1, metadata_length]`` signature, gated like every other file, metadata written by
:mod:`.metadata`. The first is the manifest's ``task_library`` (the file the Android app reads), the
others ``other_task_files[mode]`` (edgekit.contracts).

The task modes, measured on the FPB teacher in docs/toolchain.md §5.8:

* ``fp32``, ``fp16``, ``dynamic_int8_pt`` — the conversion modes of the same name. Per-channel
  ``dynamic_int8`` is not one: tflite-support 0.4.4 refuses its FULLY_CONNECTED version 12.
* ``int8_weights`` — int8 weights per channel for every fully-connected layer and the embeddings,
  float compute: the 8-bit file whose answers stay closest to fp32 (``task_recipes/int8_weights.json``).
* ``int8`` — full int8 with a float output: static int8 fully-connected layers, the attention and FFN
  output layers int8 weights with float compute, int8 embeddings (``task_recipes/int8.json``).

The two 8-bit task modes are ai-edge-quantizer recipes (converters/recipes.py) applied to the fp32
task file and calibrated on training sentences at the task length. Their rules avoid what the older
clients get wrong: the quantizer marks a per-channel *dynamic* FULLY_CONNECTED as version 5, which
tflite-support 0.4.4 then runs with one scale per tensor (the logits come out constant), so every
fully-connected layer is either static int8 or int8 weights with an explicit DEQUANTIZE. The
quantizer also stores weights past the flatbuffer by offset, which tflite-support's metadata writer
drops (a 0.8 MB file with no weights): :func:`inline_buffers` puts them back first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..contracts import LABELS_NAME, VOCAB_NAME
from ..errors import EdgekitError, first_line
from ..fsutil import atomic_write_bytes, sha256_file
from ..runtime.units import megabytes
from .modes import Thresholds, get_mode

if TYPE_CHECKING:
    from ..models.modeldir import LoadedModel
    from .exporters import Exporter
    from .parity import CheckSet
    from .recipes import Recipe

logger = logging.getLogger(__name__)

SIGNATURE = "serving_default"
TASK_RECIPES_DIR = Path(__file__).resolve().parent / "task_recipes"
CLIENTS = ["MediaPipe Tasks TextClassifier", "TFLite Task Library BertNLClassifier"]


@dataclass(frozen=True)
class TaskMode:
    """How one task file is made: a conversion mode's converter, or a recipe applied to the fp32 file."""

    name: str
    description: str
    thresholds: Thresholds
    graph: str = "float"  # the exported graph (see modes.Mode.graph)
    recipe: str | None = None  # task_recipes/<recipe>.json; None: modes.get_mode(name).convert

    @property
    def file_name(self) -> str:
        return f"model_{self.name}_task.tflite"


def _from_mode(name: str, description: str) -> TaskMode:
    mode = get_mode(name)
    return TaskMode(name, description, mode.thresholds, mode.graph)


TASK_MODES: dict[str, TaskMode] = {m.name: m for m in (
    _from_mode("fp32", "float32, 4 bytes per weight"),
    _from_mode("fp16", "float16 weights, float compute (the Android app's task_library)"),
    _from_mode("dynamic_int8_pt", "int8 weights per tensor, dynamic-range activations: the fastest, the least "
                                  "accurate (FPB teacher: 96.5 % test agreement)"),
    TaskMode("int8_weights", "int8 weights per channel and int8 embeddings, float compute: half of fp16, "
                             "closest to fp32 (FPB teacher: 99.1 % test agreement)", Thresholds(0.98, 0.02),
             recipe="int8_weights"),
    TaskMode("int8", "full int8 with a float output (static int8 fully-connected layers, int8 embeddings): "
                     "faster than int8_weights, less accurate (FPB teacher: 98.8 %)",
             get_mode("int8").thresholds, graph="quant", recipe="int8"),
)}
DEFAULT_TASK_MODES = ("fp16", "int8_weights")


class UnknownTaskModeError(EdgekitError):
    pass


def task_modes_help() -> str:
    return "; ".join(f"{m.name}: {m.description}" for m in TASK_MODES.values())


def parse_task_modes(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"fp16,int8_weights"`` or names → known, unique task modes in the order given (the first is the
    manifest's ``task_library``)."""
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    if not names:
        raise UnknownTaskModeError(f"no task modes given; known: {', '.join(TASK_MODES)} (or --no-metadata)")
    for name in names:
        if name not in TASK_MODES:
            hint = " (per-channel dynamic int8 does not load in tflite-support 0.4.4: use dynamic_int8_pt)" \
                if name == "dynamic_int8" else ""
            raise UnknownTaskModeError(f"unknown task mode {name!r}{hint}; known: {', '.join(TASK_MODES)}")
    return tuple(dict.fromkeys(names))


def task_recipe(name: str) -> Recipe:
    """The recipe ``task_recipes/<name>.json`` (the ai-edge-quantizer rules of an 8-bit task mode)."""
    from .recipes import named_recipe

    return named_recipe(name, TASK_RECIPES_DIR)


def inline_buffers(model: bytes) -> bytes:
    """The same model with every weight inside the flatbuffer (ai-edge-quantizer writes large buffers
    after it, addressed by offset, which tflite-support's metadata writer and older runtimes do not read)."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema  # type: ignore[import-not-found]

    root = schema.ModelT.InitFromPackedBuf(model, 0)
    moved = 0
    for buf in root.buffers or []:
        if buf.offset > 1:  # 1 marks "no data" in the quantizer's layout
            buf.data = np.frombuffer(model, np.uint8, count=buf.size, offset=buf.offset)
            buf.offset, buf.size = 0, 0
            moved += 1
    return pack_model(root, len(model)) if moved else model


def pack_model(root, size_hint: int) -> bytes:
    """A ``ModelT`` (ai_edge_litert's object API) written back to .tflite bytes."""
    import flatbuffers

    builder = flatbuffers.Builder(size_hint + 4096)
    builder.Finish(root.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@dataclass(frozen=True)
class TaskInputs:
    """What every task file of one conversion is made from."""

    loaded: LoadedModel
    exporter: Exporter
    check: CheckSet  # the validation split with the source model's logits: the gate's reference
    calibration_texts: list[str]  # training sentences the 8-bit recipes calibrate on (convert.calibration_pools)


def convert_task_mode(mode: TaskMode, source: TaskInputs, length: int, work: Path, options) -> tuple[bytes, dict]:
    """The task file's bytes (before metadata) and what the manifest records about how they were made."""
    from .exporters import export_saved_model
    from .modes import ConvertJob

    saved = work / f"saved_model_task_{mode.graph}"
    if not saved.exists():
        export_saved_model(source.exporter, source.loaded, [(length, SIGNATURE)], saved, mode.graph,
                           {"mask_value": options.mask_value} if mode.graph == "quant" else {})
    if mode.recipe is None:
        return get_mode(mode.name).convert(ConvertJob(str(saved), (SIGNATURE,))).model, {}
    from .calibration import calibration_samples
    from .recipes import quantize_with_recipe

    float_model = get_mode("fp32").convert(ConvertJob(str(saved), (SIGNATURE,))).model
    samples, summary = calibration_samples(source.calibration_texts, source.loaded.tokenizer, [(length, SIGNATURE)],
                                           options.calibration_samples, seed=options.seed)
    recipe = task_recipe(mode.recipe)
    model, facts = quantize_with_recipe(float_model, recipe, samples, threads=options.threads)
    return inline_buffers(model), {"calibration": summary, **facts, "recipe": recipe.to_dict()}


def write_task_file(mode: TaskMode, source: TaskInputs, bundle_tmp: Path, work: Path, options,
                    progress: bool) -> dict:
    """Convert, annotate and gate one task file into the bundle; returns its manifest entry (a failed
    conversion or gate raises, or with ``on_gate_failure="drop"`` returns an entry without a file)."""
    from .metadata import add_metadata
    from .parity import ParityError, check_file
    from .tflite_file import read_tflite

    length = min(int(options.metadata_length), options.buckets[-1])
    logger.info(f"[task] {mode.name}: single-signature [1,{length}] file with TFLite metadata (MediaPipe / "
                "Task Library)")
    loaded = source.loaded
    entry: dict = {"mode": mode.name, "description": mode.description, "signature": SIGNATURE, "length": length,
                   "per_tensor_dense_weights": mode.name == "dynamic_int8_pt", "clients": CLIENTS,
                   "client_tokenizer_note": "these clients lower-case but do not strip accents; this model was "
                                            f"trained with strip_accents={loaded.tokenizer.strip_accents}"}
    try:
        model_bytes, quantization = convert_task_mode(mode, source, length, work, options)
    except Exception as exc:
        error = exc if isinstance(exc, EdgekitError) else EdgekitError(
            f"the {mode.name} task file: conversion failed: {first_line(exc)}")
        return _left_out(entry, str(error), options)
    if quantization:
        entry["quantization"] = quantization
    info = read_tflite(model_bytes)
    ins, _ = info.signature_io(info.signatures[0])
    vocab, labels = work / VOCAB_NAME, work / LABELS_NAME  # for the writer to pack (the bundle's copies come later)
    vocab.write_text("\n".join(loaded.tokenizer.vocab) + "\n", encoding="utf-8")
    labels.write_text("\n".join(loaded.labels) + "\n", encoding="utf-8")
    try:
        model_bytes, how = add_metadata(model_bytes, vocab, labels, {k: t.name for k, t in ins.items()})
        entry.update({"metadata": True, "metadata_writer": how, "status": "with metadata"})
        name = mode.file_name
    except Exception as exc:  # ImportError or a writer failure: keep the file, say why
        entry.update({"metadata": False,
                      "status": f"no metadata: tflite-support unavailable ({first_line(exc)[:160]})"})
        name = f"model_{mode.name}_single.tflite"
        logger.warning(f"    metadata skipped: {entry['status']}")
    path = atomic_write_bytes(bundle_tmp / name, model_bytes)
    thresholds = mode.thresholds.replace(**options.thresholds.get(mode.name, {}))
    figures = check_file(path, source.check, [(length, SIGNATURE)], thresholds, threads=options.threads,
                         progress=f"parity task file {mode.name}" if progress else None)
    entry["parity"] = figures
    if not figures["passed"]:
        path.unlink()
        return _left_out(entry, f"parity gate failed for the {mode.name} task file: " + "; ".join(
            figures["failures"]), options, ParityError, " (thresholds can be overridden with --threshold)")
    logger.info(f"    {megabytes(path.stat().st_size):.1f} MB, agreement {figures['argmax_agreement']:.4f} "
                f"({entry['status']})")
    entry.update({"file": name, "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    return entry


def _left_out(entry: dict, reason: str, options, error: type[EdgekitError] = EdgekitError, advice: str = "") -> dict:
    """A task file that failed: raised (``on_gate_failure="fail"``), or its entry without a file and with
    the reason as its status (``"drop"``: the bundle is written without it)."""
    if options.on_gate_failure == "fail":
        raise error(reason + advice) from None
    logger.warning(f"    {reason}: left out of the bundle")
    return {**entry, "status": reason}


def write_task_files(source: TaskInputs, bundle_tmp: Path, work: Path, options, progress: bool) -> dict:
    """Every task mode's file; returns the manifest keys: ``task_library`` (the first task mode) and,
    with more than one, ``other_task_files`` (mode → entry)."""
    from ..contracts import OTHER_TASK_FILES, TASK_LIBRARY

    entries = [write_task_file(TASK_MODES[name], source, bundle_tmp, work, options, progress)
               for name in options.task_modes]
    out: dict = {TASK_LIBRARY: entries[0]}
    if len(entries) > 1:
        out[OTHER_TASK_FILES] = {e["mode"]: e for e in entries[1:]}
    return out

