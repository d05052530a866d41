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
                      from calibration                                  the batch's min and max (and 0)
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
from dataclasses import dataclass

STATIC, DYNAMIC, FLOAT = "static", "dynamic", "float"


@dataclass(frozen=True)
class LayerScheme:
    path: str
    activations: str  # STATIC | DYNAMIC | FLOAT
    weight_bits: int = 8


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


def fake_quant_static(x, bits: int = 8):
    """One scale for the whole tensor (the batch's range stands for the calibration range)."""
    from keras import ops

    return _straight_through(x, _round_asymmetric(x, ops.min(x), ops.max(x), bits))


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


ACTIVATIONS = {STATIC: fake_quant_static, DYNAMIC: fake_quant_dynamic}


def _fake_call(layer, scheme: LayerScheme):
    from keras import ops

    quantize_input = ACTIVATIONS[scheme.activations]
    axes = input_axes(layer)
    equation = getattr(layer, "equation", None)

    def call(inputs, training=None):
        x = quantize_input(inputs)
        kernel = fake_quant_weight(layer.kernel, axes, scheme.weight_bits)
        y = ops.matmul(x, kernel) if equation is None else ops.einsum(equation, x, kernel)
        if layer.bias is not None:
            y = ops.add(y, layer.bias)
        return layer.activation(y) if layer.activation is not None else y

    return call


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
