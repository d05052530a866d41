"""The ONNX Runtime peer of ``edgekit bench``, on a tiny imported Hugging Face BERT.

With the ``edgekit[onnx]`` extra (onnxruntime here; torch, transformers, onnx and onnxruntime in the
torch Python — this one or ``$EDGEKIT_TORCH_PYTHON``): the exported fused fp32 ONNX file reproduces the
Keras, TFLite and stored PyTorch logits within 1e-4, also when the Hugging Face form comes from
``edgekit export hf``, and a bench run adds four valid ``ort_*`` records that a rerun does not repeat.
CI has no torch: those tests skip and say why. Without the extra, bench prints its one skip line and
exits 0, and the measuring process never imports torch — those run everywhere.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgekit.benchmarks.peers.ort_files import INT8_ROLES
from edgekit.hf.torch_env import TORCH_PYTHON_ENV
from edgekit.benchmarks.peers.ort_peer import ORT_MODES, unavailable
from edgekit.cli import cli
from edgekit.contracts import check_result
from edgekit.runtime.records import read_records

FIXTURES = Path(__file__).parent / "fixtures" / "hf"
TOLERANCE = 1e-4
LIMIT = "40"
SKIP_LINE = "ONNX Runtime peer skipped:"

_reason = unavailable()
needs_ort = pytest.mark.skipif(_reason is not None, reason=f"needs the edgekit[onnx] extra (CI has no torch): "
                                                           f"{_reason}")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, default_splits) -> dict[str, Path]:
    """The tiny BERT fixture imported, converted (fp32, dynamic int8; buckets 16, 32) and its splits."""
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    root = tmp_path_factory.mktemp("ort")
    model_dir = root / "bert"
    result = CliRunner().invoke(cli, ["import", str(FIXTURES / "bert"), "--out", str(model_dir)])
    assert result.exit_code == 0, result.output
    split_dir = root / "split"
    default_splits.save(split_dir)
    convert_model_dir(model_dir, root / "bundle", default_splits,
                      ConvertOptions(modes=("fp32", "dynamic_int8"), buckets=(16, 32), metadata=False), progress=False)
    return {"model_dir": model_dir, "bundle": root / "bundle", "test": split_dir / "test.jsonl", "root": root}


def bench(paths: dict[str, Path], out: Path, *extra: str):
    return CliRunner().invoke(cli, ["bench", str(paths["bundle"]), "--data", str(paths["test"]), "--limit", LIMIT,
                                    "--out", str(out), "--no-progress", *extra])


# ----------------------------------------------------------------------------------- with the extra
@needs_ort
def test_fused_fp32_onnx_reproduces_keras_tflite_and_pytorch_logits(bundle, tmp_path):
    from edgekit.benchmarks.peers.ort_files import onnx_files
    from edgekit.benchmarks.peers.ort_session import OrtModel
    from edgekit.models.modeldir import load_model_dir
    from edgekit.runtime.model import SignatureModel

    files = onnx_files(bundle["model_dir"], tmp_path / "onnx")
    assert files.info["hf_form"]["from"] == "the imported checkpoint"
    assert files.info["fp32_vs_pytorch"]["max_abs_diff"] <= TOLERANCE
    assert files.info["fused_operators"].get("Attention") == 2  # both layers fused
    loaded = load_model_dir(bundle["model_dir"])
    manifest = json.loads((bundle["bundle"] / "manifest.json").read_text())
    tflite = SignatureModel(bundle["bundle"] / manifest["modes"]["fp32"]["file"], ["seq32"])
    ort = OrtModel.load(files.path("fp32"), threads=1)
    reference = json.loads((FIXTURES / "bert" / "reference.json").read_text())
    for text, torch_logits in zip(reference["sentences"], reference["logits"]):
        padded = loaded.tokenizer.encode(text, max_length=32)
        own = loaded.tokenizer.encode(text, max_length=padded.num_tokens)
        assert not padded.truncated and 0 not in own.mask
        keras = np.asarray(loaded.model({"token_ids": np.array([padded.ids], np.int32),
                                         "padding_mask": np.array([padded.mask], np.int32),
                                         "segment_ids": np.array([padded.segment_ids], np.int32)}, training=False))[0]
        lite = tflite.run("seq32", np.array(padded.ids, np.int32), np.array(padded.mask, np.int32),
                          np.array(padded.segment_ids, np.int32))
        for enc in (own, padded):
            logits = ort.run(ort.feeds(enc.ids, enc.mask, enc.segment_ids))
            for expected in (keras, lite, torch_logits):
                np.testing.assert_allclose(logits, expected, atol=TOLERANCE, rtol=0)
    # the int8 files run and mostly agree (tiny random weights: logits near each other, no exact gate)
    for role in ("dynamic_int8_per_tensor", "dynamic_int8_per_channel"):
        int8 = OrtModel.load(files.path(role), threads=1)
        enc = loaded.tokenizer.encode(reference["sentences"][0], max_length=32)
        assert np.abs(int8.run(int8.feeds(enc.ids, enc.mask, enc.segment_ids)) - np.asarray(
            reference["logits"][0])).max() < 0.2


@needs_ort
@pytest.mark.parametrize("case", ["imported, checkpoint since deleted", "trained by edgekit"])
def test_without_its_checkpoint_a_model_directory_goes_through_export_hf(case, tmp_path, request, default_splits):
    """No usable recorded checkpoint: ``edgekit export hf`` gives the Hugging Face form (an edgekit-trained
    teacher's tanh GELU included) and the fused fp32 file still computes what Keras computes."""
    from edgekit.benchmarks.peers.ort_files import onnx_files
    from edgekit.benchmarks.peers.ort_session import OrtModel
    from edgekit.models.modeldir import load_model_dir

    if case == "trained by edgekit":
        model_dir = request.getfixturevalue("tiny_teacher_dir")
    else:
        source = Path(shutil.copytree(FIXTURES / "distilbert", tmp_path / "checkpoint"))
        model_dir = tmp_path / "model"
        assert CliRunner().invoke(cli, ["import", str(source), "--out", str(model_dir)]).exit_code == 0
        shutil.rmtree(source)
    files = onnx_files(model_dir, tmp_path / "onnx")
    assert files.info["hf_form"] == {"from": "edgekit export hf"}
    assert not (files.folder / "hf").exists()  # the exported folder is not kept
    loaded = load_model_dir(model_dir)
    ort = OrtModel.load(files.path("fp32"), threads=1)
    for text in default_splits.test.texts[:12]:
        enc = loaded.tokenizer.encode(text, max_length=32)
        keras = np.asarray(loaded.model({"token_ids": np.array([enc.ids], np.int32),
                                         "padding_mask": np.array([enc.mask], np.int32),
                                         "segment_ids": np.array([enc.segment_ids], np.int32)}, training=False))[0]
        np.testing.assert_allclose(ort.run(ort.feeds(enc.ids, enc.mask, enc.segment_ids)), keras, atol=TOLERANCE,
                                   rtol=0)


@needs_ort
def test_bench_adds_valid_ort_rows_and_resumes_without_duplicates(bundle, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="edgekit")
    out = tmp_path / "results" / "results.jsonl"
    result = bench(bundle, out)
    assert result.exit_code == 0, result.output
    records = read_records(out)
    assert all(check_result(r) == [] for r in records)
    ort = {r["bundle"]["mode"]: r for r in records if r["device"]["runtime"]["name"] == "onnxruntime"}
    assert sorted(ort) == sorted(ORT_MODES)
    keras = next(r for r in records if r["bundle"]["mode"] == "keras")
    fp32 = next(r for r in records if r["bundle"]["mode"] == "fp32")
    for mode, r in ort.items():
        assert r["quality"]["n"] == int(LIMIT) and r["dataset"]["sha256"] == fp32["dataset"]["sha256"]
        assert r["threads"] == 1 and r["device"]["target"] == "local"
        # the same weights: ORT fp32 predicts what the Keras source model predicts
        if mode.startswith("ort_fp32"):
            assert r["predictions"] == keras["predictions"]
        padded = mode.endswith("_padded")
        assert r["buckets_used"] == ({"32": int(LIMIT)} if padded else fp32["buckets_used"])
        assert r["bundle"]["peer"]["input_length"] == ("padded to 32" if padded else "own length")
    int8 = ort["ort_dynamic_int8"]["bundle"]["peer"]
    assert int8["file_role"] == int8["int8_choice"]["chosen"] == Path(ort["ort_dynamic_int8"]["bundle"]["file"]).stem
    assert set(int8["int8_choice"]["candidates"]) == {"dynamic_int8_per_tensor", "dynamic_int8_per_channel"}
    assert (out.parent / "onnx" / ort["ort_fp32"]["bundle"]["peer"]["export"]["weights_sha256"][:16]).is_dir()

    # a rerun measures nothing; a run that lost its last two rows measures those two, without exporting again
    assert bench(bundle, out).exit_code == 0
    assert len(read_records(out)) == len(records)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:-2]))
    caplog.clear()
    result = bench(bundle, out)
    assert result.exit_code == 0, result.output
    keys = [r["run_key"] for r in read_records(out)]
    assert len(keys) == len(set(keys)) == len(records)
    assert "2 measured, %d already there" % (len(records) - 2) in result.output
    assert not any("ONNX export" in r.getMessage() for r in caplog.records)

    # the report shows the peer beside edgekit's files, with the runtime and the int8 file it chose
    report = CliRunner().invoke(cli, ["report", str(out), "--out", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    text = (tmp_path / "report" / "report.md").read_text()
    assert "onnxruntime" in text and "ai-edge-litert" in text
    assert f"| ort_dynamic_int8 (ONNX Runtime, fused dynamic int8 {INT8_ROLES[int8['file_role']]}) |" in text


# -------------------------------------------------------------------------------- without the extra
def test_without_the_extra_bench_prints_one_skip_line_and_exits_0(bundle, tmp_path, monkeypatch, caplog):
    """A torch Python without torch (a bare virtual environment) stands for a machine without the extra."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    monkeypatch.setenv(TORCH_PYTHON_ENV, str(bare / "bin" / "python"))
    caplog.set_level(logging.INFO, logger="edgekit")
    out = tmp_path / "results.jsonl"
    result = bench(bundle, out)
    assert result.exit_code == 0, result.output
    skips = [r.getMessage() for r in caplog.records if SKIP_LINE in r.getMessage()]
    assert len(skips) == 1 and "not installed" in skips[0] and "pip install" in skips[0], skips
    assert "torch" in skips[0] or "onnxruntime" in skips[0]
    modes = {r["bundle"]["mode"] for r in read_records(out)}
    assert modes == {"fp32", "dynamic_int8", "keras"}
    assert not (tmp_path / "onnx").exists()


def test_the_measuring_process_imports_neither_torch_nor_tensorflow():
    """The timed ORT session never shares its process with torch's or TensorFlow's thread pools."""
    code = ("import sys, edgekit.benchmarks.peers.ort_runner; "
            "print(','.join(m for m in ('torch', 'transformers', 'tensorflow', 'keras') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
