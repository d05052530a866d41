"""What int8 by recipe does before and after the quantizer: activation ranges chosen from observed values
(converters/ranges.py), SmoothQuant on the float file (converters/smooth.py), and the compaction of the TF
converter's int8 file (converters/compact.py): one buffer per constant, short names, one weight copy."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.converters.ranges import BINS, Observed, RangeError, calibration_ranges, range_method


def _observed(values: np.ndarray) -> Observed:
    o = Observed(values.ndim, float(values.min()), float(values.max()))
    o.counts, _ = np.histogram(values, bins=BINS, range=(o.low, o.high))
    return o


def test_range_methods_on_a_known_distribution():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(-1, 1, 100_000), [40.0]])  # one outlier far out
    o = _observed(values)
    assert range_method("minmax")(o) == (o.low, o.high)
    low, high = range_method("percentile:99.9")(o)
    # 0.05 % of values above: the outlier saturates, the uniform bulk keeps its ends (one bin of slack)
    assert -1.0 <= low < -0.95 and 0.95 < high < 1.0 + 2 * (o.high - o.low) / BINS
    assert calibration_ranges({"t": o}, "minmax")["t"]["max"].shape == (1,)


def test_mse_clips_a_long_tail_where_it_lowers_the_round_trip_error():
    from edgekit.converters.ranges import _int8_error

    o = _observed(np.random.default_rng(1).laplace(0.0, 1.0, 200_000))
    low, high = range_method("mse")(o)
    edges = o.edges()
    centers = (edges[:-1] + edges[1:]) / 2
    assert o.low < low < 0 < high < o.high  # both tails clipped...
    assert _int8_error(centers, o.counts, low, high) < 0.8 * _int8_error(centers, o.counts, o.low, o.high)  # ...for less error


@pytest.mark.parametrize("spec, fragment", [("median", "unknown range method"), ("percentile:40", "(50, 100]"),
                                            ("percentile:x", "(50, 100]"), ("minmax:3", "unknown range method")])
def test_a_bad_range_method_is_named(spec, fragment):
    with pytest.raises(RangeError, match=fragment.replace("(", r"\(").replace("]", r"\]")):
        range_method(spec)


@pytest.fixture(scope="module")
def two_dense_file(tmp_path_factory):
    """A float file with two signatures whose two dense layers read one activation (like query/key)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(3)
    x = keras.Input((8, 6))
    h = keras.layers.Dense(6, name="pre")(x)
    out = keras.layers.Concatenate()([keras.layers.Dense(4, name="query")(h), keras.layers.Dense(4, name="key")(h)])
    model = keras.Model(x, out)
    w = model.get_layer("pre").kernel
    w.assign(w.numpy() * np.array([1, 1, 1, 1, 1, 30.0], np.float32))  # one outlier channel, as in BERT

    archive = keras.export.ExportArchive()  # how edgekit exports: one endpoint per signature
    archive.track(model)
    archive.add_endpoint("a", lambda x: {"y": model(x)}, input_signature=[tf.TensorSpec([1, 8, 6], tf.float32, name="x")])
    archive.add_endpoint("b", lambda x: {"y": model(x) * 1.0},
                         input_signature=[tf.TensorSpec([1, 8, 6], tf.float32, name="x")])
    saved = str(tmp_path_factory.mktemp("two_dense"))
    archive.write_out(saved, verbose=False)
    return tf.lite.TFLiteConverter.from_saved_model(saved, signature_keys=["a", "b"]).convert(), model


def _run(model_bytes, signature, x):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_content=model_bytes).get_signature_runner(signature)(x=x)["y"]


def test_smoothing_keeps_what_the_float_file_computes(two_dense_file):
    from edgekit.converters.smooth import smooth
    from edgekit.converters.tflite_file import read_tflite

    model, _ = two_dense_file
    rng = np.random.default_rng(1)
    samples = [(sig, {"x": rng.normal(size=(1, 8, 6)).astype(np.float32)}) for sig in ("a", "b") for _ in range(4)]
    smoothed, facts = smooth(model, samples, alpha=0.5, layers="(query|key)")
    assert facts["smoothed_inputs"] == 1  # query and key read one activation: one shared smoothing
    info = read_tflite(smoothed)
    assert all(sum(op.opcode == "MUL" for op in sg.ops) == 1 for sg in info.subgraphs)
    x = rng.normal(size=(1, 8, 6)).astype(np.float32)
    for sig in ("a", "b"):
        np.testing.assert_allclose(_run(smoothed, sig, x), _run(model, sig, x), rtol=1e-5, atol=1e-5)


def test_smoothing_scales_are_the_smoothquant_formula(two_dense_file):
    """s_j = max|x_j|^α / max|W_j|^(1-α) over both layers' weight columns, computed here by hand."""
    from tensorflow.lite.tools import flatbuffer_utils

    from edgekit.converters.smooth import smooth

    model, keras_model = two_dense_file
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(1, 8, 6)).astype(np.float32) for _ in range(3)]
    smoothed, _ = smooth(model, [("a", {"x": x}) for x in xs], alpha=0.5, layers="(query|key)")
    pre = keras_model.get_layer("pre")
    h = np.concatenate([x.reshape(-1, 6) @ pre.kernel.numpy() + pre.bias.numpy() for x in xs])
    w = np.concatenate([keras_model.get_layer(n).kernel.numpy() for n in ("query", "key")], axis=1)  # [in, out]
    expected = np.sqrt(np.abs(h).max(0)) / np.sqrt(np.abs(w).max(1))
    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(smoothed))
    sg = m.subgraphs[0]
    mul = next(op for op in sg.operators if m.operatorCodes[op.opcodeIndex].builtinCode == 18)  # MUL
    inverse = np.frombuffer(bytes(m.buffers[sg.tensors[mul.inputs[1]].buffer].data), np.float32)
    np.testing.assert_allclose(1.0 / inverse, expected, rtol=1e-4)
    assert expected.max() / expected.min() > 3  # the outlier channel is the one moved into the weights


def test_short_names_and_shared_constants_change_nothing_computed(two_dense_file):
    from edgekit.converters.compact import compact, dedupe_constants
    from edgekit.converters.tflite_file import read_tflite

    model, _ = two_dense_file
    out, facts = compact(model)
    x = np.ones((1, 8, 6), np.float32)
    np.testing.assert_array_equal(_run(out, "a", x), _run(model, "a", x))
    assert all(";" not in t.name for sg in read_tflite(out).subgraphs for t in sg.tensors)
    again, merged = dedupe_constants(out)
    assert merged["merged_buffers"] == 0 and again == out  # nothing left to share: the file is unchanged


def test_the_bilstm_int8_file_stores_its_weights_once(tiny_teacher_dir, default_splits, tokenizer, tmp_path):
    """The TF converter's int8 path: shared constants get one calibrated range over the buckets, so the
    embedding table is quantized once (it was once per bucket), and names are short."""
    from edgekit.converters.convert import ConvertOptions, convert_model_dir
    from edgekit.models.modeldir import save_model_dir
    from edgekit.models.registry import get_family

    family = get_family("bilstm")
    model = family.build(family.tiny_config(len(tokenizer.vocab), 3))
    model_dir = save_model_dir(tmp_path / "bilstm", model=model, family="bilstm", config=family.config_of(model),
                               labels=list(default_splits.train.labels), vocab=tokenizer.vocab,
                               tokenizer_settings=tokenizer.settings, max_length=32)
    manifest = convert_model_dir(model_dir, tmp_path / "bundle", default_splits, ConvertOptions(
        calibration_samples=40, metadata=False, modes=["dynamic_int8", "int8"], buckets=[16, 32],
        thresholds={"int8": {"min_argmax_agreement": 0.0, "max_macro_f1_drop": 1.0}}), progress=False)
    int8, dynamic = manifest["modes"]["int8"], manifest["modes"]["dynamic_int8"]
    assert int8["weights"]["shared_fraction"] > 0.99  # all but a few shape constants
    assert int8["quantization"]["compacted"]["shortened_name_bytes"] > 0
    # one copy: the int8 file stores no more constant bytes than the dynamic-int8 one (whose buckets share
    # them). The whole file is within 1.1x on real models; in this tiny one the per-tensor quantization
    # parameters of the unrolled steps outweigh its weights.
    assert int8["weights"]["constant_bytes"] <= 1.1 * dynamic["weights"]["constant_bytes"]
