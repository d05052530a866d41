"""Per-op time profile of one signature of a .tflite file (``edgekit inspect --profile``), measured here.

LiteRT's own op profiler lives in its C++ benchmark tool, which no Python package ships (docs/toolchain.md
§3.9). This measures the ops instead: for every distinct operator configuration of the signature (op, version,
options, tensor shapes, types and quantization, constant inputs), a file holding **K copies of that one op**,
all reading the same inputs, is built from the original flatbuffer (constants included) and timed in the
interpreter at the given threads, next to a file holding one copy. The difference of the two medians over K − 1
is the op's own cost: the interpreter's per-invoke overhead, which for an element-wise op on a [1, 128] tensor
is ten times the op, cancels. Delegation is the runtime's default (XNNPACK where it takes the op), as in the
whole file. Every op of the signature is costed by its configuration and the costs summed by op type.

What this cannot see: fusion and memory traffic between neighbouring ops, and a delegate's partitioning of
the whole graph. The sum of the op costs is therefore printed beside the whole signature's own median time;
a sum well below it means the time goes to what happens between the ops.
"""

from __future__ import annotations

import copy
import hashlib
import statistics
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import EdgekitError

COPIES = 64


def _schema():
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    return schema, flatbuffer_utils


def _buffer_bytes(m, index: int) -> bytes | None:
    """A constant's bytes (the file's buffers are inlined first: :func:`.task_files.inline_buffers`)."""
    if index <= 0 or index >= len(m.buffers):
        return None
    b = m.buffers[index]
    return bytes(b.data) if b.data is not None and len(b.data) else None


def _tensor_key(t, data: bytes | None) -> tuple:
    q = t.quantization
    qkey = None if q is None or q.scale is None else (tuple(np.asarray(q.scale).round(12).tolist()),
                                                      tuple(np.asarray(q.zeroPoint).tolist()), q.quantizedDimension)
    return (tuple(np.asarray(t.shape).tolist()) if t.shape is not None else (), int(t.type), qkey,
            None if data is None else hashlib.sha1(data).hexdigest())


def _op_key(m, sg, op, names: dict) -> tuple:
    code = m.operatorCodes[op.opcodeIndex]
    ins = tuple(None if i < 0 else _tensor_key(sg.tensors[i], _buffer_bytes(m, sg.tensors[i].buffer))
                for i in op.inputs)
    outs = tuple(_tensor_key(sg.tensors[o], None) for o in op.outputs)
    return (names[max(code.builtinCode, code.deprecatedBuiltinCode)], code.version, repr(vars(op.builtinOptions))
            if op.builtinOptions is not None else None, ins, outs)


def _copies_model(schema, flatbuffer_utils, m, sg, op, copies: int) -> bytes:
    """A file whose one subgraph runs ``copies`` copies of ``op`` on the same inputs."""
    new = schema.ModelT()
    new.version = m.version
    new.operatorCodes = [m.operatorCodes[op.opcodeIndex]]
    new.buffers = [schema.BufferT()]
    tensors, index, inputs = [], {}, []

    def tensor(i: int, fresh: bool = False) -> int:
        if i < 0:
            return -1
        if i in index and not fresh:
            return index[i]
        t = copy.deepcopy(sg.tensors[i])
        data = _buffer_bytes(m, t.buffer)
        t.buffer = 0
        if data is not None:
            b = schema.BufferT()
            b.data = np.frombuffer(data, np.uint8)
            new.buffers.append(b)
            t.buffer = len(new.buffers) - 1
        t.isVariable = False
        tensors.append(t)
        if not fresh:
            index[i] = len(tensors) - 1
            if data is None:
                inputs.append(index[i])
        return len(tensors) - 1

    op_inputs = [tensor(i) for i in op.inputs]
    operators, outputs = [], []
    for _ in range(copies):
        o = copy.deepcopy(op)
        o.opcodeIndex = 0
        o.inputs = op_inputs
        o.outputs = [tensor(i, fresh=True) for i in op.outputs]
        outputs += o.outputs
        operators.append(o)
    g = schema.SubGraphT()
    g.tensors, g.operators, g.inputs, g.outputs = tensors, operators, inputs, outputs
    new.subgraphs = [g]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(new))


def _median_us(run, runs: int, warmup: int) -> float:
    """Median µs of ``run()`` over ``runs`` timed calls after ``warmup`` untimed ones (the first among them)."""
    from ..runtime.measure import measure_repeated

    _, times = measure_repeated(lambda _: run(), None, runs, warmup - 1)
    return statistics.median(times) * 1e3


def _median_invoke_us(model: bytes, threads: int, runs: int, warmup: int) -> float:
    from ..runtime.interpreters import select_runtime

    interp = select_runtime().interpreter_cls(model_content=model, num_threads=threads)
    interp.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in interp.get_input_details():
        dtype = np.dtype(d["dtype"])
        # integers 0 (a valid index for GATHER and friends); floats from a unit normal
        value = (rng.standard_normal(d["shape"]).astype(dtype) if dtype.kind == "f" else np.zeros(d["shape"], dtype))
        interp.set_tensor(d["index"], value)
    return _median_us(interp.invoke, runs, warmup)


def profile_signature(path: str | Path, signature: str | None = None, threads: int = 1, runs: int = 200,
                      warmup: int = 20, copies: int = COPIES) -> dict:
    """Per-op-type cost of ``signature`` (default: the file's first) in µs per invoke, and the whole signature's."""
    from .task_files import inline_buffers

    schema, flatbuffer_utils = _schema()
    raw = inline_buffers(Path(path).read_bytes())  # weights stored past the flatbuffer, as constants of the copies
    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(raw))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    sigs = {sd.signatureKey.decode(): sd.subgraphIndex for sd in (m.signatureDefs or [])}
    if signature is None:
        signature = next(iter(sigs), None)
    if signature not in sigs:
        raise EdgekitError(f"{path}: no signature {signature!r} to profile (has {', '.join(sigs) or 'none'})")
    sg = m.subgraphs[sigs[signature]]
    groups: dict[tuple, list] = {}
    for op in sg.operators:
        groups.setdefault(_op_key(m, sg, op, names), []).append(op)
    rows: Counter = Counter()
    counts: Counter = Counter()
    unprofiled: Counter = Counter()
    for key, ops in groups.items():
        name = key[0]
        counts[name] += len(ops)
        try:
            one = _median_invoke_us(_copies_model(schema, flatbuffer_utils, m, sg, ops[0], 1), threads, runs, warmup)
            many = _median_invoke_us(_copies_model(schema, flatbuffer_utils, m, sg, ops[0], copies), threads, runs,
                                     warmup)
        except (ValueError, RuntimeError):  # an op that cannot stand alone (control flow, variables, ...)
            unprofiled[name] += len(ops)
            continue
        rows[name] += max(0.0, (many - one) / (copies - 1)) * len(ops)
    whole = _whole_signature_us(raw, signature, threads, runs, warmup)
    total = sum(rows.values())
    table = [{"op": name, "count": counts[name], "us": round(us, 2), "share": round(us / total, 4) if total else 0.0,
              "us_per_op": round(us / (counts[name] - unprofiled[name]), 3)}
             for name, us in rows.most_common()]
    return {"file": str(path), "signature": signature, "threads": threads, "ops": len(sg.operators),
            "configurations": len(groups), "copies": copies, "ops_sum_us": round(total, 1),
            "signature_us": round(whole, 1), "by_op": table,
            "unprofiled": dict(unprofiled)}


def _whole_signature_us(raw: bytes, signature: str, threads: int, runs: int, warmup: int) -> float:
    from ..runtime.interpreters import select_runtime

    interp = select_runtime().interpreter_cls(model_content=raw, num_threads=threads)
    runner = interp.get_signature_runner(signature)
    feeds = {name: np.ones(d["shape"], np.dtype(d["dtype"])) for name, d in runner.get_input_details().items()}
    return _median_us(lambda: runner(**feeds), runs, warmup)


def render(profile: dict, top: int = 12) -> str:
    lines = [f"  profile of {profile['signature']} ({profile['threads']} thread(s), {profile['ops']} ops in "
             f"{profile['configurations']} configurations, each timed as {profile['copies']} copies vs 1):"]
    for row in profile["by_op"][:top]:
        lines.append(f"    {row['op']:<22} ×{row['count']:<5} {row['us']:>9.1f} µs  {row['share']:>6.1%}  "
                     f"({row['us_per_op']:.3f} µs each)")
    lines.append(f"    sum of the ops {profile['ops_sum_us']:.1f} µs; the whole signature {profile['signature_us']:.1f} µs "
                 "per invoke (the difference: between-op work, partitioning, the call itself)")
    if profile["unprofiled"]:
        lines.append("    not profiled (cannot stand alone): " + ", ".join(f"{k}×{v}" for k, v in
                                                                             profile["unprofiled"].items()))
    return "\n".join(lines)
