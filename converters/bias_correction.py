"""Empirical bias correction of an int8 file (recipe key ``"bias_correction": true``).

Quantizing a layer's weights and input moves the mean of its output: ``E[y_q − y]`` per output channel is not
zero, and the shift adds up through the layers (Nagel et al. 2019, "Data-Free Quantization", §4.2; here
measured on the calibration sentences instead of derived from batch-norm statistics). For every static int8
FULLY_CONNECTED (int8 input and weights, int32 bias, int8 output) of the quantized file, the float file and the
int8 file are run on the same calibration samples; the mean error of each output channel over the real tokens
(mask 1) is taken out of the int32 bias, in the bias's own units (input scale × the channel's weight scale).
The bias buffers are shared by the bucket signatures, so a layer's error is averaged over every bucket's
samples. Layers are corrected in the order they run, a group at a time (the layers reading one input
together: query, key, value), each measured on the file with the groups before it already corrected — a
one-shot correction of every layer from the uncorrected file made some later layers worse (tested).
"""

from __future__ import annotations

import numpy as np


def _static_int8_fcs(info) -> tuple[dict[int, list[tuple[int, int, str]]], dict[int, np.ndarray]]:
    """Bias buffer → [(subgraph, output tensor index, output name)] of every static int8 FULLY_CONNECTED, and
    bias buffer → the int32 bias's scale per output channel (input scale × the channel's weight scale)."""
    layers: dict[int, list[tuple[int, int, str]]] = {}
    units: dict[int, np.ndarray] = {}
    for sg in info.subgraphs:
        for op in sg.ops:
            if op.opcode != "FULLY_CONNECTED" or len(op.inputs) < 3 or op.inputs[2] < 0:
                continue
            x, w, b, y = (sg.tensors[i] for i in (*op.inputs[:3], op.outputs[0]))
            if (x.dtype, w.dtype, b.dtype, y.dtype) == ("int8", "int8", "int32", "int8") and b.is_constant:
                layers.setdefault(b.buffer, []).append((sg.index, op.outputs[0], y.name))
                units.setdefault(b.buffer, x.scales[0] * np.asarray(w.scales, np.float64))
    return layers, units


def _groups(info, layers: dict[int, list]) -> list[list[int]]:
    """The layers' bias buffers in the order the first signature runs them, layers reading the same input
    (query, key, value) in one group: a group's error depends only on the groups before it."""
    first = info.subgraphs[min(sg for outs in layers.values() for sg, _, _ in outs)]
    by_input: dict[str, list[int]] = {}
    for op in first.ops:
        if op.opcode == "FULLY_CONNECTED" and len(op.inputs) > 2 and op.inputs[2] >= 0:
            buffer = first.tensors[op.inputs[2]].buffer
            if buffer in layers:
                group = by_input.setdefault(first.tensors[op.inputs[0]].name, [])
                if buffer not in group:
                    group.append(buffer)
    return list(by_input.values())


def bias_correct(float_model: bytes, quantized: bytes, samples: list[tuple[str, dict]], threads: int = 2
                 ) -> tuple[bytes, dict]:
    """``quantized`` with the mean output error of each static int8 FULLY_CONNECTED taken out of its bias,
    layer group by layer group in the order they run (each measured with the groups before it corrected)."""
    from ai_edge_litert import schema_py_generated as schema  # type: ignore[import-not-found]

    from .ranges import preserved_runs
    from .task_files import inline_buffers, pack_model
    from .tflite_file import read_tflite

    quantized = inline_buffers(quantized)  # every bias inside the flatbuffer, where it can be rewritten
    qinfo, finfo = read_tflite(quantized), read_tflite(float_model)
    layers, units = _static_int8_fcs(qinfo)
    if not layers:
        return quantized, {"layers": 0}
    f_index = {sg.index: {t.name: t.index for t in sg.tensors} for sg in finfo.subgraphs}
    q_subgraph = {s.key: s.subgraph for s in qinfo.signatures}
    wanted = {(sg, name) for outs in layers.values() for sg, _, name in outs}
    reference: list[dict[str, np.ndarray]] = []  # the float file's output of each layer, per sample
    for (signature, _), (subgraph, read) in zip(samples, preserved_runs(float_model, samples, threads)):
        qsg = q_subgraph[signature]
        reference.append({name: read(f_index[subgraph][name]) for sg, name in wanted
                          if sg == qsg and name in f_index[subgraph]})
    m = schema.ModelT.InitFromPackedBuf(quantized, 0)
    shifts = []
    groups = _groups(qinfo, layers)
    for group in groups:
        sums: dict[int, np.ndarray] = {}
        counts: dict[int, int] = {}
        for (signature, feeds), ref, (subgraph, read) in zip(samples, reference,
                                                             preserved_runs(quantized, samples, threads)):
            mask = np.asarray(feeds.get("mask", np.ones((1, 1)))).reshape(-1).astype(bool)
            for buffer in group:
                for sg, index, name in layers[buffer]:
                    q = read(index) if sg == subgraph and ref.get(name) is not None else None
                    if q is None:
                        continue
                    t = qinfo.subgraphs[sg].tensors[index]
                    err = ((q.astype(np.float32) - t.zero_points[0]) * t.scales[0] - ref[name])
                    err = err.reshape(-1, err.shape[-1])
                    if err.shape[0] == mask.size:  # per token: the real tokens only
                        err = err[mask]
                    sums[buffer] = sums.get(buffer, 0) + err.sum(0)
                    counts[buffer] = counts.get(buffer, 0) + err.shape[0]
        for buffer in group:
            if not counts.get(buffer):
                continue
            mean_err = sums[buffer] / counts[buffer]
            bias = np.frombuffer(bytes(m.buffers[buffer].data), np.int32).astype(np.int64)
            fixed = np.clip(bias - np.round(mean_err / units[buffer]), -2**31, 2**31 - 1).astype(np.int32)
            m.buffers[buffer].data = np.frombuffer(fixed.tobytes(), np.uint8)
            shifts.append(float(np.abs(mean_err).mean()))
        quantized = pack_model(m, len(quantized))
    return quantized, {"layers": len(shifts), "groups": len(groups), "samples": len(samples),
                       "mean_abs_error_corrected": round(float(np.mean(shifts)), 6) if shifts else 0.0}
