"""Every registered model family, through every room: build → a training step → save → convert fp32 → parity.

A new family registered in edgekit/models/registry.py is picked up here without editing this file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgekit.models.registry import ModelFamily, family_names, get_family

FAMILIES = family_names()


def test_the_registry_knows_the_builtin_families_and_fails_cleanly_on_others():
    from edgekit.errors import EdgekitError

    assert {"bert", "bilstm"} <= set(FAMILIES)
    with pytest.raises(EdgekitError, match="unknown model family 'gpt'; known: bert, bilstm"):
        get_family("gpt")


@pytest.mark.parametrize("name", FAMILIES)
def test_a_family_declares_every_hook_consistently(name):
    from edgekit.converters.exporters import Exporter
    from edgekit.distill.losses import make_recipe
    from edgekit.train.loop import TrainConfig

    family = get_family(name)
    assert isinstance(family, ModelFamily) and family.name == name and family.title
    assert isinstance(family.exporter, Exporter) and family.exporter.family == name
    TrainConfig(**family.train_defaults)  # every default is a training setting
    assert set(family.sweep_grid) == {"temperature", "alpha"} and all(family.sweep_grid.values())
    if family.is_student:
        assert family.student_help.startswith(name)
        # the loss `edgekit run` uses reads only what the family exposes
        assert make_recipe(family.run_loss, 0.5, 2.0).student_needs <= family.features


def _tiny_data(tokenizer, splits, length: int = 32):
    from edgekit.train.encode import encode_texts

    labels = list(splits.train.labels)
    train = splits.train.head(64)
    return (labels, encode_texts(tokenizer, train.texts, length), np.asarray(train.label_ids, np.int32),
            encode_texts(tokenizer, splits.validation.texts, length),
            np.asarray(splits.validation.label_ids, np.int32))


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_builds_trains_converts_and_passes_parity(name, tmp_path, tokenizer, default_splits):
    import keras

    from edgekit.cli import cli
    from edgekit.models.modeldir import load_model_dir, save_model_dir
    from edgekit.train.loop import TrainConfig, fit

    family = get_family(name)
    labels, x, y, xv, yv = _tiny_data(tokenizer, default_splits)
    keras.utils.set_random_seed(0)
    model = family.build(family.tiny_config(len(tokenizer.vocab), len(labels)))
    before = [w.copy() for w in model.get_weights()]
    fit(model, x, y, xv, yv, labels, TrainConfig(epochs=1, batch_size=16, learning_rate=1e-3, max_length=32),
        progress=False)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "a training step changed nothing"

    model_dir = save_model_dir(tmp_path / "model", model=model, family=name, config=family.config_of(model),
                               labels=labels, vocab=tokenizer.vocab, tokenizer_settings=tokenizer.settings,
                               max_length=32)
    reloaded = load_model_dir(model_dir)
    assert reloaded.family == name and family.config_of(reloaded.model) == family.config_of(model)

    split_dir = tmp_path / "split"
    default_splits.save(split_dir)
    bundle = tmp_path / "bundle"
    result = CliRunner().invoke(cli, ["convert", str(model_dir), "--split-dir", str(split_dir), "--out", str(bundle),
                                      "--modes", "fp32", "--buckets", "16,32", "--no-metadata"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["model"]["family"] == name
    parity = manifest["modes"]["fp32"]["parity"]
    assert parity["passed"] and parity["argmax_agreement"] == 1.0 and parity["max_abs_logit_error"] < 1e-4


@pytest.mark.parametrize("name", family_names(students_only=True))
def test_every_student_family_is_built_from_a_teacher_and_exposes_its_features(name, tiny_teacher_dir):
    import keras

    from edgekit.distill.features import feature_forward
    from edgekit.distill.students import build_student, parse_student
    from edgekit.models.modeldir import load_model_dir

    teacher = load_model_dir(tiny_teacher_dir)
    teacher_family = get_family(teacher.family)
    spec = parse_student(get_family(name).smoke_student)
    student = build_student(spec, teacher.model, len(teacher.labels), len(teacher.tokenizer.vocab))
    assert student.family == name
    family = get_family(name)
    x = {"token_ids": keras.ops.convert_to_tensor(np.array([[101, 2000, 2001, 102, 0, 0]], np.int32)),
         "padding_mask": keras.ops.convert_to_tensor(np.array([[1, 1, 1, 1, 0, 0]], np.int32)),
         "segment_ids": keras.ops.zeros((1, 6), "int32")}
    out = feature_forward(student.model, name, family.features, teacher_width=teacher_family.width(teacher.model))
    result = out(x, training=False)
    assert set(result) == set(family.features)
    np.testing.assert_allclose(np.asarray(result["logits"]), np.asarray(student.model(x, training=False)), atol=1e-5)
