"""Per-row int8 lookup tables (recipe key ``"per_row_tables": true``) in an int8 file.

ai-edge-quantizer quantizes a GATHER's table as a static int8 activation: **one** scale and zero point for the
whole table (MiniLM's 30,522 × 384 token table spans −0.51 … 1.05: a step of 0.0061, while a row's largest value
is 0.17 on average, a step of 0.0014 on its own), and the GATHER's int8 output must keep that scale. On the FPB
teacher this alone flips 2 of 345 test sentences (agreement 0.9942, every calibration draw) and was the largest
part of the family recipe's error (docs/toolchain.md §7.12).

Here every large constant float table that only GATHER ops read (the recipe leaves it float:
``GATHER no_quantize``) is stored once as int8 with **one symmetric scale per row**, ``s_r = max|row_r| / 127``,
and each such GATHER becomes four builtin ops::

    GATHER(table int8, ids)      -> rows int8           (raw integers: scale 1, zero point 0)
    GATHER(scales [rows, 1], ids) -> row scales float
    DEQUANTIZE(rows)              -> float
    MUL(float, row scales)        -> the original output tensor (its readers are unchanged)

The table and the scales are buffers shared by every bucket signature (one copy), 4 bytes of scale per row
(122 KB for MiniLM) on top of the int8 rows. A row's rounding error is at most ``s_r / 2`` per value, the row's
own step, instead of the table's. Tables below ``min_rows`` rows (BERT's 2-row segment table) stay float: their
bytes do not matter.
"""

from __future__ import annotations

import numpy as np

MIN_ROWS = 128


def _tables(m, schema, min_rows: int) -> dict[int, list[tuple[int, int]]]:
    """Table buffer → [(subgraph, GATHER op index)] for every constant float32 2-D table that only axis-0
    GATHERs read, with at least ``min_rows`` rows."""
    codes = [c.builtinCode for c in m.operatorCodes]
    readers: dict[int, list[tuple[int, int]]] = {}
    other_reads: set[int] = set()
    for si, sg in enumerate(m.subgraphs):
        for oi, op in enumerate(sg.operators):
            for position, index in enumerate(op.inputs if op.inputs is not None else []):
                if index < 0:
                    continue
                tensor = sg.tensors[index]
                data = m.buffers[tensor.buffer].data if tensor.buffer > 0 else None
                if data is None or len(data) == 0:
                    continue
                gather = codes[op.opcodeIndex] == schema.BuiltinOperator.GATHER and position == 0
                axis = getattr(op.builtinOptions, "axis", 0) if gather else None
                if (gather and axis == 0 and tensor.type == schema.TensorType.FLOAT32 and len(tensor.shape) == 2
                        and tensor.shape[0] >= min_rows):
                    readers.setdefault(int(tensor.buffer), []).append((si, oi))
                else:
                    other_reads.add(int(tensor.buffer))
    return {b: uses for b, uses in readers.items() if b not in other_reads}


def _quantization(schema, scale: float = 1.0, zero_point: int = 0):
    q = schema.QuantizationParametersT()
    q.scale, q.zeroPoint, q.quantizedDimension = [scale], [zero_point], 0
    return q


def _tensor(schema, name: bytes, ttype: int, shape, buffer: int = 0, quantization=None):
    t = schema.TensorT()
    t.name, t.type, t.buffer = name, ttype, buffer
    t.shape = np.asarray(shape, np.int32)
    t.quantization = quantization
    return t


def _buffer(m, schema, data: np.ndarray) -> int:
    b = schema.BufferT()
    b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
    m.buffers.append(b)
    return len(m.buffers) - 1


def per_row_table(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``table`` [rows, width] as int8 rows and one float32 scale per row (symmetric, ±127)."""
    top = np.abs(table).max(axis=1)
    scales = np.where(top > 0, top / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(table / scales[:, None]), -127, 127).astype(np.int8)
    return q, scales


def per_row_tables(model: bytes, min_rows: int = MIN_ROWS) -> tuple[bytes, dict]:
    """``model`` (a .tflite, typically int8 by recipe with its tables left float) with every large float lookup
    table stored as per-row int8 (see the module doc); returns the file and facts for the manifest."""
    from ai_edge_litert import schema_py_generated as schema  # type: ignore[import-not-found]

    from .smooth import opcode_index
    from .task_files import inline_buffers, pack_model

    model = inline_buffers(model)
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    tables = _tables(m, schema, min_rows)
    if not tables:
        return model, {"tables": 0}
    gather, dequantize, mul = (opcode_index(m, schema, code) for code in (
        schema.BuiltinOperator.GATHER, schema.BuiltinOperator.DEQUANTIZE, schema.BuiltinOperator.MUL))
    rewrites: dict[int, dict[int, list]] = {}  # subgraph → GATHER op index → the ops that replace it
    facts = []
    for buffer, uses in tables.items():
        first = m.subgraphs[uses[0][0]]
        shape = tuple(int(d) for d in first.tensors[first.operators[uses[0][1]].inputs[0]].shape)
        table = np.frombuffer(bytes(m.buffers[buffer].data), np.float32).reshape(shape)
        q, scales = per_row_table(table)
        err = np.abs(q.astype(np.float32) * scales[:, None] - table)
        m.buffers[buffer].data = np.frombuffer(q.tobytes(), np.uint8)
        scale_buffer = _buffer(m, schema, scales.reshape(-1, 1))
        for si, oi in uses:
            sg = m.subgraphs[si]
            op = sg.operators[oi]
            params, ids = int(op.inputs[0]), int(op.inputs[1])
            table_tensor = sg.tensors[params]
            table_tensor.type, table_tensor.quantization = schema.TensorType.INT8, _quantization(schema)
            out_index = int(op.outputs[0])
            out = sg.tensors[out_index]
            name = out.name
            base = len(sg.tensors)
            row_shape = list(out.shape)
            sg.tensors.extend([
                _tensor(schema, name + b"/rows_int8", schema.TensorType.INT8, row_shape,
                        quantization=_quantization(schema)),
                _tensor(schema, table_tensor.name + b"/row_scales", schema.TensorType.FLOAT32, [shape[0], 1],
                        scale_buffer),
                _tensor(schema, name + b"/row_scale", schema.TensorType.FLOAT32, row_shape[:-1] + [1]),
                _tensor(schema, name + b"/rows_float", schema.TensorType.FLOAT32, row_shape),
            ])
            rows8, scale_table, row_scale, rows_float = range(base, base + 4)
            op.outputs = np.asarray([rows8], np.int32)
            gather_scales = schema.OperatorT()
            gather_scales.opcodeIndex, gather_scales.inputs = gather, np.asarray([scale_table, ids], np.int32)
            gather_scales.outputs = np.asarray([row_scale], np.int32)
            gather_scales.builtinOptionsType, gather_scales.builtinOptions = op.builtinOptionsType, op.builtinOptions
            deq = schema.OperatorT()
            deq.opcodeIndex, deq.inputs, deq.outputs = dequantize, np.asarray([rows8], np.int32), \
                np.asarray([rows_float], np.int32)
            deq.builtinOptionsType, deq.builtinOptions = schema.BuiltinOptions.DequantizeOptions, \
                schema.DequantizeOptionsT()
            scale = schema.OperatorT()
            scale.opcodeIndex, scale.inputs = mul, np.asarray([rows_float, row_scale], np.int32)
            scale.outputs = np.asarray([out_index], np.int32)
            scale.builtinOptionsType, scale.builtinOptions = schema.BuiltinOptions.MulOptions, schema.MulOptionsT()
            rewrites.setdefault(si, {})[oi] = [op, gather_scales, deq, scale]
        facts.append({"rows": shape[0], "width": shape[1], "max_abs_error": float(err.max()),
                      "mean_abs_error": float(err.mean())})
    for si, by_op in rewrites.items():
        sg = m.subgraphs[si]
        sg.operators = [new for oi, op in enumerate(sg.operators) for new in by_op.get(oi, [op])]
    return pack_model(m, len(model)), {"tables": facts}

