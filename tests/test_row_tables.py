"""Per-row int8 lookup tables (converters/row_tables.py, recipe key "per_row_tables"): the token table is stored
once as int8 rows with one scale each, every bucket signature reads it through GATHER → DEQUANTIZE → MUL, the
embedding output equals the per-row dequantized table exactly, and its error is far below the quantizer's
one-scale-per-table GATHER."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("ai_edge_quantizer")

GATHER_FLOAT = {"regex": ".*", "operation": "GATHER", "algorithm_key": "no_quantize"}


def test_per_row_rounding_by_hand():
    from edgekit.converters.row_tables import per_row_table

    table = np.asarray([[0.5, -0.25, 0.1], [0.0, 0.0, 0.0], [-2.54, 1.0, 0.02]], np.float32)
    q, scales = per_row_table(table)
    assert q.dtype == np.int8 and scales.dtype == np.float32
    np.testing.assert_allclose(scales, [0.5 / 127, 1.0, 2.54 / 127], rtol=1e-6)
    assert q[0].tolist() == [127, -64, 25] and q[1].tolist() == [0, 0, 0] and q[2].tolist() == [-127, 50, 1]
    assert (np.abs(q * scales[:, None] - table) <= scales[:, None] / 2 + 1e-7).all()


@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny_teacher_dir, default_splits):
    """The tiny teacher's 2-bucket fp32 file, its calibration samples, and its int8 files by the family recipe
    (the quantizer's one-scale table) and with the per-row table."""
    from edgekit.converters.calibration import calibration_samples
    from edgekit.converters.convert import ConvertOptions, convert_model_dir
    from edgekit.converters.recipes import load_recipe, quantize_with_recipe
    from edgekit.runtime.bundle import Bundle

    out = tmp_path_factory.mktemp("rows") / "bundle"
    convert_model_dir(tiny_teacher_dir, out, default_splits, ConvertOptions(modes=["fp32"], buckets=[16, 32],
                                                                             metadata=False), progress=False)
    bundle = Bundle.open(out)
    fp32 = bundle.model_file("fp32").read_bytes()
    samples, _ = calibration_samples(default_splits.train.texts, bundle.tokenizer, bundle.buckets, 40)
    family = load_recipe("int8_small")
    one_scale, _ = quantize_with_recipe(fp32, family, samples)
    rows, facts = quantize_with_recipe(fp32, replace(family, rules=family.rules + [GATHER_FLOAT],
                                                     per_row_tables=True), samples)
    return fp32, one_scale, rows, facts, samples


def _token_table(info):
    return [t for sg in info.subgraphs for t in sg.tensors if t.is_constant and t.shape[:1] == [30522]]


def test_the_table_is_stored_once_as_int8_rows_with_a_scale_each(files):
    from edgekit.converters.tflite_file import read_tflite

    fp32, _, rows, facts, _ = files
    info = read_tflite(rows)
    tables = _token_table(info)
    assert {t.dtype for t in tables} == {"int8", "float32"}
    assert len({t.buffer for t in tables if t.dtype == "int8"}) == 1  # one copy for both signatures
    assert len({t.buffer for t in tables if t.dtype == "float32"}) == 1
    assert {tuple(t.shape) for t in tables if t.dtype == "float32"} == {(30522, 1)}
    assert facts["per_row_tables"]["tables"][0]["rows"] == 30522
    for sg in info.subgraphs:  # every signature: GATHER int8 rows, GATHER scales, DEQUANTIZE, MUL
        ops = [op.opcode for op in sg.ops]
        start = next(i for i, op in enumerate(sg.ops) if op.opcode == "GATHER"
                     and sg.tensors[op.inputs[0]].dtype == "int8")
        assert ops[start:start + 4] == ["GATHER", "GATHER", "DEQUANTIZE", "MUL"]
    # int8 rows: a quarter of the float table's bytes, plus 4 bytes a row
    table_bytes = 30522 * tables[0].shape[1]
    assert len(fp32) - len(rows) > 0.7 * 3 * table_bytes


def _embedding_outputs(model: bytes, samples) -> list[np.ndarray]:
    """The token embedding lookup's float output (the tensor the embeddings' ADD reads), per sample."""
    from edgekit.converters.ranges import preserved_runs
    from edgekit.converters.tflite_file import read_tflite

    info = read_tflite(model)
    out = []
    for subgraph, read in preserved_runs(model, samples):
        sg = info.subgraphs[subgraph]
        add = next(op for op in sg.ops if op.opcode == "ADD" and "embeddings_add" in sg.tensors[op.outputs[0]].name)
        out.append(np.asarray(read(add.inputs[0]), np.float32))
    return out


def test_the_lookup_is_the_table_dequantized_row_by_row(files, tiny_teacher_dir):
    from edgekit.converters.row_tables import per_row_table
    from edgekit.models.modeldir import load_model_dir

    fp32, one_scale, rows, _, samples = files
    model = load_model_dir(tiny_teacher_dir)
    table = next(w for w in model.model.weights if "token_embedding" in w.path).numpy()
    q, scales = per_row_table(table)
    exact = q.astype(np.float32) * scales[:, None]
    some = samples[:8]
    got = _embedding_outputs(rows, some)
    for (_, feeds), emb in zip(some, got):
        ids = np.asarray(feeds["ids"]).reshape(-1)
        np.testing.assert_allclose(emb.reshape(-1, table.shape[1]), exact[ids], rtol=0, atol=1e-7)
    # against the float lookup, the per-row table's error is far below the quantizer's one scale per table
    ref = _embedding_outputs(fp32, some)
    err_rows = np.mean([np.abs(a - r).mean() for a, r in zip(got, ref)])
    err_one = np.mean([np.abs(a - r).mean() for a, r in zip(_embedding_outputs(one_scale, some), ref)])
    assert err_rows < 0.5 * err_one, (err_rows, err_one)


def test_small_tables_stay_float_and_a_file_without_tables_is_unchanged(files):
    from edgekit.converters.row_tables import per_row_tables
    from edgekit.converters.tflite_file import read_tflite

    fp32, _, _, _, _ = files
    rewritten, facts = per_row_tables(fp32, min_rows=10 ** 6)
    assert facts == {"tables": 0} and read_tflite(rewritten).op_histogram() == read_tflite(fp32).op_histogram()
    segment = [t for sg in read_tflite(per_row_tables(fp32)[0]).subgraphs for t in sg.tensors
               if t.is_constant and t.shape[:1] == [2] and len(t.shape) == 2]
    assert segment and {t.dtype for t in segment} == {"float32"}
