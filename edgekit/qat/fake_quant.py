"""Fake quantization of a Keras model's dense layers, as an int8 recipe will quantize them.

Quantization-aware fine-tuning trains the float weights through a forward pass that rounds what the
int8 file will round, so the weights settle where rounding costs least. Which rounding each layer gets
is read from the recipe the model will be converted with (:mod:`converters.recipes`): the last
FULLY_CONNECTED rule whose regex matches the layer's path decides, as the quantizer decides it for
the layer's tensors.

===================== ================================================ =====================================
recipe rule           the file computes                                 simulated here
===================== ================================================ =====================================
activation config     static int8: one scale and zero point per tensor  input rounded to 256 levels between
                      from calibration, for its input and its output    the min and max it took on calibration
                                                                        sentences (and 0), :func:`calibrated`;
                                                                        the output likewise
weights only          dynamic range: each input row quantized at run     input rounded to 256 levels between
                      time, asymmetric                                  each token row's min and max (and 0)
``no_quantize``       float                                             nothing
===================== ================================================ =====================================

Weights are rounded per output channel, symmetric, to ±127 levels (the recipes' CHANNELWISE weights).
Every rounding passes its gradient straight through (x + stop_gradient(q(x) − x)): the loss sees the
rounded forward pass, the optimizer moves the float weights. The simulation is a context: layers get
their own ``call`` back on exit, so the model saved afterwards is a plain float model of the same
architecture, which every converter mode takes.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, replace

STATIC, DYNAMIC, FLOAT = "static", "dynamic", "float"


@dataclass(frozen=True)
class LayerScheme:
    path: str
    activations: str  # STATIC | DYNAMIC | FLOAT
    weight_bits: int = 8
    input_range: tuple[float, float] | None = None  # STATIC: the calibrated (min, max); None: each batch's own
    output_range: tuple[float, float] | None = None  # STATIC: the same for its output (before any activation)


def scheme_of(path: str, rules: list[dict]) -> str:
    """How a FULLY_CONNECTED layer at ``path`` is quantized under ``rules`` (later rules win, as in the quantizer)."""
    decided = FLOAT
    for rule in rules:
        if rule.get("operation") not in ("*", "FULLY_CONNECTED") or not re.search(rule["regex"], path):
            continue
        if rule.get("algorithm_key") == "no_quantize":
            decided = FLOAT
        else:
            config = rule.get("op_config") or {}
            decided = STATIC if config.get("activation_tensor_config") else DYNAMIC
    return decided


def dense_layers(model) -> list:
    """Every Dense and EinsumDense layer inside ``model``, once each, in build order."""
    import keras

    seen, out = set(), []

    def walk(layer) -> None:
        for sub in getattr(layer, "_layers", None) or []:
            if id(sub) in seen:
                continue
            seen.add(id(sub))
            if isinstance(sub, (keras.layers.Dense, keras.layers.EinsumDense)):
                out.append(sub)
            walk(sub)

    walk(model)
    return out


def plan_schemes(model, rules: list[dict]) -> list[LayerScheme]:
    """The scheme of every dense layer of ``model`` under the recipe ``rules``."""
    return [LayerScheme(layer.path, scheme_of(layer.path, rules)) for layer in dense_layers(model)]


# ---------------------------------------------------------------------------------------- the roundings
def _straight_through(x, q):
    from keras import ops

    return x + ops.stop_gradient(q - x)


def _round_asymmetric(x, lo, hi, bits: int = 8):
    """``x`` rounded to 2^bits levels spanning [min(lo, 0), max(hi, 0)], so that 0 is exact (as in TFLite)."""
    from keras import ops

    levels = 2 ** bits - 1
    lo, hi = ops.minimum(lo, 0.0), ops.maximum(hi, 0.0)
    scale = ops.maximum((hi - lo) / levels, 1e-8)
    zero = ops.round(-lo / scale)
    q = ops.clip(ops.round(x / scale) + zero, 0.0, float(levels))
    return (q - zero) * scale


def fake_quant_static(x, bits: int = 8, input_range: tuple[float, float] | None = None):
    """One scale for the whole tensor, from ``input_range`` (calibrated; values outside it clip) or else the
    batch's own min and max."""
    from keras import ops

    lo, hi = (ops.min(x), ops.max(x)) if input_range is None else input_range
    return _straight_through(x, _round_asymmetric(x, lo, hi, bits))


def fake_quant_dynamic(x, bits: int = 8):
    """One scale per row of the last axis (a token's features), as dynamic-range kernels quantize inputs."""
    from keras import ops

    return _straight_through(x, _round_asymmetric(x, ops.min(x, axis=-1, keepdims=True),
                                                   ops.max(x, axis=-1, keepdims=True), bits))


def fake_quant_weight(w, reduce_axes: tuple[int, ...], bits: int = 8):
    """Symmetric per-output-channel rounding to ±(2^(bits−1) − 1) levels; ``reduce_axes`` are the input axes."""
    from keras import ops

    top = float(2 ** (bits - 1) - 1)
    scale = ops.maximum(ops.max(ops.abs(w), axis=reduce_axes, keepdims=True) / top, 1e-12)
    return _straight_through(w, ops.clip(ops.round(w / scale), -top, top) * scale)


def input_axes(layer) -> tuple[int, ...]:
    """The kernel axes a layer contracts with its input (the rest index output channels)."""
    equation = getattr(layer, "equation", None)
    if equation is None:  # Dense: kernel [in, out]
        return (0,)
    operands, output = equation.split("->")
    left, kernel = operands.split(",")
    return tuple(i for i, c in enumerate(kernel) if c in left and c not in output)


def _dense(layer, x, kernel):
    """The layer's output before its activation, with ``kernel`` in place of its own."""
    from keras import ops

    equation = getattr(layer, "equation", None)
    y = ops.matmul(x, kernel) if equation is None else ops.einsum(equation, x, kernel)
    return ops.add(y, layer.bias) if layer.bias is not None else y


def _activate(layer, y):
    return layer.activation(y) if layer.activation is not None else y


def _fake_call(layer, scheme: LayerScheme):
    axes = input_axes(layer)
    static = scheme.activations == STATIC

    def call(inputs, training=None):
        x = fake_quant_static(inputs, 8, scheme.input_range) if static else fake_quant_dynamic(inputs)
        y = _dense(layer, x, fake_quant_weight(layer.kernel, axes, scheme.weight_bits))
        if static:  # a static int8 layer's output is int8 too, on its own calibrated range
            y = fake_quant_static(y, 8, scheme.output_range)
        return _activate(layer, y)

    return call


def calibrated(model, schemes: list[LayerScheme], data) -> list[LayerScheme]:
    """``schemes`` with each static layer's input and output ranges: their min and max over the encoded sentences
    ``data`` (the float model run as it is, as the quantizer's min/max calibration sees it)."""
    import numpy as np
    import tensorflow as tf

    from ..train.loop import forget_traces, predict_logits

    static = {s.path for s in schemes if s.activations == STATIC}
    layers = [layer for layer in dense_layers(model) if layer.path in static]
    bounds = {}

    def span():
        return [tf.Variable(v, dtype=tf.float32, trainable=False) for v in (np.inf, -np.inf)]

    def widen(bound, x):
        bound[0].assign(tf.minimum(bound[0], tf.reduce_min(x)))
        bound[1].assign(tf.maximum(bound[1], tf.reduce_max(x)))

    for layer in layers:
        seen_in, seen_out = bounds[layer.path] = (span(), span())

        def record(inputs, training=None, _layer=layer, _in=seen_in, _out=seen_out):
            widen(_in, inputs)
            y = _dense(_layer, inputs, _layer.kernel)
            widen(_out, y)
            return _activate(_layer, y)

        layer.call = record
    forget_traces(model)
    try:
        predict_logits(model, data)
    finally:
        for layer in layers:
            del layer.call
        forget_traces(model)

    def read(bound) -> tuple[float, float]:
        return float(bound[0].numpy()), float(bound[1].numpy())

    return [replace(s, input_range=read(bounds[s.path][0]), output_range=read(bounds[s.path][1]))
            if s.path in bounds else s for s in schemes]


@contextmanager
def fake_quantized(model, schemes: list[LayerScheme]):
    """Inside the context, ``model``'s dense layers compute as the int8 file will (see the module doc)."""
    from ..train.loop import forget_traces

    by_path = {s.path: s for s in schemes if s.activations != FLOAT}
    patched = []
    forget_traces(model)
    try:
        for layer in dense_layers(model):
            scheme = by_path.get(layer.path)
            if scheme is not None:
                layer.call = _fake_call(layer, scheme)
                patched.append(layer)
        yield patched
    finally:
        for layer in patched:
            del layer.call  # the class's own call again
        forget_traces(model)
