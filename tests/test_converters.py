"""Converters: real conversions (tiny BERT and BiLSTM in every mode including int16x8, the MiniLM teacher in fp32 and dynamic
int8), fixed [1, L] signatures per bucket, parity gates, manifest contents, metadata, and the CLI's one-line
errors. No mocks: every file here is produced by TensorFlow's converter and run by LiteRT."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgekit.errors import EdgekitError

ALL_MODES = ["fp32", "fp16", "dynamic_int8", "int8", "int16x8"]
TINY_BUCKETS = [16, 32]
# A fully fine-tuned teacher to test instead of the session's briefly fine-tuned MiniLM (optional).
TEACHER_DIR = os.environ.get("EDGEKIT_TEST_TEACHER")


def _convert(model_dir, out, splits, **kw):
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    opts = ConvertOptions(**{"calibration_samples": 60, "search_samples": 120, **kw})
    return convert_model_dir(model_dir, out, splits, opts, progress=False)


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory, tiny_teacher_dir, default_splits):
    out = tmp_path_factory.mktemp("bundles") / "tiny"
    manifest = _convert(tiny_teacher_dir, out, default_splits, modes=ALL_MODES, buckets=TINY_BUCKETS,
                        metadata_length=32)
    return out, manifest


@pytest.fixture(scope="session")
def bilstm_dir(tmp_path_factory, default_splits, tokenizer, vocab_path):
    """A small BiLSTM student trained for a few epochs on the default data (the real family)."""
    return _train_bilstm(tmp_path_factory.mktemp("models") / "tiny-bilstm", default_splits, tokenizer)


def _train_bilstm(out: Path, default_splits, tokenizer, epochs: int = 4, **overrides) -> Path:
    from edgekit.models.modeldir import save_model_dir
    from edgekit.models.registry import get_family
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import TrainConfig, fit

    family = get_family("bilstm")
    labels = default_splits.train.labels
    config = {"vocabulary_size": len(tokenizer.vocab), "embedding_dim": 32, "lstm_units": 32, "dropout": 0.1,
              "num_classes": len(labels), **overrides}
    model = family.build(config)

    def enc(ds):
        return (encode_texts(tokenizer, [e.text for e in ds.examples], 64),
                np.array([labels.index(e.label) for e in ds.examples]))

    (tr, ytr), (va, yva) = enc(default_splits.train), enc(default_splits.validation)
    fit(model, tr, ytr, va, yva, labels, TrainConfig(epochs=epochs, learning_rate=5e-3, batch_size=32, patience=6),
        progress=False)
    save_model_dir(out, model=model, family="bilstm", config=config, labels=labels, vocab=tokenizer.vocab,
                   tokenizer_settings=tokenizer.settings, max_length=64,
                   extra_meta={"data": {"dataset": default_splits.info.get("dataset"),
                                        "sha256": default_splits.info.get("sha256")}})
    return out


def _check_fixed_signatures(path: Path, buckets: list[int], output_dtype: str = "float32"):
    from edgekit.converters.tflite_file import read_tflite

    info = read_tflite(path)
    assert [s.key for s in info.signatures] == [f"seq{L}" for L in buckets]
    for sig in info.signatures:
        L = int(sig.key[3:])
        ins, outs = info.signature_io(sig)
        assert sorted(ins) == ["ids", "mask", "segment_ids"]
        for name, t in ins.items():
            assert t.dtype == "int32", (path.name, sig.key, name, t.dtype)
            assert t.shape == [1, L] and t.shape_signature == [1, L], (path.name, sig.key, name, t.shape,
                                                                        t.shape_signature)
        (out,) = outs.values()
        assert out.dtype == output_dtype
        assert out.shape == [1, 3] and out.shape_signature == [1, 3]
    # LiteRT agrees with the flatbuffer
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    for L in buckets:
        details = interp.get_signature_runner(f"seq{L}").get_input_details()
        for d in details.values():
            assert list(d["shape"]) == [1, L] and list(d["shape_signature"]) == [1, L]


# --------------------------------------------------------------------------------------- tiny BERT
@pytest.mark.parametrize("mode", ALL_MODES)
def test_tiny_bert_every_mode_has_fixed_signatures_per_bucket(tiny_bundle, mode):
    out, manifest = tiny_bundle
    _check_fixed_signatures(out / manifest["modes"][mode]["file"], TINY_BUCKETS)


def test_tiny_bert_manifest_follows_the_contract(tiny_bundle, tiny_teacher_dir):
    from edgekit.contracts import check_manifest
    from edgekit.fsutil import sha256_file

    out, manifest = tiny_bundle
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest))
    assert check_manifest(on_disk) == []
    assert on_disk["model"]["family"] == "bert"
    assert on_disk["model"]["source_checkpoint"] == str(Path(tiny_teacher_dir).resolve())
    assert [b["signature"] for b in on_disk["buckets"]] == ["seq16", "seq32"]
    assert [i["name"] for i in on_disk["inputs"]] == ["ids", "mask", "segment_ids"]
    assert (out / "labels.txt").read_text().split() == on_disk["labels"]
    # what ties the text files to the model, checked on every load (tests/test_bundle_rules.py)
    from edgekit.contracts import MANIFEST_SCHEMA_VERSION, vocab_sha256

    vocab = (out / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert on_disk["schema_version"] == MANIFEST_SCHEMA_VERSION
    assert on_disk["tokenizer"]["vocab_size"] == len(vocab) == on_disk["model"]["embedding_rows"]
    assert on_disk["model"]["num_classes"] == len(on_disk["labels"])
    assert on_disk["tokenizer"]["vocab_sha256"] == vocab_sha256(vocab)
    assert (out / "vocab.txt").read_text().splitlines() == (Path(tiny_teacher_dir) / "vocab.txt").read_text().splitlines()
    assert list(on_disk["modes"]) == ALL_MODES
    assert "skipped_modes" not in on_disk
    for mode, e in on_disk["modes"].items():
        f = out / e["file"]
        assert f.stat().st_size == e["bytes"] and sha256_file(f) == e["sha256"]
        p = e["parity"]
        assert p["passed"] is True and p["examples"] > 0
        assert p["argmax_agreement"] >= p["thresholds"]["min_argmax_agreement"]
        assert -p["macro_f1_delta"] <= p["thresholds"]["max_macro_f1_drop"]
        assert np.isfinite(p["max_abs_logit_error"])
    # every mode stores one weight copy for all buckets (measured in the file); full int8 too, since the
    # buckets get one calibrated range per shared constant (quantize.shared_calibration)
    for mode in ("fp32", "dynamic_int8", "int8"):
        assert on_disk["modes"][mode]["weights_shared_across_buckets"] is True, mode
        assert "weights_note" not in on_disk["modes"][mode]
    assert on_disk["modes"]["fp32"]["parity"]["max_abs_logit_error"] < 1e-3
    # the float ones are much bigger than dynamic int8
    assert on_disk["modes"]["dynamic_int8"]["bytes"] < 0.4 * on_disk["modes"]["fp32"]["bytes"]


def test_tiny_bert_int8_is_integer_with_float_layernorm_only(tiny_bundle):
    from edgekit.converters.tflite_file import read_tflite

    out, manifest = tiny_bundle
    entry = manifest["modes"]["int8"]
    info = read_tflite(out / entry["file"])
    assert info.is_quantized()
    names = info.float_op_names()
    assert names, "LayerNorm should stay float"
    import re

    from edgekit.models.bert.export import EXPORTER as BERT_EXPORTER

    chosen = entry["quantization"]["float_fallback"].get("measured_groups", [])
    rx = [re.compile(BERT_EXPORTER.fallback_groups[g]) for g in chosen]
    assert all("layer_norm" in n or any(r.search(n) for r in rx) for n in names)
    hist = info.op_histogram()
    assert hist.get("FULLY_CONNECTED", 0) > 0
    q = entry["quantization"]
    assert q["calibrated_with"]["samples"] > 0
    assert set(q["calibrated_with"]["per_bucket"]) == {"seq16", "seq32"}
    assert entry["graph"]["attention_mask_value"] == -30.0


def _check_int16x8(out: Path, entry: dict, float_allowed: str | None):
    """int16 activations and int8 weights, labelled an accuracy reference, gate passed."""
    from edgekit.converters.tflite_file import read_tflite

    info = read_tflite(out / entry["file"])
    assert entry["parity"]["passed"] and entry["parity"]["argmax_agreement"] >= 0.97
    assert "accuracy reference" in entry["note"]
    assert entry["quantization"]["activations"] == "int16"
    assert entry["quantization"]["calibration_filled_samples"] > 0
    dtypes = {"int16": 0, "int8": 0}
    for sg in info.subgraphs:
        for op in sg.ops:
            if op.opcode == "FULLY_CONNECTED":
                dtypes[sg.tensors[op.outputs[0]].dtype] = dtypes.get(sg.tensors[op.outputs[0]].dtype, 0) + 1
                assert sg.tensors[op.inputs[1]].dtype == "int8"  # 8-bit weights
        for t in sg.tensors:
            if t.dtype == "int16" and t.zero_points:
                assert not any(t.zero_points), (t.name, t.zero_points)  # LiteRT's int16 kernels: symmetric
    assert dtypes["int16"] > 0 and dtypes.get("float32", 0) == 0  # every dense layer in int16x8
    names = info.float_op_names()
    assert all(float_allowed and float_allowed in n for n in names), names[:5]


def test_tiny_bert_int16x8_is_int16_with_float_layernorm_only(tiny_bundle):
    out, manifest = tiny_bundle
    _check_int16x8(out, manifest["modes"]["int16x8"], "layer_norm")


def test_int16x8_is_not_a_default_mode():
    from edgekit.converters.convert import DEFAULT_MODES

    assert "int16x8" not in DEFAULT_MODES


def test_tiny_bert_task_library_file_carries_metadata(tiny_bundle):
    from edgekit.converters.tflite_file import read_tflite

    out, manifest = tiny_bundle
    tl = manifest["task_library"]
    assert tl["metadata"] is True, tl["status"]
    path = out / tl["file"]
    info = read_tflite(path)
    assert len(info.subgraphs) == 1 and [s.key for s in info.signatures] == ["serving_default"]
    ins, outs = info.signature_io(info.signatures[0])
    assert sorted(ins) == ["ids", "mask", "segment_ids"]
    assert all(t.shape == t.shape_signature == [1, 32] and t.dtype == "int32" for t in ins.values())
    assert list(outs.values())[0].dtype == "float32"
    assert "TFLITE_METADATA" in info.metadata
    # the writer packs vocab.txt and labels.txt into the file as a zip
    packed = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    assert set(packed.namelist()) >= {"vocab.txt", "labels.txt"}
    assert packed.read("labels.txt").decode().split() == manifest["labels"]
    assert tl["parity"]["passed"] is True


def test_bundle_model_matches_the_keras_model(tiny_bundle, tiny_teacher_dir, default_splits):
    from edgekit.runtime.bundle import Bundle
    from edgekit.runtime.model import BundleModel
    from edgekit.models.modeldir import load_model_dir
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import predict_logits

    out, _ = tiny_bundle
    loaded = load_model_dir(tiny_teacher_dir)
    texts = [e.text for e in default_splits.test.examples[:12]]
    model = BundleModel(Bundle.open(out), "fp32")
    # the reference sees each text as the bundle does: at its bucket's length, truncated at the largest bucket
    lengths = [model.bundle.pick_bucket(loaded.tokenizer.count_tokens(t))[0] for t in texts]
    assert max(loaded.tokenizer.count_tokens(t) for t in texts) > max(TINY_BUCKETS)  # truncation is exercised
    ref = np.concatenate([predict_logits(loaded.model, encode_texts(loaded.tokenizer, [t], L))
                          for t, L in zip(texts, lengths)])
    got = np.stack([model.logits(t) for t in texts])
    np.testing.assert_allclose(got, ref, atol=1e-3)


def test_int8_io_gives_int8_logits_that_the_runner_dequantizes(tmp_path, tiny_teacher_dir, default_splits):
    out = tmp_path / "io"
    manifest = _convert(tiny_teacher_dir, out, default_splits, modes=["int8"], buckets=[32], int8_io=True,
                        metadata=False, fallback="family")
    _check_fixed_signatures(out / "model_int8.tflite", [32], output_dtype="int8")
    assert manifest["modes"]["int8"]["output_dtype"] == "int8"
    assert manifest["modes"]["int8"]["parity"]["passed"]


def test_failed_gate_leaves_no_bundle(tmp_path, tiny_teacher_dir, default_splits):
    from edgekit.cli import cli

    out = tmp_path / "b"
    r = CliRunner().invoke(cli, ["convert", str(tiny_teacher_dir), "--out", str(out), "--modes", "fp32",
                                 "--buckets", "16", "--no-metadata", "--threshold", "fp32:logit_error=0"])
    assert r.exit_code == 2
    assert "parity gate failed for mode fp32" in r.stderr
    assert len(r.stderr.strip().splitlines()[-1:]) == 1 and "Traceback" not in r.output + r.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".b.")]



def test_gate_failure_drop_leaves_only_passing_modes_in_the_bundle(tmp_path, tiny_teacher_dir, default_splits):
    """What ``edgekit run`` asks for: a mode that fails its gate is left out and named, the rest ship."""
    out = tmp_path / "b"
    manifest = _convert(tiny_teacher_dir, out, default_splits, modes=["fp32", "dynamic_int8"], buckets=[16],
                        metadata=False, on_gate_failure="drop",
                        thresholds={"dynamic_int8": {"min_argmax_agreement": 1.01}})
    assert list(manifest["modes"]) == ["fp32"]
    assert "parity gate failed for mode dynamic_int8" in manifest["failed_modes"]["dynamic_int8"]["reason"]
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["failed_modes"].keys() == {"dynamic_int8"}
    assert sorted(p.name for p in out.glob("*.tflite")) == [manifest["modes"]["fp32"]["file"]]
    with pytest.raises(EdgekitError, match="every mode failed its conversion or parity gate"):
        _convert(tiny_teacher_dir, tmp_path / "c", default_splits, modes=["fp32"], buckets=[16], metadata=False,
                 on_gate_failure="drop", thresholds={"fp32": {"min_argmax_agreement": 1.01}})
    assert not (tmp_path / "c").exists()


# ------------------------------------------------------------------------------------------ BiLSTM
@pytest.fixture(scope="session")
def bilstm_bundle(tmp_path_factory, bilstm_dir, default_splits):
    # This briefly trained BiLSTM is not bit-for-bit reproducible across runs under load, and near-tie argmaxes
    # flip under full int8, so its gate allows 0.95 (12 flips of the default data's 240-sentence check set)
    # instead of the default two-point bound.
    out = tmp_path_factory.mktemp("bundles") / "bilstm"
    return out, _convert(bilstm_dir, out, default_splits, modes=ALL_MODES, buckets=[16, 32],
                         thresholds={"int8": {"min_argmax_agreement": 0.95, "max_macro_f1_drop": 0.05}})


@pytest.mark.parametrize("mode", ALL_MODES)
def test_bilstm_every_mode_has_fixed_signatures_and_passes_parity(bilstm_bundle, mode):
    out, manifest = bilstm_bundle
    e = manifest["modes"][mode]
    _check_fixed_signatures(out / e["file"], [16, 32])
    assert e["parity"]["passed"] and e["parity"]["examples"] > 0
    from edgekit.converters.tflite_file import read_tflite

    hist = read_tflite(out / e["file"]).op_histogram()
    assert "WHILE" not in hist  # unrolled: no loop in any mode


def test_max_pooled_bilstm_converts_to_full_int8_with_parity(tmp_path, default_splits, tokenizer):
    # the pooled readout returns every step's states: the unrolled backward sequence must survive conversion.
    # Trained 8 epochs, not 4: TF training is not bit-reproducible across processes, and after 4 epochs near-tie
    # argmaxes flipped under int8 — measured on the former template data's 60-sentence check set: 1 to 2 of 60 in
    # most processes, 6 (failing the gate's 3) in 1 of 11. After 8, 10 of 11 processes agreed on all 60 and the
    # 11th on 58.
    model_dir = _train_bilstm(tmp_path / "pooled-bilstm", default_splits, tokenizer, epochs=8, pooling="max")
    out = tmp_path / "bundle"
    manifest = _convert(model_dir, out, default_splits, modes=["fp32", "int8"], buckets=[16, 32],
                        thresholds={"int8": {"min_argmax_agreement": 0.95, "max_macro_f1_drop": 0.05}})
    from edgekit.converters.tflite_file import read_tflite

    for mode in ("fp32", "int8"):
        e = manifest["modes"][mode]
        _check_fixed_signatures(out / e["file"], [16, 32])
        assert e["parity"]["passed"] and "WHILE" not in read_tflite(out / e["file"]).op_histogram()
    assert manifest["modes"]["fp32"]["parity"]["max_abs_logit_error"] < 1e-4


def test_bilstm_bundle_says_weights_are_per_bucket(bilstm_bundle):
    from edgekit.contracts import check_manifest

    out, manifest = bilstm_bundle
    assert check_manifest(manifest) == []
    assert manifest["model"]["family"] == "bilstm"
    assert "task_library" not in manifest  # not a BERT classifier
    # one unrolled graph per bucket, yet the converter de-duplicates identical weight buffers: the manifest
    # reports what the file holds, measured, not what the exporter assumed
    from edgekit.converters.tflite_file import read_tflite

    for e in manifest["modes"].values():
        measured = read_tflite(out / e["file"]).weight_sharing()
        assert e["weights"] == measured
        assert e["weights_shared_across_buckets"] is (measured["shared_fraction"] >= 0.5)
    assert "skipped_modes" not in manifest


def test_bilstm_int16x8_is_fully_int16(bilstm_bundle):
    out, manifest = bilstm_bundle
    _check_int16x8(out, manifest["modes"]["int16x8"], None)


def test_bilstm_int8_is_calibrated_at_every_step_and_within_xnnpack_limits(bilstm_bundle):
    # natural sentences rarely fill a bucket: the backward LSTM's first steps over the padding see a zero state,
    # so without bucket-filling calibration samples its recurrent matmul gets a near-zero output range
    from edgekit.converters.quantize import XNNPACK_MAX_REQUANTIZATION, requantization_scales

    out, manifest = bilstm_bundle
    e = manifest["modes"]["int8"]
    assert e["quantization"]["calibration_filled_samples"] >= 2 * len(TINY_BUCKETS)
    scales = requantization_scales((out / e["file"]).read_bytes())
    assert scales and max(r for *_, r in scales) < XNNPACK_MAX_REQUANTIZATION
    assert "xnnpack_widened_outputs" not in e["quantization"]  # calibration alone kept every op in range


def _set_output_scale(model: bytes, name: str, factor: float) -> bytes:
    from tensorflow.lite.tools import flatbuffer_utils

    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    hits = [t for sg in m.subgraphs for t in sg.tensors if t.name.decode() == name]
    assert hits
    for t in hits:
        t.quantization.scale = np.asarray(t.quantization.scale, np.float32) * factor
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def _loads_and_runs(model: bytes) -> bool:
    from ai_edge_litert.interpreter import Interpreter

    try:
        interp = Interpreter(model_content=model)  # the default XNNPACK delegate, as on a device
        interp.allocate_tensors()
        for key in interp.get_signature_list():
            runner = interp.get_signature_runner(key)
            runner(**{k: np.zeros(d["shape"], d["dtype"]) for k, d in runner.get_input_details().items()})
    except (RuntimeError, ValueError):
        return False
    return True


def test_requantization_guard_makes_a_file_xnnpack_refuses_load(bilstm_bundle):
    # XNNPACK creates an int8 fully-connected op only if input scale x weight scale / output scale < 256; an
    # output calibrated on an (almost) constant value breaks that and the whole file fails to load
    from edgekit.converters.quantize import (XNNPACK_MAX_REQUANTIZATION, requantization_scales,
                                             within_xnnpack_requantization)

    out, manifest = bilstm_bundle
    model = (out / manifest["modes"]["int8"]["file"]).read_bytes()
    before = requantization_scales(model)
    _, name, ratio = max(before, key=lambda x: x[2])
    broken = _set_output_scale(model, name, ratio / (2 * XNNPACK_MAX_REQUANTIZATION))  # ratio → 512
    assert max(r for *_, r in requantization_scales(broken)) >= XNNPACK_MAX_REQUANTIZATION
    assert not _loads_and_runs(broken)
    fixed = within_xnnpack_requantization(broken)
    after = requantization_scales(fixed)
    assert max(r for *_, r in after) < XNNPACK_MAX_REQUANTIZATION
    assert _loads_and_runs(fixed)
    # only the broken output was widened; every other op keeps its calibrated scale
    assert [(g, n) for g, n, _ in after] == [(g, n) for g, n, _ in before]
    changed = {n for (_, n, r0), (_, _, r1) in zip(before, after) if not np.isclose(r0, r1, rtol=1e-6)}
    assert changed == {name}
    assert within_xnnpack_requantization(model) == model  # a file within the limit is left byte for byte


# ------------------------------------------------------------------------------------ CLI, errors
def _one_line_error(result, *needles):
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output + (result.stderr or "")
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("error: "), result.stderr
    assert len([ln for ln in lines if ln.startswith("error")]) == 1
    for n in needles:
        assert n in lines[-1], lines[-1]


def test_cli_convert_missing_model_dir(tmp_path):
    from edgekit.cli import cli

    r = CliRunner().invoke(cli, ["convert", str(tmp_path / "nope"), "--out", str(tmp_path / "b")])
    _one_line_error(r, "model directory not found")


def test_cli_convert_unknown_mode(tmp_path, tiny_teacher_dir):
    from edgekit.cli import cli

    r = CliRunner().invoke(cli, ["convert", str(tiny_teacher_dir), "--out", str(tmp_path / "b"), "--modes", "fp32,int3"])
    _one_line_error(r, "unknown mode 'int3'")


def test_convert_options_are_checked_once_when_built_and_frozen():
    import dataclasses

    from edgekit.converters.convert import ConvertOptions

    options = ConvertOptions(modes="int8,fp32,int8", buckets=[64, 16, 64],
                             thresholds={"int8": {"min_argmax_agreement": 0.9}})
    assert options.modes == ("int8", "fp32") and options.buckets == (16, 64)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.modes = ("fp32",)
    for bad, needle in [({"modes": "fp32,int3"}, "unknown mode 'int3'"), ({"buckets": [1, 16]}, "must be >= 2"),
                        ({"buckets": []}, "no buckets"), ({"fallback": "some"}, "--fallback"),
                        ({"calibration_samples": 0}, "--calibration-samples"),
                        ({"on_gate_failure": "skip"}, "fail or drop"),
                        ({"thresholds": {"int8": {"agreement": 0.9}}}, "unknown parity threshold agreement"),
                        ({"task_modes": "int3"}, "unknown task mode 'int3'")]:
        with pytest.raises(EdgekitError, match=needle):
            ConvertOptions(**bad)


def test_cli_convert_calibration_data_without_examples(tmp_path, tiny_teacher_dir, default_splits):
    from edgekit.cli import cli
    from edgekit.data import Splits

    empty_train = default_splits.train.subset([], name="empty:train")
    empty_train.notes["split"] = "train"
    Splits(empty_train, default_splits.validation, default_splits.test, dict(default_splits.info)).save(tmp_path / "split")
    r = CliRunner().invoke(cli, ["convert", str(tiny_teacher_dir), "--split-dir", str(tmp_path / "split"),
                                 "--out", str(tmp_path / "b"), "--modes", "int8", "--allow-other-data"])
    _one_line_error(r, "no examples")
    assert not (tmp_path / "b").exists()


def test_calibration_samples_cover_every_bucket(tokenizer, default_splits):
    from edgekit.converters.calibration import calibration_samples
    from edgekit.errors import DataError

    texts = [e.text for e in default_splits.train.examples]
    samples, summary = calibration_samples(texts, tokenizer, [(16, "seq16"), (32, "seq32"), (128, "seq128")], 30)
    assert summary["samples"] == 30 and {s for s, _ in samples} == {"seq16", "seq32", "seq128"}
    for sig, feeds in samples:
        assert feeds["ids"].shape == (1, int(sig[3:])) and feeds["ids"].dtype == np.int32
    with pytest.raises(DataError, match="no examples"):
        calibration_samples(["", "  "], tokenizer, [(16, "seq16")], 10)


def test_cli_inspect_bundle_and_file(tiny_bundle):
    from edgekit.cli import cli

    out, manifest = tiny_bundle
    r = CliRunner().invoke(cli, ["inspect", str(out)])
    assert r.exit_code == 0, r.output + r.stderr
    assert "shape=[1, 16] shape_signature=[1, 16]" in r.output
    assert "float ops left:" in r.output and "MEAN" in r.output
    r = CliRunner().invoke(cli, ["inspect", str(out / manifest["modes"]["int8"]["file"]), "--json"])
    d = json.loads(r.output)
    assert d["quantized_activations"] is True and d["float_ops"]["RSQRT"] > 0
    assert d["signatures"][0]["inputs"]["ids"]["shape_signature"] == [1, 16]


def test_op_copies_compute_what_the_op_computes_in_its_file(tiny_bundle):
    """The profile's K-copy files: every copy of an op gives the output the op gives inside the whole file."""
    from ai_edge_litert.interpreter import Interpreter

    from edgekit.converters.op_profile import _copies_model, _schema

    out, manifest = tiny_bundle
    raw = (out / manifest["modes"]["int8"]["file"]).read_bytes()
    schema, fbu = _schema()
    m = fbu.convert_bytearray_to_object(bytearray(raw))
    sig = next(sd for sd in m.signatureDefs if sd.signatureKey == b"seq16")
    sg = m.subgraphs[sig.subgraphIndex]
    whole = Interpreter(model_content=raw, experimental_preserve_all_tensors=True)
    runner = whole.get_signature_runner("seq16")
    runner(ids=np.arange(1, 17, dtype=np.int32).reshape(1, 16), mask=np.ones((1, 16), np.int32),
           segment_ids=np.zeros((1, 16), np.int32))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    checked = set()
    for op in sg.operators:
        name = names[m.operatorCodes[op.opcodeIndex].builtinCode]
        if name in checked or name not in {"FULLY_CONNECTED", "ADD", "MUL", "GATHER", "SOFTMAX", "BATCH_MATMUL"}:
            continue
        single = Interpreter(model_content=_copies_model(schema, fbu, m, sg, op, 3))
        single.allocate_tensors()
        inputs = [i for i in op.inputs if i >= 0 and not _is_const(m, sg, i)]
        for d, i in zip(single.get_input_details(), inputs):
            single.set_tensor(d["index"], whole.get_tensor(i, sig.subgraphIndex))
        single.invoke()
        expected = whole.get_tensor(op.outputs[0], sig.subgraphIndex)
        outs = [single.get_tensor(d["index"]) for d in single.get_output_details()]
        assert len(outs) == 3 * len(op.outputs)
        for got in outs[::len(op.outputs)]:
            np.testing.assert_array_equal(got, expected, err_msg=name)
        checked.add(name)
    assert {"FULLY_CONNECTED", "ADD", "GATHER"} <= checked


def _is_const(m, sg, i) -> bool:
    b = sg.tensors[i].buffer
    return 0 < b < len(m.buffers) and m.buffers[b].data is not None and len(m.buffers[b].data) > 0


def test_cli_inspect_profile_costs_every_op_of_the_signature(tiny_bundle):
    from edgekit.cli import cli

    out, manifest = tiny_bundle
    r = CliRunner().invoke(cli, ["inspect", str(out), "--mode", "dynamic_int8", "--profile", "--signature", "seq16",
                                 "--json"])
    assert r.exit_code == 0, r.output + r.stderr
    d = json.loads(r.output)
    prof = d["profile"]
    assert prof["signature"] == "seq16" and prof["threads"] == 1
    assert sum(row["count"] for row in prof["by_op"]) + sum(prof["unprofiled"].values()) == prof["ops"]
    assert prof["configurations"] < prof["ops"] and prof["signature_us"] > 0
    assert all(row["us"] >= 0 for row in prof["by_op"]) and abs(sum(row["share"] for row in prof["by_op"]) - 1) < 0.01
    r = CliRunner().invoke(cli, ["inspect", str(out), "--mode", "fp32", "--profile", "--signature", "seq999"])
    _one_line_error(r, "no signature 'seq999' to profile")


def test_cli_inspect_corrupt_and_truncated_files(tmp_path, tiny_bundle):
    from edgekit.cli import cli

    out, manifest = tiny_bundle
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"this is not a model at all")
    _one_line_error(CliRunner().invoke(cli, ["inspect", str(junk)]), "not a readable TFLite model")
    data = (out / manifest["modes"]["fp32"]["file"]).read_bytes()
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(data[: len(data) // 3])
    _one_line_error(CliRunner().invoke(cli, ["inspect", str(cut)]), "cut.tflite")


def test_cli_predict_runs_and_rejects_a_truncated_copy(tmp_path, tiny_bundle):
    from edgekit.cli import cli

    out, manifest = tiny_bundle
    r = CliRunner().invoke(cli, ["predict", str(out), "Operating profit rose to EUR 13.1 mn", "--mode", "int8",
                                 "--json"])
    assert r.exit_code == 0, r.output + r.stderr
    rec = json.loads(r.output.strip().splitlines()[0])
    assert rec["label"] in manifest["labels"] and rec["bucket"] == 16
    assert abs(sum(rec["probabilities"].values()) - 1) < 1e-5

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    f = copy / manifest["modes"]["fp32"]["file"]
    f.write_bytes(f.read_bytes()[:1000])
    _one_line_error(CliRunner().invoke(cli, ["predict", str(copy), "text", "--mode", "fp32"]), "truncated")
    _one_line_error(CliRunner().invoke(cli, ["predict", str(out), "text", "--mode", "int5"]), "no mode 'int5'")


# ------------------------------------------------------------------------------ MiniLM teacher (slow)
@pytest.fixture(scope="session")
def teacher_bundle(tmp_path_factory, request, fpb_dir):
    """The real MiniLM teacher (6 layers, 384 wide) converted: EDGEKIT_TEST_TEACHER, or the session's
    MiniLM fine-tuned on an FPB subset (``minilm_teacher``)."""
    from edgekit.data import load_dataset, split_dataset

    if TEACHER_DIR:
        teacher = Path(TEACHER_DIR)
        if not (teacher / "edgekit_model.json").is_file():
            pytest.fail(f"EDGEKIT_TEST_TEACHER={teacher} is not an edgekit model directory")
        splits = split_dataset(load_dataset(fpb_dir / "Sentences_75Agree.txt"), seed=42)
    else:
        teacher, splits = request.getfixturevalue("minilm_teacher")  # checked on the split it was trained on
    out = tmp_path_factory.mktemp("bundles") / "teacher"
    manifest = _convert(teacher, out, splits, modes=["fp32", "dynamic_int8"], buckets=[16, 32],
                        check_limit=120, metadata=False)
    return out, manifest


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fp32", "dynamic_int8"])
def test_minilm_teacher_converts_with_fixed_signatures_and_parity(teacher_bundle, mode):
    out, manifest = teacher_bundle
    e = manifest["modes"][mode]
    _check_fixed_signatures(out / e["file"], [16, 32])
    p = e["parity"]
    assert p["passed"] and p["examples"] == 120
    assert p["argmax_agreement"] >= 0.98
    if mode == "fp32":
        assert p["max_abs_logit_error"] < 1e-2
    else:
        assert e["bytes"] < 0.35 * manifest["modes"]["fp32"]["bytes"]
    assert manifest["model"]["params"] > 20_000_000


def test_run_convert_stage_bundles_the_teacher_and_every_student(tmp_path, tiny_teacher_dir, bilstm_dir,
                                                                 default_splits):
    """``edgekit run``'s convert stage: one parity-gated bundle per model (teacher first, then students)."""
    from edgekit.converters.stage import models_to_convert, run_convert
    from edgekit.pipeline import ConvertSettings, StageContext

    run = tmp_path / "run"
    default_splits.save(run / "data")
    # the results of the stages it needs, as the data, teacher and students stages return them
    inputs = {"data": {"split_dir": str(run / "data")}, "teacher": {"model_dir": str(tiny_teacher_dir)},
              "students": {"models": {"bilstm": str(bilstm_dir)}}}
    ctx = StageContext(out=run, settings=ConvertSettings(modes=("fp32",), buckets=(16, 32), calibration_samples=20),
                       inputs=inputs)
    assert [name for name, _ in models_to_convert(inputs)] == ["teacher", "bilstm"]
    result = run_convert(ctx)
    assert set(result["bundles"]) == {"teacher", "bilstm"}
    for name in ("teacher", "bilstm"):
        manifest = json.loads((run / "bundles" / name / "manifest.json").read_text())
        assert list(manifest["modes"]) == ["fp32"] and manifest["modes"]["fp32"]["parity"]["passed"]
        assert result[f"{name}_fp32_agreement"] >= 0.98
