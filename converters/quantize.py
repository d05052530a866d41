"""Full-integer quantization (int8 and int16x8) with a float fallback chosen by rule and by measurement.

1. **Calibrate once.** The converter runs the float model on the representative dataset (real
   training sentences of every bucket, :mod:`.calibration`) and stops with a calibrated float model
   (``_experimental_calibrate_only``): min/max of every tensor recorded.
2. **Quantize many times, cheaply.** ``mlir_quantize`` turns the calibrated model into an integer one
   with a denylist of op names kept float. Trying a denylist costs seconds, not a recalibration.
3. **Family fallback.** Ops whose names match the family's fragile patterns stay float (BERT: the
   whole LayerNorm subgraph).
4. **Measured fallback** (``fallback="auto"``). Run the float (calibrated) model and the quantized one
   side by side on calibration sentences with every intermediate tensor kept, and give each op the
   relative error of its output (RMS(q - f) / RMS(f)) *minus* the largest relative error of its
   inputs: the error that op adds. Ops are denylisted in that order, 0, 2, 4, 8, ... at a time, until
   the quantized model agrees with the Keras model on held-out *training* sentences (the validation
   split stays for the parity gate) at ``target_agreement``; otherwise the best set tried is kept.
5. **Runtime fixes.** int16x8 has converter/runtime gaps (an int16 ADD/MUL with an int8 constant
   operand is rejected): an op the quantizer or the runtime refuses is added to the float set and the
   model re-quantized (at most ``_MAX_REPAIRS`` times), recorded in the report.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import EdgekitError
from .tflite_file import read_tflite

_MAX_REPAIRS = 40
_SEARCH_STEPS = (0, 2, 4, 8, 16, 32, 64)


class QuantizationError(EdgekitError):
    pass


def calibrate(job, activations: str) -> bytes:
    import tensorflow as tf

    if job.representative_dataset is None:
        raise QuantizationError("full-integer quantization needs calibration data (no representative dataset)")
    conv = tf.lite.TFLiteConverter.from_saved_model(job.saved_model_dir, signature_keys=list(job.signature_keys))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = job.representative_dataset
    integer_ops = (tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if activations == "int8"
                   else tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8)
    conv.target_spec.supported_ops = [integer_ops, tf.lite.OpsSet.TFLITE_BUILTINS]
    conv.experimental_mlir_quantizer = True
    conv._experimental_calibrate_only = True  # noqa: SLF001
    return conv.convert()


def quantize(calibrated: bytes, activations: str, denylist: list[str], int8_io: bool = False) -> bytes:
    import tensorflow as tf
    from tensorflow.compiler.mlir.lite import types_pb2
    from tensorflow.lite.python import convert

    inference_type = types_pb2.QUANTIZED_INT8 if activations == "int8" else types_pb2.QUANTIZED_INT16
    kwargs: dict[str, Any] = {}
    if int8_io and activations == "int8":
        kwargs = {"fully_quantize": True, "input_data_type": tf.float32, "output_data_type": tf.int8}
    return convert.mlir_quantize(calibrated, inference_type=inference_type, denylisted_nodes=sorted(denylist),
                                 **kwargs)


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
        interp = Interpreter(model_content=model)
        for sig in info.signatures:
            try:
                interp.get_signature_runner(sig.key)
            except (RuntimeError, ValueError) as exc:
                m = _NODE.search(str(exc))
                if not m:
                    raise QuantizationError(f"{activations} model does not load: {_first_line(exc)}") from None
                op = info.subgraphs[sig.subgraph].ops[int(m.group(1))]
                bad = info.subgraphs[sig.subgraph].tensors[op.outputs[0]].name
                break
        if bad is None:
            return model
        if bad in denylist:
            raise QuantizationError(f"{activations}: runtime rejects {bad} even in float")
        denylist.add(bad)
        repairs.append(bad)
    raise QuantizationError(f"{activations} quantization: more than {_MAX_REPAIRS} ops needed a float fallback")


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


def _all_names_for(base_names: list[str], all_names: set[str]) -> set[str]:
    """A node of one signature and its namesakes in the other signatures (suffixed 1, 2, ...)."""
    out = set()
    for b in base_names:
        out.add(b)
        out.update(n for n in all_names if n.startswith(b) and n[len(b):].isdigit())
    return out


def full_integer(job, activations: str) -> bytes:
    calibrated = calibrate(job, activations)
    all_names = read_tflite(calibrated).op_output_names()
    family = match_patterns(calibrated, job.float_fallback_patterns) if job.fallback != "none" else set()
    repairs: list[str] = []
    denylist = set(family)
    model = quantize_repairing(calibrated, activations, denylist, job.int8_io, repairs)
    report: dict[str, Any] = {"activations": activations, "calibrated_with": job.report.get("calibration"),
                              "float_fallback": {"family_patterns": list(job.float_fallback_patterns)
                                                 if job.fallback != "none" else [],
                                                 "family_nodes": len(family)}}
    if repairs:
        report["float_fallback"]["runtime_repairs"] = sorted(set(repairs))

    if job.fallback == "auto" and job.evaluate is not None:
        target = float(job.report.get("target_agreement", 0.99))
        first = job.evaluate(model)
        history = [{"extra_nodes": 0, **first}]
        job.log(f"  {activations}: family fallback only → agreement {first['argmax_agreement']:.4f} on held-out "
                f"training sentences")
        best = (first["argmax_agreement"], -first["mean_abs_logit_error"], model, [])
        if first["argmax_agreement"] < target:
            samples = job.report.get("_samples") or []
            added = local_errors(calibrated, model, samples)
            ranked = [n for n, _ in sorted(added.items(), key=lambda kv: -kv[1]) if n not in denylist]
            report["float_fallback"]["measured_top"] = [
                {"node": n, "added_rel_error": round(added[n], 4)} for n in ranked[:10]]
            for k in _SEARCH_STEPS[1:]:
                if k > len(ranked):
                    break
                extra = _all_names_for(ranked[:k], all_names)
                trial_deny = set(denylist) | extra
                trial = quantize_repairing(calibrated, activations, trial_deny, job.int8_io, repairs)
                res = job.evaluate(trial)
                history.append({"extra_nodes": k, **res})
                job.log(f"  {activations}: + {k} measured float ops → agreement {res['argmax_agreement']:.4f}")
                score = (res["argmax_agreement"], -res["mean_abs_logit_error"])
                if score > best[:2]:
                    best = (*score, trial, ranked[:k])
                if res["argmax_agreement"] >= target:
                    break
        model = best[2]
        report["float_fallback"]["measured_nodes"] = list(best[3])
        report["float_fallback"]["search"] = history
        report["float_fallback"]["target_agreement"] = target
    info = read_tflite(model)
    report["float_ops"] = info.float_ops()
    job.report.update(report)
    return model
