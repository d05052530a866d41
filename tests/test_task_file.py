"""The task files of a BERT bundle (converters/task_files.py): by default the fp16 ``task_library`` and an
8-bit file under ``other_task_files``, each single-signature with a float output and three int32 inputs,
gated, with TFLite metadata that reads back; the bundle holding them opens and verifies; ``--task-modes``
takes known modes only. Real conversions of the tiny BERT; no mocks."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from click.testing import CliRunner

from edgekit.errors import EdgekitError

LENGTH = 32
EIGHT_BIT = ("int8_weights", "int8", "dynamic_int8_pt")


@pytest.fixture(scope="module")
def task_bundle(tmp_path_factory, tiny_teacher_dir, default_splits):
    """fp32 with every 8-bit task mode beside the default fp16 task_library."""
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    out = tmp_path_factory.mktemp("bundles") / "tiny-task"
    options = ConvertOptions(modes=("fp32",), buckets=(16, LENGTH), metadata_length=LENGTH, calibration_samples=60,
                             task_modes=("fp16",) + EIGHT_BIT)
    return out, convert_model_dir(tiny_teacher_dir, out, default_splits, options, progress=False)


def _metadata(path):
    """What the clients read: tflite-support's MetadataDisplayer on the file, the metadata flatbuffer parsed
    with its schema (the JSON view needs a native helper this machine may lack)."""
    from edgekit.converters.metadata import load_writer

    load_writer()  # puts tflite-support 0.4.4 on the path the way the converter does
    from tensorflow_lite_support.metadata import metadata_schema_py_generated as fb  # type: ignore
    from tensorflow_lite_support.metadata.python import metadata  # type: ignore

    displayer = metadata.MetadataDisplayer.with_model_file(str(path))
    root = fb.ModelMetadata.GetRootAsModelMetadata(displayer.get_metadata_buffer(), 0)
    return displayer, root, fb


def test_default_task_modes_are_fp16_and_an_8bit_file():
    from edgekit.converters.convert import ConvertOptions

    assert ConvertOptions().task_modes == ("fp16", "int8_weights")


@pytest.mark.parametrize("mode", EIGHT_BIT)
def test_8bit_task_file_is_what_the_clients_need_and_passes_its_gate(task_bundle, mode):
    from edgekit.converters.tflite_file import read_tflite

    out, manifest = task_bundle
    assert manifest["task_library"]["mode"] == "fp16"
    entry = manifest["other_task_files"][mode]
    assert entry["metadata"] is True, entry["status"]
    assert entry["file"] == f"model_{mode}_task.tflite" and entry["parity"]["passed"] is True
    info = read_tflite(out / entry["file"])
    assert len(info.subgraphs) == 1 and [s.key for s in info.signatures] == ["serving_default"]
    ins, outs = info.signature_io(info.signatures[0])
    assert sorted(ins) == ["ids", "mask", "segment_ids"]
    assert all(t.dtype == "int32" and t.shape == t.shape_signature == [1, LENGTH] for t in ins.values())
    (logits,) = outs.values()
    assert logits.dtype == "float32" and logits.shape == [1, 3]
    # 8 bits where the bytes are: the embedding table and every fully-connected weight
    sg = info.subgraphs[0]
    tables = [t for t in sg.tensors if t.is_constant and t.shape[:1] == [manifest["model"]["embedding_rows"]]]
    assert tables and all(t.dtype == "int8" for t in tables)
    fcs = [op for op in sg.ops if op.opcode == "FULLY_CONNECTED"]
    weights = {sg.tensors[op.inputs[1]].dtype for op in fcs}
    computes = {sg.tensors[op.outputs[0]].dtype for op in fcs}
    # int8: static int8 layers beside float ones; int8_weights: int8 weights dequantized before a float FC;
    # dynamic_int8_pt: int8 weights into a float FC (the converter leaves weights under 1024 values float)
    expected = {"int8": ({"int8", "float32"}, {"int8", "float32"}), "int8_weights": ({"float32"}, {"float32"}),
                "dynamic_int8_pt": ({"int8", "float32"}, {"float32"})}[mode]
    assert (weights, computes) == expected
    # 8-bit: about half the fp16 task file (the int8 embedding table and weights; float LayerNorms, biases)
    fp16_bytes = manifest["task_library"]["bytes"]
    assert entry["bytes"] < 0.7 * fp16_bytes, (entry["bytes"], fp16_bytes)


@pytest.mark.parametrize("mode", ("fp16",) + EIGHT_BIT)
def test_task_file_metadata_reads_back(task_bundle, mode):
    out, manifest = task_bundle
    entry = manifest["task_library"] if mode == "fp16" else manifest["other_task_files"][mode]
    displayer, root, fb = _metadata(out / entry["file"])
    assert sorted(displayer.get_packed_associated_file_list()) == ["labels.txt", "vocab.txt"]
    assert displayer.get_associated_file_buffer("labels.txt").decode().split() == manifest["labels"]
    assert displayer.get_associated_file_buffer("vocab.txt") == (out / "vocab.txt").read_bytes()
    sg = root.SubgraphMetadata(0)
    # the BERT tokenizer options point at the packed vocab.txt
    unit = sg.InputProcessUnits(0)
    assert unit.OptionsType() == fb.ProcessUnitOptions.BertTokenizerOptions
    options = fb.BertTokenizerOptions()
    options.Init(unit.Options().Bytes, unit.Options().Pos)
    assert options.VocabFile(0).Name() == b"vocab.txt"
    assert options.VocabFile(0).Type() == fb.AssociatedFileType.VOCABULARY
    assert sorted(sg.InputTensorMetadata(i).Name() for i in range(3)) == [b"ids", b"mask", b"segment_ids"]
    output = sg.OutputTensorMetadata(0)
    assert output.Name() == b"probability"  # the name BertNLClassifier expects
    assert output.AssociatedFiles(0).Name() == b"labels.txt"
    # the metadata packs the files after the model, as a zip the clients read
    packed = zipfile.ZipFile(io.BytesIO((out / entry["file"]).read_bytes()))
    assert set(packed.namelist()) == {"labels.txt", "vocab.txt"}


def test_bundle_with_task_files_opens_and_verifies(task_bundle):
    from edgekit.contracts import check_manifest, task_entries
    from edgekit.fsutil import sha256_file
    from edgekit.runtime.bundle import Bundle

    out, manifest = task_bundle
    assert check_manifest(manifest) == []
    bundle = Bundle.open(out)
    for mode in bundle.modes:
        bundle.verify(mode)
    entries = task_entries(bundle.manifest)
    assert sorted(entries) == ["other_task_files.dynamic_int8_pt", "other_task_files.int8",
                               "other_task_files.int8_weights", "task_library"]
    for entry in entries.values():
        path = out / entry["file"]
        assert path.stat().st_size == entry["bytes"] and sha256_file(path) == entry["sha256"]
        assert entry["file"] in bundle.files  # a copy of the bundle takes them along
    # a device copy of one mode names no task file
    assert not set(task_entries(bundle.manifest_for(["fp32"])))


def test_8bit_recipe_files_keep_their_weights_inside_the_flatbuffer(task_bundle):
    """ai-edge-quantizer writes weights after the flatbuffer; the metadata writer would drop them."""
    from ai_edge_litert import schema_py_generated as schema

    out, manifest = task_bundle
    for mode in ("int8_weights", "int8"):
        entry = manifest["other_task_files"][mode]
        assert entry["quantization"]["recipe"]["name"] == mode
        data = (out / entry["file"]).read_bytes()
        model = schema.Model.GetRootAs(data, 0)
        assert all(model.Buffers(i).Offset() == 0 for i in range(model.BuffersLength()))
        assert entry["bytes"] > 0.4 * manifest["task_library"]["bytes"]  # the weights are there


def test_failed_task_file_fails_the_conversion_or_is_left_out(tmp_path, tiny_teacher_dir, default_splits):
    from edgekit.converters.convert import ConvertOptions, convert_model_dir
    from edgekit.converters.parity import ParityError
    from edgekit.runtime.bundle import Bundle

    # no 8-bit file reproduces the logits exactly: a zero logit-error bound fails its gate
    strict = dict(modes=("fp32",), buckets=(16,), metadata_length=16, calibration_samples=20, check_limit=40,
                  task_modes=("fp16", "int8_weights"), thresholds={"int8_weights": {"max_abs_logit_error": 0.0}})
    with pytest.raises(ParityError, match="int8_weights task file"):
        convert_model_dir(tiny_teacher_dir, tmp_path / "fail", default_splits, ConvertOptions(**strict), progress=False)
    assert not (tmp_path / "fail").exists()
    manifest = convert_model_dir(tiny_teacher_dir, tmp_path / "drop", default_splits,
                                 ConvertOptions(**strict, on_gate_failure="drop"), progress=False)
    left_out = manifest["other_task_files"]["int8_weights"]
    assert "file" not in left_out and "parity gate failed" in left_out["status"]
    assert not (tmp_path / "drop" / "model_int8_weights_task.tflite").exists()
    assert manifest["task_library"]["file"] == "model_fp16_task.tflite"
    Bundle.open(tmp_path / "drop")


def test_task_modes_option_takes_known_modes_only():
    from edgekit.converters.convert import ConvertOptions

    assert ConvertOptions(task_modes="int8, fp16,int8").task_modes == ("int8", "fp16")
    for bad, needle in [("fp16,int3", "unknown task mode 'int3'"), ("", "no task modes"),
                        ("dynamic_int8", "use dynamic_int8_pt")]:
        with pytest.raises(EdgekitError, match=needle):
            ConvertOptions(task_modes=bad)


def test_cli_bad_task_mode_is_one_line(tmp_path, tiny_teacher_dir):
    from edgekit.cli import cli

    r = CliRunner().invoke(cli, ["convert", str(tiny_teacher_dir), "--out", str(tmp_path / "b"),
                                 "--task-modes", "fp16,int4"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: unknown task mode 'int4'"), r.stderr
    assert not (tmp_path / "b").exists()


# ------------------------------------------------------------------------------- the clients check
def _eval_file(path, splits, limit):
    import json

    path.write_text("".join(json.dumps({"text": e.text, "label": e.label}) + "\n"
                            for e in splits.test.examples[:limit]), encoding="utf-8")
    return path


def _device_copy(task_bundle, dest):
    """The bundle as one mode's device copy: fp32 only, no task files."""
    import json
    import shutil

    from edgekit.runtime.bundle import Bundle

    bundle = Bundle.open(task_bundle[0])
    dest.mkdir()
    for name in ("vocab.txt", "labels.txt", bundle.manifest["modes"]["fp32"]["file"]):
        shutil.copyfile(bundle.path / name, dest / name)
    (dest / "manifest.json").write_text(json.dumps(bundle.manifest_for(["fp32"])), encoding="utf-8")
    return dest


def test_clients_check_refuses_with_one_line(task_bundle, tmp_path, default_splits, capsys):
    from edgekit.benchmarks.clients import main

    data = _eval_file(tmp_path / "test.jsonl", default_splits, 5)
    cases = [([str(task_bundle[0]), "--data", str(data), "--python", "python3", "--clients", "mediapipe,tfjs"],
              "unknown tfjs"),
             ([str(_device_copy(task_bundle, tmp_path / "copy")), "--data", str(data), "--python", "python3"],
              "has no task files"),
             ([str(task_bundle[0]), "--data", str(data), "--python", str(tmp_path / "no-python")],
              "not found (the clients' venv")]
    for argv, needle in cases:
        assert main(argv) == 2
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err


@pytest.mark.skipif(not os.environ.get("EDGEKIT_CLIENTS_PYTHON"),
                    reason="needs the clients' venv: EDGEKIT_CLIENTS_PYTHON (benchmarks/clients.py)")
def test_every_task_file_loads_and_agrees_in_both_clients(task_bundle, tmp_path, default_splits):
    from edgekit.benchmarks.clients import CLIENTS, check_clients

    data = _eval_file(tmp_path / "test.jsonl", default_splits, 40)
    report = check_clients(task_bundle[0], data, os.environ["EDGEKIT_CLIENTS_PYTHON"])
    assert [row["mode"] for row in report["files"]] == ["fp16", *EIGHT_BIT]
    for row in report["files"]:
        for client in CLIENTS:
            result = row["clients"][client]
            assert result["loads"], (row["file"], client, result.get("error"))
            assert result["agreement_with_fp32"] >= 0.9, (row["file"], client, result)
