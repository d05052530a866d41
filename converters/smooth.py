"""Activation smoothing (SmoothQuant, Xiao et al. 2023) on a float .tflite file before int8 by recipe.

A few channels of a BERT's LayerNorm outputs carry values tens of times larger than the rest, so one
int8 scale per tensor leaves the other channels a handful of steps. For a fully-connected layer
``y = x Wᵀ`` the difficulty can be moved from the activation to the weight, exactly:
``y = (x · s⁻¹)(W · diag(s))ᵀ`` with ``s_j = max|x_j|^α / max|W_·j|^(1-α)``. In a post-LayerNorm BERT the
LayerNorm output also feeds the residual branch, so ``s⁻¹`` cannot be folded into the LayerNorm; instead a
float ``MUL`` by ``s⁻¹`` (one per smoothed input, per bucket signature, a few microseconds) is inserted in
front of the layers that read it, and their weight columns are multiplied by ``s`` once (the buffers stay
shared by every signature). The quantizer then calibrates the smoothed activation.

Layers that read the same activation (BERT's query, key and value) share one ``s`` (the max of their
weight columns). Channel maxima are taken over real training sentences of every bucket.
What it buys on the FPB teacher is measured in docs/toolchain.md (int8 by recipe).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import EdgekitError
from .ranges import preserved_runs


class SmoothError(EdgekitError):
    pass


def _groups(m, schema, pattern: re.Pattern) -> dict[tuple[int, ...], list[tuple[int, int, list[int]]]]:
    """Smoothable layers: weight buffers of the FCs that read one activation → [(subgraph, input, ops)]."""
    codes = [c.builtinCode for c in m.operatorCodes]
    groups: dict[tuple[int, ...], list[tuple[int, int, list[int]]]] = {}
    for si, sg in enumerate(m.subgraphs):
        readers: dict[int, list[int]] = {}
        for oi, op in enumerate(sg.operators):
            if codes[op.opcodeIndex] != schema.BuiltinOperator.FULLY_CONNECTED or len(op.inputs) < 2:
                continue
            x, w = sg.tensors[op.inputs[0]], sg.tensors[op.inputs[1]]
            out_name = sg.tensors[op.outputs[0]].name.decode()
            data = m.buffers[w.buffer].data
            if (x.type != schema.TensorType.FLOAT32 or w.type != schema.TensorType.FLOAT32 or data is None
                    or len(data) == 0 or len(w.shape) != 2 or not pattern.search(out_name)):
                continue
            readers.setdefault(int(op.inputs[0]), []).append(oi)
        for x, ops in readers.items():
            key = tuple(sorted(int(sg.tensors[sg.operators[oi].inputs[1]].buffer) for oi in ops))
            groups.setdefault(key, []).append((si, x, ops))
    return groups


def _channel_absmax(model: bytes, samples, wanted: dict[int, list[int]], threads: int
                    ) -> dict[tuple[int, int], np.ndarray]:
    """(subgraph, tensor) → max |value| of each last-axis channel of the wanted tensors over ``samples``."""
    out: dict[tuple[int, int], np.ndarray] = {}
    for subgraph, read in preserved_runs(model, samples, threads):
        for index in wanted.get(subgraph, []):
            values = read(index)
            if values is None:
                continue
            values = np.abs(values.astype(np.float32)).reshape(-1, values.shape[-1]).max(0)
            key = (subgraph, index)
            out[key] = values if key not in out else np.maximum(out[key], values)
    return out


def smooth(model: bytes, samples: list[tuple[str, dict]], alpha: float = 0.5, layers: str = ".*",
           threads: int = 2) -> tuple[bytes, dict]:
    """``model`` with the inputs of the fully-connected layers whose output name matches ``layers``
    smoothed with strength ``alpha`` (0: nothing moves to the weights, 1: everything); returns the file
    and facts for the manifest."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    if not 0.0 < alpha < 1.0:
        raise SmoothError(f"smoothing alpha must be in (0, 1), got {alpha}")
    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    groups = _groups(m, schema, re.compile(layers))
    if not groups:
        return model, {"smoothed_inputs": 0}
    wanted: dict[int, list[int]] = {}
    for members in groups.values():
        for si, x, _ in members:
            wanted.setdefault(si, []).append(x)
    absmax = _channel_absmax(model, samples, wanted, threads)

    mul_code = opcode_index(m, schema, schema.BuiltinOperator.MUL)
    inserts: dict[int, list[tuple[int, int, list[int], int]]] = {}
    for buffers, members in groups.items():
        seen = [absmax[(si, x)] for si, x, _ in members if (si, x) in absmax]
        if not seen:
            continue
        act = np.maximum.reduce(seen)
        weights = [np.frombuffer(bytes(m.buffers[b].data), np.float32).reshape(_shape_of(m, b)) for b in buffers]
        wmax = np.maximum.reduce([np.abs(w).max(0) for w in weights])
        s = np.power(np.maximum(act, 1e-5), alpha) / np.power(np.maximum(wmax, 1e-5), 1 - alpha)
        s = np.clip(s, 1e-3, 1e3).astype(np.float32)
        for b, w in zip(buffers, weights):
            m.buffers[b].data = np.frombuffer((w * s[None, :]).astype(np.float32).tobytes(), np.uint8)
        m.buffers.append(schema.BufferT())
        m.buffers[-1].data = np.frombuffer((1.0 / s).astype(np.float32).tobytes(), np.uint8)
        scale_buffer = len(m.buffers) - 1
        for si, x, ops in members:
            inserts.setdefault(si, []).append((x, scale_buffer, ops, len(s)))
    for si, items in inserts.items():
        sg = m.subgraphs[si]
        new_ops = {}
        for x, scale_buffer, ops, width in items:
            src = sg.tensors[x]
            scale = schema.TensorT()
            scale.name, scale.type, scale.shape, scale.buffer = src.name + b"/smooth_scale", schema.TensorType.FLOAT32, \
                np.asarray([width], np.int32), scale_buffer
            smoothed = schema.TensorT()
            smoothed.name, smoothed.type, smoothed.buffer = src.name + b"/smoothed", schema.TensorType.FLOAT32, 0
            smoothed.shape = np.asarray(src.shape, np.int32)
            if src.shapeSignature is not None:
                smoothed.shapeSignature = np.asarray(src.shapeSignature, np.int32)
            sg.tensors.extend([scale, smoothed])
            scale_index, smoothed_index = len(sg.tensors) - 2, len(sg.tensors) - 1
            op = schema.OperatorT()
            op.opcodeIndex, op.inputs, op.outputs = mul_code, np.asarray([x, scale_index], np.int32), \
                np.asarray([smoothed_index], np.int32)
            op.builtinOptionsType, op.builtinOptions = schema.BuiltinOptions.MulOptions, schema.MulOptionsT()
            for oi in ops:
                sg.operators[oi].inputs[0] = smoothed_index
            new_ops[min(ops)] = op
        sg.operators = [o for i, existing in enumerate(sg.operators)
                        for o in ([new_ops[i]] if i in new_ops else []) + [existing]]
    out = bytes(flatbuffer_utils.convert_object_to_bytearray(m))
    return out, {"smoothed_inputs": len(groups), "alpha": alpha, "layers": layers}


def _shape_of(m, buffer: int) -> tuple[int, ...]:
    for sg in m.subgraphs:
        for t in sg.tensors:
            if t.buffer == buffer:
                return tuple(int(d) for d in t.shape)
    raise SmoothError(f"no tensor reads buffer {buffer}")


def opcode_index(m, schema, builtin: int) -> int:
    """The index of ``builtin`` in the model's operator codes (added when missing)."""
    for i, c in enumerate(m.operatorCodes):
        if c.builtinCode == builtin:
            return i
    code = schema.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 1
    m.operatorCodes.append(code)
    return len(m.operatorCodes) - 1
