"""``edgekit export hf``: model directories → Hugging Face folders, checked by importing them back.

The round trip runs without torch: ``edgekit import`` of the exported folder must rebuild the model (same
config, labels, tokenizer, logits within 1e-5), and an imported checkpoint must export to exactly the
tensors it came with. Where torch and transformers run (this interpreter or $EDGEKIT_TORCH_PYTHON;
not in CI), transformers loads each exported folder and its logits are compared with Keras's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgekit.cli import cli
from edgekit.hf.parity import unavailable

FIXTURES = Path(__file__).parent / "fixtures" / "hf"
CHECKPOINTS = ["bert", "bert_bare", "bert_legacy", "distilbert", "electra", "electra_small"]
LABELS = {"bert_bare": "negative,neutral,positive"}
ROUND_TRIP = 1e-5
LIVE_SKIP = unavailable()
SENTENCES = json.loads((FIXTURES / "bert" / "reference.json").read_text())["sentences"] + [
    "Operating profit totalled EUR 9.4 mn , down from EUR 11.7 mn in 2004 .",
    "$AAPL new highs after earnings, guidance raised for the next quarter",
]


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def keras_logits(loaded, sentences=SENTENCES) -> np.ndarray:
    ids, mask, seg, _ = loaded.tokenizer.encode_batch(sentences, 64)
    return np.asarray(loaded.model({"token_ids": ids, "padding_mask": mask, "segment_ids": seg}, training=False))


def round_trip(model_dir: Path, root: Path) -> tuple[Path, Path]:
    hf, back = root / "hf", root / "back"
    result = invoke("export", "hf", model_dir, "--out", hf)
    assert result.exit_code == 0, result.output
    result = invoke("import", hf, "--out", back, "--no-parity")
    assert result.exit_code == 0, result.output
    return hf, back


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("imported")
    for name in CHECKPOINTS:
        labels = ["--labels", LABELS[name]] if name in LABELS else []
        result = invoke("import", FIXTURES / name, "--out", root / name, "--no-parity", *labels)
        assert result.exit_code == 0, result.output
    return {name: root / name for name in CHECKPOINTS}


@pytest.fixture(scope="module")
def student_dir(tiny_teacher_dir, tmp_path_factory) -> Path:
    """A one-layer BERT student of the tiny teacher (its top layer, pooler and head)."""
    from edgekit.distill.students import build_student, parse_student
    from edgekit.models.modeldir import load_model_dir, save_model_dir

    teacher = load_model_dir(tiny_teacher_dir)
    student = build_student(parse_student("bert:layers=1,strategy=last"), teacher.model, len(teacher.labels),
                            len(teacher.tokenizer.vocab))
    return save_model_dir(tmp_path_factory.mktemp("student") / "student", model=student.model, family="bert",
                          config=student.config, labels=teacher.labels, vocab=teacher.tokenizer.vocab,
                          tokenizer_settings=teacher.tokenizer.settings, max_length=teacher.max_length,
                          extra_meta={"role": "student"})


@pytest.fixture(scope="module")
def model_dirs(imported, tiny_teacher_dir, student_dir) -> dict[str, Path]:
    return {"teacher": tiny_teacher_dir, "student": student_dir, **imported}


@pytest.mark.parametrize("name", ["teacher", "student", *CHECKPOINTS])
def test_import_of_the_export_rebuilds_the_model(name, model_dirs, tmp_path):
    from edgekit.models.modeldir import load_model_dir
    from edgekit.models.registry import get_family

    original = load_model_dir(model_dirs[name])
    _, back = round_trip(model_dirs[name], tmp_path)
    again = load_model_dir(back)
    family = get_family("bert")
    assert family.config_of(again.model) == family.config_of(original.model)  # sizes, dropouts, activations
    assert again.labels == original.labels and again.max_length == original.max_length
    assert again.tokenizer.vocab == original.tokenizer.vocab
    assert again.tokenizer.settings == original.tokenizer.settings
    np.testing.assert_allclose(keras_logits(again), keras_logits(original), atol=ROUND_TRIP, rtol=0)


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_an_imported_checkpoint_exports_to_the_tensors_it_came_with(name, imported, tmp_path):
    """The import mapping read backwards: every tensor comes back bit for bit (under current names)."""
    from safetensors.numpy import load_file

    from edgekit.hf.architectures import find_architecture
    from edgekit.hf.checkpoint import Checkpoint

    hf = tmp_path / "hf"
    assert invoke("export", "hf", imported[name], "--out", hf).exit_code == 0
    original_config = json.loads((FIXTURES / name / "config.json").read_text())
    config = json.loads((hf / "config.json").read_text())
    assert config["architectures"] == original_config["architectures"]
    prefix = find_architecture(config).prefix
    exported = load_file(str(hf / "model.safetensors"))
    original = Checkpoint.read(FIXTURES / name / "model.safetensors", prefix).tensors
    assert Checkpoint(exported, prefix, "exported").tensors.keys() == original.keys()
    for key, value in Checkpoint(exported, prefix, "exported").tensors.items():
        np.testing.assert_array_equal(value, original[key], err_msg=key)
    if name == "bert":  # current names: the backbone under its prefix, the head without
        assert "bert.pooler.dense.weight" in exported and "classifier.weight" in exported
        for key in ("hidden_size", "num_hidden_layers", "intermediate_size", "hidden_act", "type_vocab_size",
                    "id2label", "label2id", "vocab_size", "max_position_embeddings", "layer_norm_eps"):
            assert config[key] == original_config[key], key


def test_the_exported_folder_names_the_models_gelu_labels_and_tokenizer(model_dirs, tmp_path):
    from edgekit.models.modeldir import read_meta

    hf = tmp_path / "hf"
    assert invoke("export", "hf", model_dirs["teacher"], "--out", hf).exit_code == 0
    meta = read_meta(model_dirs["teacher"])
    config = json.loads((hf / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"]
    assert config["hidden_act"] == "gelu_pytorch_tanh"  # keras-hub's tanh GELU, which the teacher trained with
    assert config["id2label"] == {str(i): label for i, label in enumerate(meta["labels"])}
    assert config["label2id"] == {label: i for i, label in enumerate(meta["labels"])}
    tokenizer = json.loads((hf / "tokenizer_config.json").read_text())
    assert tokenizer["do_lower_case"] is meta["tokenizer"]["lower_case"]
    assert tokenizer["model_max_length"] == meta["max_length"]
    assert json.loads((hf / "special_tokens_map.json").read_text())["cls_token"] == "[CLS]"
    assert (hf / "vocab.txt").read_text() == (model_dirs["teacher"] / "vocab.txt").read_text()
    assert sorted(p.name for p in hf.iterdir()) == ["config.json", "model.safetensors", "special_tokens_map.json",
                                                    "tokenizer_config.json", "vocab.txt"]


def test_a_distilbert_segment_row_moves_into_the_positions(imported, tmp_path):
    """DistilBERT has no token types: a trained segment-0 row (a student's) is carried by the position table."""
    from edgekit.models.modeldir import load_model_dir, save_model_dir

    loaded = load_model_dir(imported["distilbert"])
    segments = loaded.model.backbone.get_layer("segment_embedding").embeddings
    table = np.zeros(segments.shape, np.float32)
    table[0] = np.random.default_rng(0).normal(0, 0.2, segments.shape[1])
    segments.assign(table)
    moved = save_model_dir(tmp_path / "moved", model=loaded.model, family="bert", config=loaded.meta["config"],
                           labels=loaded.labels, vocab=loaded.tokenizer.vocab,
                           tokenizer_settings=loaded.tokenizer.settings, max_length=loaded.max_length)
    expected = keras_logits(load_model_dir(moved))
    # the row matters: without it the logits are another model's
    assert np.abs(expected - keras_logits(load_model_dir(imported["distilbert"]))).max() > 10 * ROUND_TRIP
    _, back = round_trip(moved, tmp_path)
    again = load_model_dir(back)
    assert not again.model.backbone.get_layer("segment_embedding").embeddings.numpy().any()
    np.testing.assert_allclose(keras_logits(again), expected, atol=ROUND_TRIP, rtol=0)


# ------------------------------------------------------------------------------ refusals
def _bilstm_dir(tmp_path: Path, tokenizer) -> Path:
    from edgekit.models.modeldir import save_model_dir
    from edgekit.models.registry import get_family

    family = get_family("bilstm")
    model = family.build(family.tiny_config(len(tokenizer.vocab), 3))
    return save_model_dir(tmp_path / "bilstm", model=model, family="bilstm", config=family.config_of(model),
                          labels=["negative", "neutral", "positive"], vocab=tokenizer.vocab,
                          tokenizer_settings=tokenizer.settings, max_length=32)


def _with_tokenizer_setting(model_dir: Path, tmp_path: Path, **settings) -> Path:
    import shutil

    copy = Path(shutil.copytree(model_dir, tmp_path / "edited"))
    meta = json.loads((copy / "edgekit_model.json").read_text())
    meta["tokenizer"].update(settings)
    (copy / "edgekit_model.json").write_text(json.dumps(meta))
    return copy


def _projected_bert_dir(tmp_path: Path, tokenizer) -> Path:
    """A tanh-pooler BERT with an embedding narrower than its layers: BertForSequenceClassification has no
    projection to hold it."""
    from edgekit.models.bert.model import EMBEDDING_DIM
    from edgekit.models.modeldir import save_model_dir
    from edgekit.models.registry import get_family

    family = get_family("bert")
    config = family.tiny_config(len(tokenizer.vocab), 3)
    config["backbone"][EMBEDDING_DIM] = 8
    model = family.build(config)
    assert family.config_of(model)["backbone"] == config["backbone"]
    return save_model_dir(tmp_path / "projected", model=model, family="bert", config=config,
                          labels=["negative", "neutral", "positive"], vocab=tokenizer.vocab,
                          tokenizer_settings=tokenizer.settings, max_length=32)


@pytest.mark.parametrize("case", ["bilstm", "not_a_model_dir", "clean_text", "subword_prefix", "projected_bert"])
def test_what_cannot_be_exported_stops_with_one_line_and_writes_nothing(case, tmp_path, tokenizer, imported):
    source, fragment = {
        "bilstm": (lambda: _bilstm_dir(tmp_path, tokenizer), "is a bilstm model: export hf takes BERT-family"),
        "not_a_model_dir": (lambda: tmp_path, "is not an edgekit model directory"),
        "clean_text": (lambda: _with_tokenizer_setting(imported["bert"], tmp_path, clean_text=False),
                       "tokenizer setting clean_text=False has no Hugging Face BertTokenizer equivalent"),
        "subword_prefix": (lambda: _with_tokenizer_setting(imported["bert"], tmp_path, continuing_subword_prefix="@@"),
                           "tokenizer setting continuing_subword_prefix='@@' has no Hugging Face"),
        "projected_bert": (lambda: _projected_bert_dir(tmp_path, tokenizer),
                           "BertForSequenceClassification has no embedding projection"),
    }[case]
    out = tmp_path / "out" / "hf"
    result = invoke("export", "hf", source(), "--out", out)
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and fragment in err, err
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_is_kept_unless_overwrite(imported, tmp_path):
    out = tmp_path / "hf"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = invoke("export", "hf", imported["bert"], "--out", out)
    assert result.exit_code == 2 and "exists and is not empty (pass --overwrite" in result.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert invoke("export", "hf", imported["bert"], "--out", out, "--overwrite").exit_code == 0
    assert (out / "model.safetensors").is_file() and not (out / "keep.txt").exists()


# ------------------------------------------------------------------------------ with torch
@pytest.mark.skipif(LIVE_SKIP is not None, reason=f"PyTorch side unavailable: {LIVE_SKIP}")
@pytest.mark.parametrize("name", ["teacher", "student", *CHECKPOINTS])
def test_transformers_loads_the_export_and_computes_the_keras_logits(name, model_dirs, tmp_path):
    """AutoModelForSequenceClassification (and AutoTokenizer) on the exported folder, in the torch Python."""
    from edgekit.hf.parity import check_parity
    from edgekit.models.modeldir import load_model_dir

    hf = tmp_path / "hf"
    assert invoke("export", "hf", model_dirs[name], "--out", hf).exit_code == 0
    loaded = load_model_dir(model_dirs[name])
    figures = check_parity(hf, loaded.model, loaded.tokenizer, SENTENCES, loaded.max_length)
    assert figures["max_abs_logit_diff"] <= 1e-4 and figures["argmax_agreement"] == 1.0, figures
    assert figures["tokenizer_agreement"] == 1.0, figures
