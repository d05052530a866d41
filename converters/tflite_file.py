"""Read a .tflite flatbuffer without TensorFlow: subgraphs, signatures, tensors, quantization, op histogram.

Uses the schema module that ships with ai-edge-litert (``ai_edge_litert.schema_py_generated``) and the
``flatbuffers`` package, so ``edgekit inspect`` works on a device-class install. A file that is not a
TFLite model, or is cut short, raises :class:`TFLiteFileError` (one line, no traceback).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EdgekitError

FILE_IDENTIFIER = b"TFL3"

# TensorType enum → numpy-ish dtype name
_TYPE_NAMES = {
    0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool", 7: "int16",
    8: "complex64", 9: "int8", 10: "float64", 11: "complex128", 12: "uint64", 13: "resource", 14: "variant",
    15: "uint32", 16: "uint16", 17: "int4",
}
FLOAT_TYPES = {"float32", "float16", "float64"}
# Ops that move or reshape data or are helpers around integer ids: a float tensor through them is not
# "float compute left in an int8 model".
_NON_COMPUTE_OPS = {"QUANTIZE", "DEQUANTIZE", "RESHAPE", "GATHER", "CAST", "STRIDED_SLICE", "SLICE", "SHAPE",
                    "PACK", "UNPACK", "CONCATENATION", "TRANSPOSE", "SQUEEZE", "EXPAND_DIMS", "LESS", "SELECT",
                    "SELECT_V2", "NEG", "ADD_N", "FILL", "ZEROS_LIKE", "ONES_LIKE", "BROADCAST_TO", "SPLIT",
                    "SPLIT_V", "WHERE", "EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "RANGE"}


class TFLiteFileError(EdgekitError):
    """A file that is not a readable TFLite model."""


@dataclass
class TensorInfo:
    index: int
    name: str
    dtype: str
    shape: list[int]
    shape_signature: list[int]
    scales: list[float] = field(default_factory=list)
    zero_points: list[int] = field(default_factory=list)
    quantized_dimension: int = 0
    is_constant: bool = False
    buffer: int = 0

    def to_dict(self, short: bool = True) -> dict:
        d: dict[str, Any] = {"name": self.name, "dtype": self.dtype, "shape": self.shape,
                             "shape_signature": self.shape_signature}
        if self.scales:
            if short and len(self.scales) > 4:
                d["quantization"] = {"per_channel": len(self.scales), "axis": self.quantized_dimension,
                                     "scale_min": float(min(self.scales)), "scale_max": float(max(self.scales))}
            else:
                d["quantization"] = {"scale": self.scales if len(self.scales) > 1 else self.scales[0],
                                     "zero_point": self.zero_points if len(self.zero_points) > 1
                                     else (self.zero_points[0] if self.zero_points else 0)}
        return d


@dataclass
class OpInfo:
    opcode: str
    version: int
    inputs: list[int]
    outputs: list[int]


@dataclass
class SubgraphInfo:
    index: int
    name: str
    tensors: list[TensorInfo]
    ops: list[OpInfo]
    inputs: list[int]
    outputs: list[int]


@dataclass
class SignatureInfo:
    key: str
    subgraph: int
    inputs: dict[str, int]  # signature name → tensor index in its subgraph
    outputs: dict[str, int]


@dataclass
class TFLiteModelInfo:
    path: str | None
    size: int
    version: int
    description: str
    subgraphs: list[SubgraphInfo]
    signatures: list[SignatureInfo]
    metadata: dict[str, int]  # metadata name → buffer size in bytes
    min_runtime_version: str | None
    buffer_sizes: list[int] = field(default_factory=list)

    def weight_sharing(self) -> dict:
        """Constant bytes, and how much of them sits in buffers used by more than one subgraph."""
        users: dict[int, set[int]] = {}
        for sg in self.subgraphs:
            for t in sg.tensors:
                if t.is_constant:
                    users.setdefault(t.buffer, set()).add(sg.index)
        total = sum(self.buffer_sizes[b] for b in users)
        shared = sum(self.buffer_sizes[b] for b, u in users.items() if len(u) > 1)
        return {"constant_bytes": total, "shared_bytes": shared,
                "shared_fraction": round(shared / total, 4) if total else 0.0}

    # ------------------------------------------------------------------ derived views
    def op_histogram(self) -> dict[str, int]:
        c = Counter(op.opcode for sg in self.subgraphs for op in sg.ops)
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    def op_versions(self) -> dict[str, list[int]]:
        out: dict[str, set[int]] = {}
        for sg in self.subgraphs:
            for op in sg.ops:
                out.setdefault(op.opcode, set()).add(op.version)
        return {k: sorted(v) for k, v in sorted(out.items())}

    def is_quantized(self) -> bool:
        """True when some op computes on int8/int16 activations (a full-integer or int16x8 file)."""
        for sg in self.subgraphs:
            for op in sg.ops:
                if op.opcode in _NON_COMPUTE_OPS or not op.outputs:
                    continue
                t = sg.tensors[op.outputs[0]]
                if t.dtype in ("int8", "int16") and not t.is_constant:
                    return True
        return False

    def float_ops(self) -> dict[str, int]:
        """Compute ops with a float output: in a quantized file these are the float fallbacks."""
        c: Counter = Counter()
        for sg in self.subgraphs:
            for op in sg.ops:
                if op.opcode in _NON_COMPUTE_OPS or not op.outputs:
                    continue
                if sg.tensors[op.outputs[0]].dtype in FLOAT_TYPES:
                    c[op.opcode] += 1
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    def float_op_names(self) -> list[str]:
        names = []
        for sg in self.subgraphs:
            for op in sg.ops:
                if op.opcode in _NON_COMPUTE_OPS or not op.outputs:
                    continue
                t = sg.tensors[op.outputs[0]]
                if t.dtype in FLOAT_TYPES:
                    names.append(t.name)
        return names

    def op_output_names(self) -> set[str]:
        """Names of every op's output tensors in every subgraph (what a denylist of nodes matches)."""
        return {sg.tensors[i].name for sg in self.subgraphs for op in sg.ops for i in op.outputs if i >= 0}

    def signature_io(self, sig: SignatureInfo) -> tuple[dict[str, TensorInfo], dict[str, TensorInfo]]:
        sg = self.subgraphs[sig.subgraph]
        return ({k: sg.tensors[i] for k, i in sig.inputs.items()}, {k: sg.tensors[i] for k, i in sig.outputs.items()})


def _fail(path: str | None, why: str) -> TFLiteFileError:
    where = path or "model bytes"
    return TFLiteFileError(f"{where}: not a readable TFLite model ({why}); corrupt or truncated copy?")


def read_tflite(source: str | Path | bytes) -> TFLiteModelInfo:
    """Parse a .tflite file (path or bytes) into plain Python objects."""
    try:
        from ai_edge_litert import schema_py_generated as schema  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - TF ships the same module
        from tensorflow.lite.python import schema_py_generated as schema  # type: ignore[no-redef]

    path = None
    if isinstance(source, (str, Path)):
        path = str(source)
        p = Path(source)
        if not p.is_file():
            raise TFLiteFileError(f"file not found: {p}")
        buf = p.read_bytes()
    else:
        buf = bytes(source)
    if len(buf) < 8:
        raise _fail(path, f"only {len(buf)} bytes")
    if buf[4:8] != FILE_IDENTIFIER:
        raise _fail(path, "no TFL3 file identifier")
    try:
        return _parse(schema, buf, path)
    except TFLiteFileError:
        raise
    except Exception as exc:  # flatbuffers raises struct.error / IndexError / ... on a damaged buffer
        raise _fail(path, f"{type(exc).__name__} while parsing") from None


def _opcode_names(schema) -> dict[int, str]:
    return {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def _parse(schema, buf: bytes, path: str | None) -> TFLiteModelInfo:
    model = schema.Model.GetRootAs(buf, 0)
    names = _opcode_names(schema)
    opcodes = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        name = names.get(code, f"OP_{code}")
        if name == "CUSTOM":
            name = "CUSTOM:" + (oc.CustomCode() or b"?").decode("utf-8", "replace")
        opcodes.append((name, int(oc.Version())))

    n_buffers = model.BuffersLength()
    buffer_sizes = []
    for i in range(n_buffers):
        b = model.Buffers(i)
        size = b.DataLength() if b.DataLength() else int(b.Size())
        if b.DataLength() == 0 and int(b.Offset()) > 0:
            if int(b.Offset()) + int(b.Size()) > len(buf):
                raise _fail(path, "a weight buffer points past the end of the file")
        buffer_sizes.append(size)

    subgraphs = []
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        tensors = []
        for t in range(sg.TensorsLength()):
            ten = sg.Tensors(t)
            q = ten.Quantization()
            scales, zps, qdim = [], [], 0
            if q is not None and q.ScaleLength():
                scales = [float(v) for v in q.ScaleAsNumpy()]
                zps = [int(v) for v in q.ZeroPointAsNumpy()] if q.ZeroPointLength() else []
                qdim = int(q.QuantizedDimension())
            shape = [int(v) for v in ten.ShapeAsNumpy()] if ten.ShapeLength() else []
            sig = [int(v) for v in ten.ShapeSignatureAsNumpy()] if ten.ShapeSignatureLength() else list(shape)
            bidx = int(ten.Buffer())
            tensors.append(TensorInfo(
                index=t, name=(ten.Name() or b"").decode("utf-8", "replace"),
                dtype=_TYPE_NAMES.get(int(ten.Type()), f"type{int(ten.Type())}"), shape=shape, shape_signature=sig,
                scales=scales, zero_points=zps, quantized_dimension=qdim,
                is_constant=0 < bidx < n_buffers and buffer_sizes[bidx] > 0, buffer=bidx))
        ops = []
        for o in range(sg.OperatorsLength()):
            op = sg.Operators(o)
            name, version = opcodes[int(op.OpcodeIndex())]
            ops.append(OpInfo(name, version,
                              [int(v) for v in op.InputsAsNumpy()] if op.InputsLength() else [],
                              [int(v) for v in op.OutputsAsNumpy()] if op.OutputsLength() else []))
        subgraphs.append(SubgraphInfo(
            index=s, name=(sg.Name() or b"").decode("utf-8", "replace"), tensors=tensors, ops=ops,
            inputs=[int(v) for v in sg.InputsAsNumpy()] if sg.InputsLength() else [],
            outputs=[int(v) for v in sg.OutputsAsNumpy()] if sg.OutputsLength() else []))

    signatures = []
    for i in range(model.SignatureDefsLength()):
        sd = model.SignatureDefs(i)
        ins = {sd.Inputs(j).Name().decode(): int(sd.Inputs(j).TensorIndex()) for j in range(sd.InputsLength())}
        outs = {sd.Outputs(j).Name().decode(): int(sd.Outputs(j).TensorIndex()) for j in range(sd.OutputsLength())}
        signatures.append(SignatureInfo((sd.SignatureKey() or b"").decode(), int(sd.SubgraphIndex()), ins, outs))

    metadata: dict[str, int] = {}
    min_runtime = None
    for i in range(model.MetadataLength()):
        md = model.Metadata(i)
        mname = (md.Name() or b"").decode("utf-8", "replace")
        bidx = int(md.Buffer())
        metadata[mname] = buffer_sizes[bidx] if bidx < n_buffers else 0
        if mname == "min_runtime_version" and bidx < n_buffers:
            data = model.Buffers(bidx).DataAsNumpy()
            if isinstance(data, np.ndarray):
                min_runtime = bytes(data).split(b"\0")[0].decode("ascii", "replace") or None
    return TFLiteModelInfo(path=path, size=len(buf), version=int(model.Version()),
                           description=(model.Description() or b"").decode("utf-8", "replace"),
                           subgraphs=subgraphs, signatures=signatures, metadata=metadata,
                           min_runtime_version=min_runtime, buffer_sizes=buffer_sizes)


def describe(info: TFLiteModelInfo) -> dict:
    """A JSON-ready summary: what ``edgekit inspect`` prints."""
    sigs = []
    for sig in info.signatures:
        ins, outs = info.signature_io(sig)
        sigs.append({"key": sig.key, "subgraph": sig.subgraph,
                     "inputs": {k: t.to_dict() for k, t in ins.items()},
                     "outputs": {k: t.to_dict() for k, t in outs.items()}})
    if not sigs:  # a file without signature defs: describe subgraph 0's inputs/outputs
        for sg in info.subgraphs[:1]:
            sigs.append({"key": None, "subgraph": 0,
                         "inputs": {sg.tensors[i].name: sg.tensors[i].to_dict() for i in sg.inputs},
                         "outputs": {sg.tensors[i].name: sg.tensors[i].to_dict() for i in sg.outputs}})
    quantized = info.is_quantized()
    return {
        "file": info.path,
        "bytes": info.size,
        "schema_version": info.version,
        "min_runtime_version": info.min_runtime_version,
        "subgraphs": len(info.subgraphs),
        "signatures": sigs,
        "ops": sum(len(sg.ops) for sg in info.subgraphs),
        "op_histogram": info.op_histogram(),
        "op_versions": info.op_versions(),
        "quantized_activations": quantized,
        "float_ops": info.float_ops() if quantized else None,
        "metadata": info.metadata,
        "weights": info.weight_sharing(),
    }
