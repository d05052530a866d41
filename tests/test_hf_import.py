"""``edgekit import``: tiny Hugging Face checkpoints → model directories → TFLite, against their PyTorch logits.

The checkpoints and their PyTorch logits are committed (tests/fixtures/hf, made by make_tiny_checkpoints.py
with torch + transformers): the stored logits are the oracle, so these tests need neither.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgekit.cli import cli

FIXTURES = Path(__file__).parent / "fixtures" / "hf"
CHECKPOINTS = ["bert", "bert_bare", "bert_legacy", "distilbert", "electra", "electra_small"]
LABELS = {"bert_bare": "negative,neutral,positive"}  # its config.json has LABEL_0..LABEL_2
TOLERANCE = 1e-4


def reference(name: str) -> dict:
    return json.loads((FIXTURES / name / "reference.json").read_text())


def run_import(src: Path, out: Path, *extra: str):
    return CliRunner().invoke(cli, ["import", str(src), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("imported")
    dirs = {}
    for name in CHECKPOINTS:
        labels = ["--labels", LABELS[name]] if name in LABELS else []
        result = run_import(FIXTURES / name, root / name, *labels)
        assert result.exit_code == 0, result.output
        dirs[name] = root / name
    return dirs


def keras_logits(model, tokenizer, sentences: list[str], length: int = 48) -> np.ndarray:
    enc = [tokenizer.encode(s, max_length=length) for s in sentences]
    x = {"token_ids": np.array([e.ids for e in enc], np.int32),
         "padding_mask": np.array([e.mask for e in enc], np.int32),
         "segment_ids": np.array([e.segment_ids for e in enc], np.int32)}
    return np.asarray(model(x, training=False))


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_import_reproduces_the_pytorch_logits_and_records_the_checkpoint(name, imported):
    from edgekit.hf.source import sha256_file
    from edgekit.models.modeldir import load_model_dir

    ref = reference(name)
    loaded = load_model_dir(imported[name])
    config = json.loads((FIXTURES / name / "config.json").read_text())
    if name in LABELS:
        assert loaded.labels == LABELS[name].split(",")
    else:
        assert loaded.labels == [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    assert loaded.family == "bert" and loaded.meta["config"]["hidden_act"] == "gelu"
    source = loaded.meta["source"]
    assert source["kind"] == "local" and source["path"] == str((FIXTURES / name).resolve())
    assert source["weights_sha256"] == sha256_file(FIXTURES / name / "model.safetensors")
    assert source["architecture"] == config["architectures"][0]
    # the device tokenizer, set up from the checkpoint's tokenizer files, gives the Hugging Face ids
    for text, ids in zip(ref["sentences"], ref["input_ids"]):
        enc = loaded.tokenizer.encode(text, max_length=64)
        assert enc.ids[:enc.num_tokens] == ids, text
    np.testing.assert_allclose(keras_logits(loaded.model, loaded.tokenizer, ref["sentences"]), ref["logits"],
                               atol=TOLERANCE, rtol=0)


def test_tokenizer_settings_and_max_length_come_from_the_checkpoint(imported):
    from edgekit.models.modeldir import read_meta

    legacy = read_meta(imported["bert_legacy"])
    assert legacy["tokenizer"]["lower_case"] is True and legacy["tokenizer"]["strip_accents"] is False
    assert read_meta(imported["bert"])["tokenizer"]["strip_accents"] is True  # None follows lower-casing
    assert legacy["max_length"] == 64  # tokenizer_config.json's model_max_length
    # bert_bare's tokenizer sets no limit (the ~1e30 sentinel): the model's positions bound it
    assert read_meta(imported["bert_bare"])["max_length"] == 64
    assert read_meta(imported["bert_bare"])["source"]["model_max_length"] is None


def test_exact_gelu_is_what_makes_the_logits_match(imported):
    """The checkpoint's erf GELU, not keras-hub's tanh form: with the tanh form the logits miss the oracle."""
    from edgekit.models.modeldir import load_model_dir
    from edgekit.models.registry import get_family

    loaded = load_model_dir(imported["bert"])
    family = get_family("bert")
    approximate = family.build({**loaded.meta["config"], "hidden_act": "gelu_approximate"})
    approximate.set_weights(loaded.model.get_weights())
    assert family.config_of(approximate)["hidden_act"] == "gelu_approximate"
    ref = reference("bert")
    missed = np.abs(keras_logits(approximate, loaded.tokenizer, ref["sentences"]) - np.array(ref["logits"])).max()
    assert missed > 2 * TOLERANCE


def test_a_config_without_activation_keys_builds_keras_hubs_forms():
    """Model directories written before hidden_act / pooler_activation existed load as they were."""
    from edgekit.models.registry import get_family

    family = get_family("bert")
    config = family.tiny_config(100, 3)
    old = {k: v for k, v in config.items() if k not in ("hidden_act", "pooler_activation")}
    built = family.config_of(family.build(old))
    assert built["hidden_act"] == "gelu_approximate" and built["pooler_activation"] == "tanh"


def test_a_bert_student_of_an_imported_teacher_keeps_its_activations(imported):
    """``distill --teacher`` on an imported DistilBERT: a student with all its layers is the teacher."""
    from edgekit.distill.students import build_student, parse_student
    from edgekit.models.modeldir import load_model_dir

    teacher = load_model_dir(imported["distilbert"])
    student = build_student(parse_student("bert:layers=2,strategy=first"), teacher.model, len(teacher.labels),
                            len(teacher.tokenizer.vocab))
    assert student.config["hidden_act"] == "gelu" and student.config["pooler_activation"] == "relu"
    sentences = reference("distilbert")["sentences"]
    np.testing.assert_allclose(keras_logits(student.model, teacher.tokenizer, sentences),
                               keras_logits(teacher.model, teacher.tokenizer, sentences), atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_imported_models_convert_with_parity_to_pytorch(name, imported, tmp_path, default_splits):
    from edgekit.runtime.model import SignatureModel

    split_dir = tmp_path / "split"
    default_splits.save(split_dir)
    bundle = tmp_path / "bundle"
    result = CliRunner().invoke(cli, ["convert", str(imported[name]), "--split-dir", str(split_dir), "--out",
                                      str(bundle), "--modes", "fp32,dynamic_int8", "--buckets", "16,32",
                                      "--no-metadata"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((bundle / "manifest.json").read_text())
    for mode in ("fp32", "dynamic_int8"):
        assert manifest["modes"][mode]["parity"]["passed"], manifest["modes"][mode]["parity"]
    # the exact GELU exports as the builtin GELU op: builtin ops only
    from edgekit.converters.inspect import inspect_target

    ops = inspect_target(str(bundle / manifest["modes"]["fp32"]["file"]), None)[0]["op_histogram"]
    assert "GELU" in ops and not [op for op in ops if "FLEX" in op.upper() or "CUSTOM" in op.upper()], ops
    # the fp32 file against PyTorch, each sentence padded to the 32 bucket
    from edgekit.models.modeldir import load_model_dir

    tokenizer = load_model_dir(imported[name]).tokenizer
    ref = reference(name)
    runner = SignatureModel(bundle / manifest["modes"]["fp32"]["file"], ["seq32"])
    for text, logits in zip(ref["sentences"], ref["logits"]):
        enc = tokenizer.encode(text, max_length=32)
        assert not enc.truncated
        out = runner.run("seq32", np.array(enc.ids, np.int32), np.array(enc.mask, np.int32),
                         np.array(enc.segment_ids, np.int32))
        np.testing.assert_allclose(out, logits, atol=TOLERANCE, rtol=0)


# ------------------------------------------------------------------------------ bad inputs
def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / name, tmp_path / f"src-{name}"))


def _edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def _roberta(tmp_path):
    src = _copy("bert", tmp_path)
    _edit_config(src, model_type="roberta", architectures=["RobertaForSequenceClassification"])
    return src, [], "RobertaForSequenceClassification (roberta) is not supported"


def _pickle_only(tmp_path):
    src = _copy("bert", tmp_path)
    (src / "model.safetensors").unlink()
    (src / "pytorch_model.bin").write_bytes(b"\x80\x04 not to be unpickled")
    return src, [], "only pytorch_model.bin: edgekit import reads model.safetensors only and never unpickles"


def _no_vocab(tmp_path):
    src = _copy("bert", tmp_path)
    (src / "vocab.txt").unlink()
    (src / "tokenizer.json").unlink()
    return src, [], "no vocab.txt or tokenizer.json"


def _bpe_tokenizer(tmp_path):
    src = _copy("bert_legacy", tmp_path)  # tokenizer.json only
    tok = json.loads((src / "tokenizer.json").read_text())
    tok["model"] = {"type": "BPE", "vocab": {"a": 0}, "merges": []}
    (src / "tokenizer.json").write_text(json.dumps(tok))
    return src, [], "tokenizer.json holds a BPE tokenizer"


def _wrong_width(tmp_path):
    src = _copy("bert", tmp_path)
    _edit_config(src, intermediate_size=128)
    return src, [], "encoder.layer.0.intermediate.dense.weight has shape [64, 32] but config.json implies [128, 32]"


def _more_layers_than_config(tmp_path):
    src = _copy("distilbert", tmp_path)
    _edit_config(src, n_layers=1)
    return src, [], "holds tensors config.json does not account for (transformer.layer.1."


def _generic_labels(tmp_path):
    return _copy("bert_bare", tmp_path), [], "labels are generic (LABEL_0, LABEL_1, LABEL_2): name them"


def _label_count(tmp_path):
    return _copy("bert_bare", tmp_path), ["--labels", "down,up"], "--labels names 2 labels but the checkpoint has 3"


def _widened_electra(tmp_path):
    src = _copy("electra", tmp_path)
    _edit_config(src, embedding_size=64)
    return src, [], "ELECTRA with embedding_size 64 wider than hidden_size 32 is not supported"


def _multi_label(tmp_path):
    src = _copy("bert", tmp_path)
    _edit_config(src, problem_type="multi_label_classification")
    return src, [], "problem_type 'multi_label_classification' is not supported"


def _bad_hub_name(tmp_path):
    return "hf://just-a-name", [], "expected hf://ORG/NAME"


@pytest.mark.parametrize("make", [_roberta, _pickle_only, _no_vocab, _bpe_tokenizer, _wrong_width,
                                  _more_layers_than_config, _generic_labels, _label_count, _widened_electra,
                                  _multi_label, _bad_hub_name], ids=lambda f: f.__name__.strip("_"))
def test_a_bad_checkpoint_stops_with_one_line_and_writes_nothing(make, tmp_path):
    src, extra, fragment = make(tmp_path)
    out = tmp_path / "out"
    result = run_import(src, out, *extra)
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert fragment in err, err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no partial directory left


def test_an_existing_model_directory_is_kept_unless_overwrite(imported, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run_import(FIXTURES / "bert", out)
    assert result.exit_code == 2 and "exists and is not empty" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"
    assert run_import(FIXTURES / "bert", out, "--overwrite").exit_code == 0
    assert (out / "edgekit_model.json").is_file() and not (out / "keep.txt").exists()


def test_a_student_of_a_projected_electra_keeps_its_projection(imported):
    """A BERT student copies ELECTRA-small's narrow embedding and its projection: with every layer kept it
    computes the teacher's logits exactly; with one, it is a one-layer model of the same embedding."""
    from edgekit.distill.students import build_student, parse_student
    from edgekit.models.bert.model import EMBEDDING_DIM
    from edgekit.models.modeldir import load_model_dir

    teacher = load_model_dir(imported["electra_small"])
    ids, mask, seg, _ = teacher.tokenizer.encode_batch(["Profit rose 5 % in the third quarter."], 32)
    inputs = {"token_ids": ids, "padding_mask": mask, "segment_ids": seg}
    expected = np.asarray(teacher.model(inputs, training=False))
    for spec, layers in (("bert:layers=2,strategy=first", 2), ("bert:layers=1,strategy=last", 1)):
        student = build_student(parse_student(spec), teacher.model, 3, len(teacher.tokenizer.vocab))
        assert student.config["backbone"][EMBEDDING_DIM] == 16 and student.config["backbone"]["num_layers"] == layers
        got = np.asarray(student.model(inputs, training=False))
        if layers == 2:
            np.testing.assert_array_equal(got, expected)
