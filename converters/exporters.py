"""One exporter per model family: Keras model → SavedModel with one fixed ``[1, L]`` signature per bucket.

The working path (docs/toolchain.md §3): ``keras.export.ExportArchive`` tracking the model, one endpoint per
bucket with ``tf.TensorSpec([1, L], tf.int32)`` inputs named ``ids``/``mask``/``segment_ids``, written as
a SavedModel, then ``TFLiteConverter.from_saved_model(dir, signature_keys=[...])``. Not
``from_keras_model`` (fails on Keras 3) and not ``from_concrete_functions`` (converts without the
weights and outputs NaN), and never an export without a signature (the ``[1, 1]`` input).

A family declares an :class:`Exporter` (``edgekit/models/<family>/export.py``); the generic code does the rest. What varies per family:

* ``model_for_length`` — the Keras model to trace for bucket length ``L``. BERT traces the same model
  at every length (weights shared across buckets in the .tflite); the BiLSTM builds a fixed-length,
  unrolled copy per bucket (weights duplicated per bucket: the manifest says so).
* ``graph_patches`` — a context manager active while tracing the quantization-friendly ("quant")
  graph; BERT lowers the attention-mask fill value from -1e9 to ``mask_value``.
* ``float_fallback_patterns`` — substrings of op names kept float in full-integer modes.
* ``fill_calibration`` — add bucket-filling samples to full-integer calibration (recurrent families:
  natural sentences rarely fill a long bucket, so the unrolled steps past them would be calibrated on
  padding alone — a zero state, a zero range — and a long sentence on the device would be clipped).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager

from ..models.registry import INPUT_KEYS

# TFLite input names (Task Library / MediaPipe convention) → the family contract's keys
INPUT_MAP = {"ids": "token_ids", "mask": "padding_mask", "segment_ids": "segment_ids"}
OUTPUT_NAME = "logits"


@dataclass
class Exporter:
    family: str
    model_for_length: Callable[[Any, int], Any] = lambda loaded, L: loaded.model
    graph_patches: Callable[[str, dict], ContextManager] = lambda graph, opts: contextlib.nullcontext()
    # what the quant graph's patches changed, for the manifest's mode entry (from the ConvertOptions)
    graph_info: Callable[[Any], dict] = lambda options: {}
    float_fallback_patterns: tuple[str, ...] = ()
    # candidate float-fallback groups for the measured search: group name → regex over op names
    fallback_groups: dict[str, str] = field(default_factory=dict)
    weights_shared_across_buckets: bool = True
    fill_calibration: bool = False  # full-integer calibration also sees bucket-filling samples (recurrent families)
    supports_metadata: bool = False  # a BERT-classifier file Task Library / MediaPipe can load
    notes: dict = field(default_factory=dict)
    # modes this family cannot be converted to yet, with the reason (skipped and recorded in the manifest)
    unsupported_modes: dict[str, str] = field(default_factory=dict)
    # the int8 recipe (converters/recipes.py) ``--recipe family`` picks for this family; None: the TF
    # converter's calibrated int8 with its measured float fallback
    int8_recipe: str | None = None


def get_exporter(family: str) -> Exporter:
    """The family's exporter (each family declares its own in ``edgekit/models/<family>/export.py``)."""
    from ..models.registry import get_family

    return get_family(family).exporter


def export_saved_model(exporter: Exporter, loaded, buckets: list[tuple[int, str]], out_dir: str | Path,
                       graph: str = "float", options: dict | None = None) -> list[str]:
    """Write a SavedModel with one endpoint per ``(length, signature)``; returns the signature keys."""
    import keras
    import tensorflow as tf

    options = options or {}
    archive = keras.export.ExportArchive()
    tracked: list[int] = []
    with _plain_gather(graph), exporter.graph_patches(graph, options):
        for length, sig in buckets:
            model = exporter.model_for_length(loaded, int(length))
            if id(model) not in tracked:
                archive.track(model)
                tracked.append(id(model))
            archive.add_endpoint(sig, _endpoint(model), input_signature=[
                tf.TensorSpec([1, int(length)], tf.int32, name=name) for name in INPUT_MAP])
        archive.write_out(str(out_dir), verbose=False)
    return [sig for _, sig in buckets]


@contextlib.contextmanager
def _plain_gather(graph: str):
    """In the quant graph, embedding lookups are a plain GATHER on the ids.

    Keras' ``take`` wraps negative indices first (LESS/ADD/SELECT on the int32 ids); TF's int16x8
    calibrator then asks for min/max of the int32 ids and fails (docs/toolchain.md §3). Token ids are never
    negative, so the wrap is dropped while tracing the quant graph.
    """
    if graph != "quant":
        yield
        return
    import tensorflow as tf
    from keras.src.backend.tensorflow import numpy as tf_np

    old = tf_np.take

    def take(x, indices, axis=None):
        if axis == 0 and getattr(indices, "dtype", None) in (tf.int32, tf.int64):
            return tf.gather(tf.convert_to_tensor(x), indices, axis=0)
        return old(x, indices, axis=axis)

    tf_np.take = take
    try:
        yield
    finally:
        tf_np.take = old


def _endpoint(model):
    # A closure, not a default argument: ExportArchive cannot serialise extra arguments.
    def serve(ids, mask, segment_ids):
        feeds = {INPUT_MAP["ids"]: ids, INPUT_MAP["mask"]: mask, INPUT_MAP["segment_ids"]: segment_ids}
        return {OUTPUT_NAME: model({k: feeds[k] for k in INPUT_KEYS}, training=False)}

    return serve
