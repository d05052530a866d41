"""Teacher fine-tuning: a tiny random BERT for speed, and one short real MiniLM fine-tune."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import TINY_BACKBONE


def test_tiny_teacher_learns_and_writes_a_complete_model_dir(tiny_teacher_dir, default_splits):
    names = {p.name for p in tiny_teacher_dir.iterdir()}
    assert {"edgekit_model.json", "model.weights.h5", "vocab.txt", "labels.txt", "metrics.json",
            "training_curves.png"} <= names
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    metrics = json.loads((tiny_teacher_dir / "metrics.json").read_text())
    hist = metrics["history"]
    assert len(hist["epochs"]) >= 2
    best = max(e["val_macro_f1"] for e in hist["epochs"])
    assert hist["best_val_macro_f1"] == pytest.approx(best)
    test = metrics["test"]
    assert test["macro_f1"] > 0.5, test  # chance on the 3 balanced classes is ~0.33; measured 0.61 on the tweets
    assert set(test["per_class"]) == {"negative", "neutral", "positive"}
    assert np.asarray(test["confusion_matrix"]).sum() == len(default_splits.test)
    assert metrics["data"]["sha256"]["test"] == default_splits.test.sha256
    assert (tiny_teacher_dir / "labels.txt").read_text().split() == ["negative", "neutral", "positive"]


def test_weights_file_holds_model_weights_only(tiny_teacher_dir):
    import h5py

    meta = json.loads((tiny_teacher_dir / "edgekit_model.json").read_text())
    with h5py.File(tiny_teacher_dir / "model.weights.h5") as f:
        names = []
        f.visit(names.append)
    assert not any("optimizer" in n for n in names)
    assert meta["params"] < 2_200_000


def test_reloaded_model_gives_the_same_logits_and_best_epoch_f1(tiny_teacher_dir, default_splits):
    from edgekit.models.modeldir import load_model_dir
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import evaluate, predict_logits

    loaded = load_model_dir(tiny_teacher_dir)
    metrics = json.loads((tiny_teacher_dir / "metrics.json").read_text())
    val = default_splits.validation
    enc = encode_texts(loaded.tokenizer, val.texts, loaded.max_length)
    report = evaluate(loaded.model, enc, np.asarray(val.label_ids), loaded.labels)
    assert report["macro_f1"] == pytest.approx(metrics["history"]["best_val_macro_f1"])
    # trimming batches to a length bucket must not change the logits of the full-length model
    full = loaded.model.predict(enc.inputs(slice(0, 8)), verbose=0)
    np.testing.assert_allclose(predict_logits(loaded.model, enc)[:8], full, atol=1e-4)


def test_balanced_class_weights():
    from edgekit.train.loop import balanced_class_weights

    w = balanced_class_weights(np.array([0, 0, 0, 1]), 3)
    np.testing.assert_allclose(w, [4 / 9, 4 / 3, 0.0])


def test_offline_hub_id_is_one_clear_error(monkeypatch):
    from edgekit.errors import ModelLoadError
    from edgekit.models.backbones import resolve_backbone

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="cannot download 'google-bert/bert-base-uncased'"):
        resolve_backbone("hf://google-bert/bert-base-uncased")


def test_local_hf_directory_and_default_resolve_to_the_same_files():
    from edgekit.models.backbones import minilm_dir, resolve_backbone

    default = resolve_backbone("default")
    local = resolve_backbone(str(minilm_dir()))
    assert default.preset == local.preset and default.vocab_path.endswith("vocab.txt")
    assert resolve_backbone(TINY_BACKBONE).random_config["hidden"] == 64


@pytest.mark.slow
def test_short_minilm_finetune_beats_majority_baseline(minilm_teacher):
    """Real pretrained MiniLM on a small FPB subset: clearly better than always 'neutral'."""
    model_dir, small = minilm_teacher
    test = json.loads((model_dir / "metrics.json").read_text())["test"]
    counts = small.test.counts()
    majority_acc = max(counts.values()) / sum(counts.values())
    majority_f1 = (2 * majority_acc / (1 + majority_acc)) / 3  # F1 of the majority class, 0 for the others
    assert test["n"] == len(small.test) == 240
    assert test["accuracy"] > majority_acc + 0.1, (test["accuracy"], majority_acc)
    assert test["macro_f1"] > majority_f1 + 0.25, (test["macro_f1"], majority_f1)
