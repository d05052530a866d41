"""Full-integer quantization (int8 and int16x8) with a float fallback chosen by rule and by measurement.

1. **Calibrate once.** The converter runs the float model on the representative dataset (real
   training sentences of every bucket, :mod:`.calibration`) and stops with a calibrated float model
   (``_experimental_calibrate_only``): min/max of every tensor recorded.
2. **Quantize many times, cheaply.** ``mlir_quantize`` turns the calibrated model into an integer one
   with a denylist of op names kept float. Trying a denylist costs seconds, not a recalibration.
3. **Family fallback.** Ops whose names match the family's fragile patterns stay float (BERT: the
   whole LayerNorm subgraph).
4. **Measured fallback** (``fallback="auto"``). The family names candidate groups of ops by role
   (BERT: residual adds, attention mask/softmax, attention matmuls, FFN output, GELU, embeddings).
   Each group is kept float alone and the model scored against the Keras model on held-out
   *training* sentences (the validation split stays for the parity gate); the groups that help are
   added greedily in the order of their measured gain, each kept only if it improves the set, until
   ``target_agreement`` is met; the best set tried is kept. The error each op adds (relative error of its output minus that of its
   inputs, float vs quantized run side by side) is recorded as a diagnostic.
5. **Runtime fixes.** An op the quantizer or the runtime refuses is added to the float set and the
   model re-quantized (at most ``_MAX_REPAIRS`` times), recorded in the report.
6. **int16x8** (an accuracy reference: LiteRT's int16 kernels are unaccelerated reference code).
   TF 2.21's one-shot int16x8 converter is not used: on a multi-signature file it gave the second
   signature ~1e34 scales (LiteRT aborts in ADD Prepare) and it asks for min/max of the BiLSTM's int32
   padding mask. Instead the same calibrate-once + ``mlir_quantize(QUANTIZED_INT16)`` path as int8,
   with the file made loadable afterwards (:func:`symmetric_int16`: symmetric int16 tensors, int16
   constants for int16 element-wise ops), calibrated with a few bucket-filling samples
   (:func:`.calibration.filled_samples`) so no unrolled step sees only padding. BERT's LayerNorm stays
   float (its int16 SQUARED_DIFFERENCE is refused by the runtime anyway), the rest is int16x8.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np

from ..errors import EdgekitError
from .calibration import filled_samples
from .compact import compact
from .modes import Converted
from .tflite_file import read_tflite

logger = logging.getLogger(__name__)

_MAX_REPAIRS = 40


class QuantizationError(EdgekitError):
    pass


def calibrate(job, activations: str) -> tuple[bytes, dict]:
    """The float model calibrated on ``job.calibration`` (min/max of every tensor), and facts for the report."""
    import tensorflow as tf

    if job.calibration is None:
        raise QuantizationError("full-integer quantization needs calibration data (none given)")
    conv = tf.lite.TFLiteConverter.from_saved_model(job.saved_model_dir, signature_keys=list(job.signature_keys))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    samples = list(job.calibration.samples)
    facts: dict[str, Any] = {}
    if activations == "int16" or job.fill_calibration:
        filled = filled_samples(samples)
        facts["calibration_filled_samples"] = len(filled)
        samples += filled
    conv.representative_dataset = lambda: iter(samples)
    integer_ops = (tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if activations == "int8"
                   else tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8)
    conv.target_spec.supported_ops = [integer_ops, tf.lite.OpsSet.TFLITE_BUILTINS]
    conv.experimental_mlir_quantizer = True
    conv._experimental_calibrate_only = True  # noqa: SLF001
    return shared_calibration(conv.convert()), facts


# ops that read a constant buffer whose quantized bytes depend on an activation's calibrated range: the
# weighted ops' int32 bias (input scale x weight scale) and GATHER's table (quantized with its output's
# range); position of that activation: (input index, or None for the op's output)
_RANGE_BOUND = {"FULLY_CONNECTED": (1, 0), "CONV_2D": (1, 0), "DEPTHWISE_CONV_2D": (1, 0), "GATHER": (0, None)}


def shared_calibration(calibrated: bytes) -> bytes:
    """One calibrated range per shared constant, so every bucket's signature quantizes it to the same bytes.

    The converter calibrates each signature on its own; a constant that the signatures share is then
    quantized once per signature (a GATHER table with each signature's output range, a bias with each
    signature's input scale) and the file holds one copy per bucket. Widening the activations that decide
    those bytes to their union over the signatures makes the copies identical, and
    :func:`.compact.dedupe_constants` keeps one.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(calibrated))
    names = {i: c.builtinCode for i, c in enumerate(m.operatorCodes)}
    by_code = {getattr(schema.BuiltinOperator, op): spec for op, spec in _RANGE_BOUND.items()}
    bound: dict[int, list] = {}
    for sg in m.subgraphs:
        for op in sg.operators:
            spec = by_code.get(names[op.opcodeIndex])
            if spec is None or len(op.inputs) <= spec[0] or op.inputs[spec[0]] < 0:
                continue
            const = sg.tensors[op.inputs[spec[0]]]
            data = m.buffers[const.buffer].data
            if data is None or len(data) == 0:
                continue
            act = sg.tensors[op.outputs[0] if spec[1] is None else op.inputs[spec[1]]]
            q = act.quantization
            if q is not None and q.min is not None and len(q.min) == 1:
                bound.setdefault(const.buffer, []).append(q)
    for qs in [*bound.values(), *bound.values()]:  # twice: an activation bound to two constants joins both
        low, high = min(float(q.min[0]) for q in qs), max(float(q.max[0]) for q in qs)
        for q in qs:
            q.min, q.max = np.asarray([low], np.float32), np.asarray([high], np.float32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def quantize(calibrated: bytes, activations: str, denylist: list[str], int8_io: bool = False) -> bytes:
    import tensorflow as tf
    from tensorflow.compiler.mlir.lite import types_pb2
    from tensorflow.lite.python import convert

    inference_type = types_pb2.QUANTIZED_INT8 if activations == "int8" else types_pb2.QUANTIZED_INT16
    kwargs: dict[str, Any] = {}
    if int8_io and activations == "int8":
        kwargs = {"fully_quantize": True, "input_data_type": tf.float32, "output_data_type": tf.int8}
    model = convert.mlir_quantize(calibrated, inference_type=inference_type, denylisted_nodes=sorted(denylist),
                                  **kwargs)
    return symmetric_int16(model) if activations == "int16" else within_xnnpack_requantization(model)


# XNNPACK creates an int8 FULLY_CONNECTED / convolution only if input scale x kernel scale / output scale
# (the requantization scale) is below 256; LiteRT's delegate accepts the node and then fails to create
# its runtime, so the whole file does not load ("failed to create XNNPACK runtime").
XNNPACK_MAX_REQUANTIZATION = 256.0
_WIDENED_TO = XNNPACK_MAX_REQUANTIZATION * (1 - 1 / 64)  # a margin for float32 rounding of the new scale
_REQUANTIZED_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")


def requantization_scales(model: bytes) -> list[tuple[int, str, float]]:
    """``(subgraph, output name, requantization scale)`` of every int8 fully-connected / convolution op."""
    return [(g, t.name, ratio) for g, t, ratio in _requantized_outputs(read_tflite(model))]


def within_xnnpack_requantization(model: bytes) -> bytes:
    """Widen every int8 output scale whose requantization scale reaches XNNPACK's limit, to just below it.

    It happens where calibration saw an almost constant output: a backward LSTM's first steps over a
    long bucket read a state that is 0 for every calibration sentence, so its recurrent matmul gets a
    tiny output range. The wider scale (zero point kept) loses nothing the calibration measured — those
    values are a fraction of the consumer's own step — and clips less on inputs longer than any seen.
    A file within the limit is returned as it is.
    """
    over = [(g, t, ratio) for g, t, ratio in _requantized_outputs(read_tflite(model)) if ratio >= _WIDENED_TO]
    if not over:
        return model
    from tensorflow.lite.tools import flatbuffer_utils

    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    for g, t, ratio in over:
        m.subgraphs[g].tensors[t.index].quantization.scale = np.asarray([t.scales[0] * ratio / _WIDENED_TO],
                                                                        np.float32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def _requantized_outputs(info):
    """``(subgraph, output TensorInfo, requantization scale)`` of the int8 ops XNNPACK requantizes."""
    for sg in info.subgraphs:
        for op in sg.ops:
            if op.opcode not in _REQUANTIZED_OPS or len(op.inputs) < 2 or not op.outputs:
                continue
            x, w, y = (sg.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
            if y.dtype == "int8" and x.scales and w.scales and y.scales:
                yield sg.index, y, x.scales[0] * max(w.scales) / y.scales[0]


def symmetric_int16(model: bytes) -> bytes:
    """Make every int16 tensor symmetric (zero point 0), as LiteRT's int16x8 kernels require.

    TF 2.21's ``mlir_quantize`` with ``QUANTIZED_INT16`` gives int16 tensors asymmetric parameters
    (zero point -1 for a symmetric range, -32768 with scale 1/65536 for LOGISTIC outputs), which LiteRT
    rejects (FULLY_CONNECTED: ``zero_point != 0``; LOGISTIC: ``scale == 1/32768``). Fix, keeping scales:
    zero point -1 → 0 (the range loses one step at the top); LOGISTIC outputs → 1/32768, 0; int16
    constants are re-expressed with zero point 0 (exact); any other tensor is rescaled to cover its range.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    m._edgekit_new_buffers = {}  # rewritten constants, de-duplicated by content
    codes = [c.builtinCode for c in m.operatorCodes]
    elementwise = {schema.BuiltinOperator.ADD, schema.BuiltinOperator.SUB, schema.BuiltinOperator.MUL,
                   schema.BuiltinOperator.MAXIMUM, schema.BuiltinOperator.MINIMUM}
    for sg in m.subgraphs:
        producer = {o: codes[op.opcodeIndex] for op in sg.operators for o in op.outputs}
        # an int16 element-wise op with an int8 constant operand (LiteRT: "INT16 != INT8"): the constant
        # is re-expressed in int16 (same values, finer steps)
        for op in sg.operators:
            if codes[op.opcodeIndex] not in elementwise or sg.tensors[op.outputs[0]].type != schema.TensorType.INT16:
                continue
            for i in op.inputs:
                t = sg.tensors[i] if i >= 0 else None
                buf = m.buffers[t.buffer] if t is not None else None
                if t is None or t.type != schema.TensorType.INT8 or buf.data is None or len(buf.data) == 0:
                    continue
                q = t.quantization
                data = np.frombuffer(bytes(buf.data), np.int8).astype(np.float64).reshape(t.shape)
                scales, zps = np.asarray(q.scale, np.float64), np.asarray(q.zeroPoint, np.float64)
                if scales.size > 1:  # per-channel along quantizedDimension
                    shape = [1] * data.ndim
                    shape[q.quantizedDimension] = -1
                    scales, zps = scales.reshape(shape), zps.reshape(shape)
                real = (data - zps) * scales
                scale = max(float(np.max(np.abs(real))), 1e-12) / 32767
                q16 = np.clip(np.round(real / scale), -32767, 32767).astype(np.int16)
                t.buffer = _new_buffer(m, schema, q16)  # buffers may be shared (de-duplicated): never edit in place
                t.type = schema.TensorType.INT16
                q.scale, q.zeroPoint = np.asarray([scale], np.float32), np.zeros(1, np.int64)
                q.quantizedDimension = 0
        for ti, t in enumerate(sg.tensors):
            q = t.quantization
            if t.type != schema.TensorType.INT16 or q is None or q.zeroPoint is None or len(q.zeroPoint) == 0:
                continue
            zp = np.asarray(q.zeroPoint)
            if not np.any(zp != 0):
                continue
            buf = m.buffers[t.buffer]
            if buf.data is not None and len(buf.data) > 0:  # a constant: shift the stored values
                if len(zp) != 1:
                    raise QuantizationError(f"int16 constant {t.name!r} has per-channel zero points")
                data = np.frombuffer(bytes(buf.data), np.int16).astype(np.int32) - int(zp[0])
                t.buffer = _new_buffer(m, schema, np.clip(data, -32768, 32767).astype(np.int16))
            elif producer.get(ti) == schema.BuiltinOperator.LOGISTIC:
                q.scale = np.asarray([1.0 / 32768], np.float32)
            elif np.max(np.abs(zp)) > 1:
                scale = float(q.scale[0])
                lo, hi = scale * (-32768 - int(zp[0])), scale * (32767 - int(zp[0]))
                q.scale = np.asarray([max(abs(lo), abs(hi)) / 32767], np.float32)
            q.zeroPoint = np.zeros_like(zp)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def _new_buffer(m, schema, values: np.ndarray) -> int:
    raw = values.tobytes()
    if raw not in m._edgekit_new_buffers:
        buf = schema.BufferT()
        buf.data = np.frombuffer(raw, np.uint8)
        m.buffers.append(buf)
        m._edgekit_new_buffers[raw] = len(m.buffers) - 1
    return m._edgekit_new_buffers[raw]


_LOC = re.compile(r'loc\("([^"]+)"\)')
_NODE = re.compile(r"Node number (\d+) \((\w+)\) failed to prepare")


def quantize_repairing(calibrated: bytes, activations: str, denylist: set[str], int8_io: bool,
                       repairs: list[str]) -> bytes:
    """Quantize; when the quantizer or the runtime rejects an op, keep that op float and try again."""
    from ai_edge_litert.interpreter import Interpreter

    for _ in range(_MAX_REPAIRS):
        try:
            model = quantize(calibrated, activations, sorted(denylist), int8_io)
        except Exception as exc:  # the MLIR quantizer reports the op by its location name
            names = [n for n in _LOC.findall(str(exc)) if n not in denylist]
            if not names:
                raise QuantizationError(f"{activations} quantization failed: {_first_line(exc)}") from None
            base = names[0]
            denylist.add(base)
            repairs.append(base)
            continue
        info = read_tflite(model)
        bad = None
        try:
            interp = Interpreter(model_content=model)
            interp.allocate_tensors()
        except (RuntimeError, ValueError) as exc:  # subgraph 0 is prepared when the interpreter is built
            bad = _rejected_op(info, 0, exc, activations)
        if bad is None:
            for sig in info.signatures:
                try:  # a signature's subgraph is prepared on its first run
                    runner = interp.get_signature_runner(sig.key)
                    runner(**{k: np.zeros(d["shape"], d["dtype"]) for k, d in runner.get_input_details().items()})
                except (RuntimeError, ValueError) as exc:
                    bad = _rejected_op(info, sig.subgraph, exc, activations)
                    break
        if bad is None:
            return model
        if bad in denylist:
            raise QuantizationError(f"{activations}: runtime rejects {bad} even in float")
        denylist.add(bad)
        repairs.append(bad)
    raise QuantizationError(f"{activations} quantization: more than {_MAX_REPAIRS} ops needed a float fallback")


def _rejected_op(info, subgraph: int, exc: BaseException, activations: str) -> str:
    m = _NODE.search(str(exc))
    if not m:
        raise QuantizationError(f"{activations} model does not load: {_first_line(exc)}") from None
    sg = info.subgraphs[subgraph]
    node = int(m.group(1))
    if "XNNPack" in str(exc) or node >= len(sg.ops):  # a delegate node: no single op to fall back
        raise QuantizationError(f"{activations} model does not load in LiteRT: its XNNPACK delegate failed to "
                                f"prepare the graph") from None
    return sg.tensors[sg.ops[node].outputs[0]].name


def _first_line(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        line = line.strip()
        if line and not line.startswith(("loc(", "<unknown>")):
            return line[:200]
    return type(exc).__name__


def match_patterns(calibrated: bytes, patterns: tuple[str, ...]) -> set[str]:
    names = read_tflite(calibrated).op_output_names()
    return {n for n in names if any(p in n for p in patterns)}


def local_errors(calibrated: bytes, quantized: bytes, samples: list[tuple[str, dict]], max_samples: int = 24
                 ) -> dict[str, float]:
    """Error each quantized op adds, per op output name: rel. error of its output minus the worst input's.

    Both models are run with every intermediate tensor kept; tensors are matched by name (the quantizer
    keeps op names). Relative error = RMS(dequantized - float) / RMS(float), averaged over samples.
    """
    from ai_edge_litert.interpreter import Interpreter

    qinfo = read_tflite(quantized)
    finfo = read_tflite(calibrated)
    by_sig: dict[str, list[dict]] = {}
    for key, feeds in samples:
        by_sig.setdefault(key, []).append(feeds)
    # the signature with the most samples (the sentences' natural lengths)
    key = max(by_sig, key=lambda k: len(by_sig[k]))
    feeds_list = by_sig[key][:max_samples]
    qsig = next(s for s in qinfo.signatures if s.key == key)
    fsig = next(s for s in finfo.signatures if s.key == key)
    qsg, fsg = qinfo.subgraphs[qsig.subgraph], finfo.subgraphs[fsig.subgraph]
    fidx = {t.name: t.index for t in fsg.tensors}
    q_interp = Interpreter(model_content=quantized, experimental_preserve_all_tensors=True)
    f_interp = Interpreter(model_content=calibrated, experimental_preserve_all_tensors=True)
    q_run, f_run = q_interp.get_signature_runner(key), f_interp.get_signature_runner(key)

    sums: dict[str, float] = {}
    for feeds in feeds_list:
        q_run(**feeds)
        f_run(**feeds)
        for op in qsg.ops:
            for out in op.outputs:
                t = qsg.tensors[out]
                if t.name not in fidx or t.dtype not in ("int8", "int16", "float32"):
                    continue
                q = q_interp.get_tensor(out, qsig.subgraph)
                f = f_interp.get_tensor(fidx[t.name], fsig.subgraph)
                if q.shape != f.shape or f.dtype != np.float32:
                    continue
                if t.scales:
                    q = (q.astype(np.float32) - (t.zero_points[0] if t.zero_points else 0)) * t.scales[0] \
                        if len(t.scales) == 1 else q.astype(np.float32)
                denom = float(np.sqrt(np.mean(np.square(f)))) + 1e-8
                sums[t.name] = sums.get(t.name, 0.0) + float(np.sqrt(np.mean(np.square(q - f)))) / denom
    rel = {k: v / len(feeds_list) for k, v in sums.items()}
    added: dict[str, float] = {}
    for op in qsg.ops:
        if op.opcode in ("QUANTIZE", "DEQUANTIZE") or not op.outputs:
            continue
        name = qsg.tensors[op.outputs[0]].name
        if name not in rel:
            continue
        worst_in = max((rel.get(_producer_name(qsg, i), 0.0) for i in op.inputs if i >= 0), default=0.0)
        added[name] = rel[name] - worst_in
    return added


def _producer_name(sg, tensor_index: int) -> str:
    """The float-model name of a tensor (through a QUANTIZE/DEQUANTIZE op when the quantizer added one)."""
    name = sg.tensors[tensor_index].name
    for op in sg.ops:
        if tensor_index in op.outputs and op.opcode in ("QUANTIZE", "DEQUANTIZE") and op.inputs:
            return sg.tensors[op.inputs[0]].name
    return name


def full_integer(job, activations: str) -> Converted:
    calibrated, facts = calibrate(job, activations)
    cal_info = read_tflite(calibrated)
    all_names = cal_info.op_output_names()
    family = match_patterns(calibrated, job.float_fallback_patterns) if job.fallback != "none" else set()
    repairs: list[str] = []
    denylist = set(family)
    model = quantize_repairing(calibrated, activations, denylist, job.int8_io, repairs)
    report: dict[str, Any] = {**facts, "activations": activations, "calibrated_with": job.calibration.summary,
                              "float_fallback": {"family_patterns": list(job.float_fallback_patterns)
                                                 if job.fallback != "none" else [],
                                                 "family_nodes": len(family)}}
    if repairs:
        report["float_fallback"]["runtime_repairs"] = sorted(set(repairs))

    if job.fallback == "auto" and job.evaluate is not None:
        model = _search(job, calibrated, activations, denylist, all_names, model, report, repairs)
    info = read_tflite(model)
    widened = sum(abs(r / _WIDENED_TO - 1) < 1e-4 for *_, r in _requantized_outputs(info))
    if widened:
        report["xnnpack_widened_outputs"] = widened
        logger.debug(f"    {activations}: {widened} output scales widened to XNNPACK's requantization limit")
    report["float_ops"] = info.float_ops()
    model, report["compacted"] = compact(model)
    return Converted(model, report)


def group_members(groups: dict[str, str], names: set[str]) -> dict[str, set[str]]:
    """Op names of every fallback group (a regex over op names), empty groups dropped."""
    out = {}
    for g, pattern in groups.items():
        rx = re.compile(pattern)
        members = {n for n in names if rx.search(n)}
        if members:
            out[g] = members
    return out


def _search(job, calibrated: bytes, activations: str, denylist: set[str], all_names: set[str], model: bytes,
            report: dict, repairs: list[str]) -> bytes:
    """Measured float fallback: each candidate group's effect alone, then the best groups together.

    Every trial is quantized from the same calibration and scored against the Keras model on held-out
    training sentences (never the validation split the gate uses): argmax agreement first, mean |Δlogit|
    to break ties. Groups are added in the order of their measured gain until ``target_agreement``.
    """
    target = job.target_agreement
    ff = report["float_fallback"]
    ff["target_agreement"] = target
    first = job.evaluate(model)
    history = [{"float_groups": [], **first}]
    logger.info(f"    {activations}: family fallback only → agreement {first['argmax_agreement']:.4f} "
                f"(held-out training sentences)")

    def score(res):
        return (res["argmax_agreement"], -res["mean_abs_logit_error"])

    best = (score(first), model, [])
    groups = group_members(job.fallback_groups, all_names - denylist)
    if first["argmax_agreement"] < target and groups:
        # per-op diagnostics: the error each quantized op adds (recorded, not used to choose)
        try:
            added = local_errors(calibrated, model, list(job.calibration.samples))
            ff["measured_op_error_top"] = [{"node": n, "added_rel_error": round(v, 4)} for n, v in
                                           sorted(added.items(), key=lambda kv: -kv[1])[:8]]
        except Exception:  # diagnostics only
            pass
        alone = {}
        for g, members in groups.items():
            trial = quantize_repairing(calibrated, activations, denylist | members, job.int8_io, repairs)
            res = job.evaluate(trial)
            alone[g] = res
            history.append({"float_groups": [g], **res})
            logger.info(f"    {activations}: + {g} float → agreement {res['argmax_agreement']:.4f}, "
                        f"mean |Δlogit| {res['mean_abs_logit_error']:.3f}")
            if score(res) > best[0]:
                best = (score(res), trial, [g])
        ff["group_effect_alone"] = {g: {k: round(v, 4) for k, v in r.items()} for g, r in alone.items()}
        order = [g for g in sorted(alone, key=lambda g: score(alone[g]), reverse=True)
                 if score(alone[g]) > score(first)]
        # greedy, in the order of measured gain: a group joins the float set only if it helps the set
        if best[0][0] < target and len(order) > 1:
            chosen = [order[0]]
            current = score(alone[order[0]])
            for g in order[1:]:
                members = set().union(*(groups[c] for c in chosen + [g]))
                trial = quantize_repairing(calibrated, activations, denylist | members, job.int8_io, repairs)
                res = job.evaluate(trial)
                history.append({"float_groups": chosen + [g], **res})
                logger.info(f"    {activations}: + {', '.join(chosen + [g])} float → agreement "
                            f"{res['argmax_agreement']:.4f}, mean |Δlogit| {res['mean_abs_logit_error']:.3f}")
                if score(res) > current:
                    chosen.append(g)
                    current = score(res)
                    if score(res) > best[0]:
                        best = (score(res), trial, list(chosen))
                    if res["argmax_agreement"] >= target:
                        break
    ff["measured_groups"] = best[2]
    ff["search"] = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in h.items()} for h in history]
    ff["held_out_agreement"] = round(best[0][0], 4)
    return best[1]
