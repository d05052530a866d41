"""Quantization-aware fine-tuning: which rounding each layer gets, the roundings by hand, straight-through
gradients, the simulation switched on and off, and ``edgekit qat`` end to end on the tiny teacher."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgekit.converters.recipes import load_recipe
from edgekit.qat.fake_quant import (DYNAMIC, FLOAT, STATIC, calibrated, fake_quant_dynamic, fake_quant_static, fake_quant_weight,
                                    fake_quantized, input_axes, plan_schemes, scheme_of)


def test_each_layer_gets_the_rounding_its_last_matching_rule_gives():
    rules = load_recipe("int8_small_bc").rules
    assert scheme_of("transformer_layer_0/self_attention_layer/query", rules) == STATIC
    assert scheme_of("transformer_layer_3/feedforward_output_dense", rules) == DYNAMIC
    assert scheme_of("transformer_layer_3/self_attention_layer/attention_output", rules) == DYNAMIC
    assert scheme_of("logits", rules) == STATIC
    float_after = [*rules, {"regex": "logits", "operation": "*", "algorithm_key": "no_quantize"}]
    assert scheme_of("logits", float_after) == FLOAT
    gather_only = [r for r in rules if r["operation"] == "GATHER"]
    assert scheme_of("pooled_dense", gather_only) == FLOAT


def test_input_axes_are_the_contracted_kernel_axes():
    import keras

    assert input_axes(keras.layers.Dense(4)) == (0,)
    assert input_axes(keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3))) == (0,)
    assert input_axes(keras.layers.EinsumDense("abcd,cde->abe", output_shape=(None, 4))) == (0, 1)


def test_roundings_by_hand():
    x = np.array([[-1.0, 0.0, 0.5, 3.0]], np.float32)
    scale = 4.0 / 255  # range [-1, 3]; zero point round(1 / scale) = 64
    expected = (np.clip(np.round(x / scale) + 64, 0, 255) - 64) * scale
    got = np.asarray(fake_quant_static(x))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert got[0, 1] == 0.0 and np.abs(got - x).max() <= scale / 2 + 1e-6

    rows = np.array([[0.0, 1.0, 2.0], [0.0, 100.0, 50.0]], np.float32)  # one scale per row: each row exact here
    np.testing.assert_allclose(np.asarray(fake_quant_dynamic(rows)), rows, atol=0.2)
    assert np.abs(np.asarray(fake_quant_dynamic(rows))[0] - rows[0]).max() <= 2.0 / 255 / 2 + 1e-6

    w = np.array([[1.0, -0.5], [0.3, 2.0]], np.float32)  # kernel [in, out]: channel 0 scale 1/127, channel 1 2/127
    got = np.asarray(fake_quant_weight(w, (0,)))
    expected = np.array([[1.0, round(-0.5 * 127 / 2) * 2 / 127], [round(0.3 * 127) / 127, 2.0]], np.float32)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(fake_quant_weight(w[:, :1] * 1000, (0,))), got[:, :1] * 1000, rtol=1e-6)


def test_gradients_pass_straight_through_every_rounding():
    import tensorflow as tf

    x = tf.Variable(np.linspace(-2, 3, 12, dtype=np.float32).reshape(3, 4))
    c = tf.constant(np.arange(12, dtype=np.float32).reshape(3, 4))
    for fn in (fake_quant_static, fake_quant_dynamic, lambda v: fake_quant_weight(v, (0,))):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(fn(x) * c)
        np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), c.numpy())


def test_the_simulation_changes_the_outputs_inside_its_context_only(tiny_teacher_dir, default_splits):
    from edgekit.models.modeldir import load_model_dir
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import predict_logits

    loaded = load_model_dir(tiny_teacher_dir)
    enc = encode_texts(loaded.tokenizer, default_splits.test.texts[:40], 64)
    before = predict_logits(loaded.model, enc)
    schemes = plan_schemes(loaded.model, load_recipe("int8_small_bc").rules)
    with fake_quantized(loaded.model, schemes) as patched:
        inside = predict_logits(loaded.model, enc)
    after = predict_logits(loaded.model, enc)
    assert len(patched) == sum(s.activations != FLOAT for s in schemes) > 0
    assert 0 < np.abs(inside - before).max() < 0.5 * np.abs(before).max()  # rounded, not broken
    np.testing.assert_array_equal(after, before)


def test_calibrated_ranges_are_what_the_layers_saw(tiny_teacher_dir, default_splits):
    """A static layer's ranges are the min and max over the calibration sentences: for the last layer, ``logits``,
    its output range is that of the model's logits."""
    from edgekit.models.modeldir import load_model_dir
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import predict_logits

    loaded = load_model_dir(tiny_teacher_dir)
    enc = encode_texts(loaded.tokenizer, default_splits.train.texts[:50], 64)
    schemes = calibrated(loaded.model, plan_schemes(loaded.model, load_recipe("int8_small_bc").rules), enc)
    by_path = {s.path: s for s in schemes}
    logits = predict_logits(loaded.model, enc)
    np.testing.assert_allclose(by_path["logits"].output_range, (logits.min(), logits.max()), rtol=1e-5)
    for s in schemes:
        assert (s.input_range is not None) == (s.output_range is not None) == (s.activations == STATIC)
        if s.input_range is not None:
            assert s.input_range[0] < s.input_range[1] and s.output_range[0] < s.output_range[1]
    np.testing.assert_array_equal(predict_logits(loaded.model, enc), logits)  # the recording is gone


def _qat(*args: str):
    from edgekit.cli import cli

    return CliRunner().invoke(cli, ["qat", *args])


def test_cli_fine_tunes_through_the_rounding_and_writes_a_plain_model_dir(tmp_path, tiny_teacher_dir):
    from edgekit.models.modeldir import load_model_dir

    out = tmp_path / "qat"
    r = _qat(str(tiny_teacher_dir), "--out", str(out), "--epochs", "1", "--lr", "1e-3",
             "--cache-dir", str(tmp_path / "cache"))
    assert r.exit_code == 0, r.output
    assert "quantization-aware fine-tuning → " in r.output and "simulated int8 agreement" in r.output
    loaded, source = load_model_dir(out), load_model_dir(tiny_teacher_dir)
    assert loaded.meta["role"] == "qat" and loaded.meta["qat_from"] == str(tiny_teacher_dir)
    assert [w.shape for w in loaded.model.get_weights()] == [w.shape for w in source.model.get_weights()]
    assert any(not np.array_equal(a, b) for a, b in zip(loaded.model.get_weights(), source.model.get_weights()))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["recipe"]["name"] == "int8_dyn_rows" and metrics["schemes"]["static"] > 0
    assert len(metrics["history"]["epochs"]) == 1
    for part in ("validation", "test"):
        assert 0 <= metrics["simulated_int8"][part]["agreement_with_source_float"] <= 1


@pytest.mark.parametrize("recipe, match", [
    ("no_such_recipe", "not a recipe name"),
    ("{nothing}", "quantizes none of the model's dense layers"),
])
def test_bad_recipes_are_one_line_errors(tmp_path, tiny_teacher_dir, recipe, match):
    if recipe == "{nothing}":
        path = tmp_path / "float.json"
        path.write_text(json.dumps({"rules": [{"regex": ".*", "operation": "*", "algorithm_key": "no_quantize"}]}))
        recipe = str(path)
    r = _qat(str(tiny_teacher_dir), "--out", str(tmp_path / "out"), "--recipe", recipe, "--epochs", "1")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and match in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
